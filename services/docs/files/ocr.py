"""OCR of scanned PDFs: a derived searchable PDF and its text, the original left untouched.

ocrmypdf with Tesseract's Vietnamese data (Debian packages, see devstack/versions.env) runs in a
subprocess with a time limit. Pages that already carry text are skipped, so born-digital files
cost little. A signed original stays as it is: the derived copy (whose signatures ocrmypdf may
invalidate) is a separate file with the role `ocr`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tempfile
import uuid
from pathlib import Path

from sqlalchemy import insert, select, update

from services.common.auth.principal import Principal
from services.common.db import Database
from services.docs.audit import chain
from services.docs.files.storage_client import StorageClient
from services.docs.tables import document, document_file

logger = logging.getLogger("qlvb.docs.ocr")

LANGUAGES = "vie+eng"
TIMEOUT_SECONDS = 600
TEXT_LIMIT = 1_000_000  # characters kept for search; the derived PDF holds all of it
SYSTEM = Principal(subject="qlvb-docs", username="service-account-qlvb-docs", name="Hệ thống OCR")


class OcrFailed(Exception):
    pass


async def run_ocrmypdf(source: Path, output: Path, sidecar: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        "ocrmypdf",
        "-l",
        LANGUAGES,
        "--skip-text",
        "--output-type",
        "pdf",
        "--sidecar",
        str(sidecar),
        "--quiet",
        str(source),
        str(output),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        _, stderr = await asyncio.wait_for(process.communicate(), TIMEOUT_SECONDS)
    except TimeoutError as exc:
        with contextlib.suppress(ProcessLookupError):
            process.kill()  # the one child this function started
        await process.wait()
        raise OcrFailed(f"ocrmypdf took longer than {TIMEOUT_SECONDS} s") from exc
    if process.returncode != 0:
        raise OcrFailed(f"ocrmypdf exit {process.returncode}: {stderr.decode(errors='replace')}")


async def ocr_document(
    db: Database, storage: StorageClient, tenant_id: uuid.UUID, document_id: uuid.UUID
) -> bool:
    """OCR the document's main PDF once; False when there was nothing to do."""
    async with db.transaction(tenant_id, read_only=True) as conn:
        files = (
            await conn.execute(
                select(document_file).where(
                    document_file.c.tenant_id == tenant_id,
                    document_file.c.document_id == document_id,
                )
            )
        ).all()
    if any(f.role == "ocr" for f in files):
        return False
    main = next(
        (f for f in files if f.role == "main" and f.file_name.lower().endswith(".pdf")), None
    )
    if main is None:
        return False
    with tempfile.TemporaryDirectory(prefix="qlvb-ocr-") as work:
        folder = Path(work)
        source, output, sidecar = folder / "in.pdf", folder / "out.pdf", folder / "text.txt"
        await storage.download(tenant_id, main.object_id, source, main.sha256)
        await run_ocrmypdf(source, output, sidecar)
        text = sidecar.read_text(encoding="utf-8", errors="replace")[:TEXT_LIMIT]
        stem = main.file_name.rsplit(".", 1)[0]
        derived = await storage.upload(tenant_id, output, f"{stem} (OCR).pdf", "application/pdf")
    async with db.transaction(tenant_id) as conn:
        await conn.execute(
            insert(document_file).values(
                tenant_id=tenant_id,
                document_id=document_id,
                object_id=uuid.UUID(derived["id"]),
                role="ocr",
                file_name=derived["file_name"],
                sha256=derived["sha256"],
                size=derived["size"],
            )
        )
        await conn.execute(
            update(document)
            .where(document.c.tenant_id == tenant_id, document.c.id == document_id)
            .values(ocr_text=text)
        )
        await chain.append(
            conn,
            tenant_id,
            SYSTEM,
            "incoming.ocr_done",
            "document",
            document_id,
            {"object_id": derived["id"], "characters": len(text)},
        )
    return True
