"""The archive package of a closed dossier: one ZIP, streamed as the response.

    hoso.pdf                 every PDF file of the dossier's documents, joined in ordinal order
    files/001-01-<name>      the original files, byte for byte (signatures stay verifiable)
    signatures/001-01-....json   the signature validation report of each PDF original
    metadata.json, metadata.xml  Phụ lục VI metadata of the dossier and each document
    manifest-sha256.txt      the SHA-256 of every other entry, as `sha256sum -c` reads it

Phụ lục VI asks for the dossier "in PDF and XML"; TT 05/2025's SIP (METS/EAD/PREMIS) is not
built here. Everything is gathered, validated and joined in a temporary directory before the
response starts, so any failure is a problem answer rather than a truncated ZIP; the ZIP itself
is then written straight into the response, never to disk. Files are fetched from the storage
service, which checks each against its recorded hash."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import io
import json
import logging
import re
import tempfile
import unicodedata
import uuid
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import msgspec
from pypdf import PageObject, PdfReader, PdfWriter
from pypdf.errors import PyPdfError
from pypdf.generic import (
    ArrayObject,
    ContentStream,
    DictionaryObject,
    NameObject,
    StreamObject,
)
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.auth.principal import Principal
from services.common.db import Database
from services.common.problems import Conflict, Forbidden, Problem
from services.docs.audit import chain
from services.docs.dossiers import metadata
from services.docs.dossiers.reading import fetch, items_statement
from services.docs.files.storage_client import StorageClient, StorageError
from services.docs.incoming.service import VIETNAM
from services.docs.outgoing.agencies import Agencies
from services.docs.outgoing.signing import current_file
from services.docs.signing.trust import TrustStore
from services.docs.signing.validation import summary_vi, validate_pdf
from services.docs.tables import (
    assignment,
    document,
    document_file,
    outgoing,
    outgoing_recipient,
)

logger = logging.getLogger("qlvb.docs.dossiers")

JOINED = "hoso.pdf"
MANIFEST = "manifest-sha256.txt"
CHUNK = 1 << 20
EXPORTABLE = ("closed", "archived")
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def safe_name(name: str) -> str:
    cleaned = _UNSAFE.sub("_", unicodedata.normalize("NFC", name)).strip(" .")
    return cleaned[:120] or "tep"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class PackedFile:
    object_id: uuid.UUID
    file_name: str
    role: str
    sha256: str
    size: int
    entry: str  # its path inside the ZIP
    local: Path
    pdf: bool = False
    pages: int | None = None
    report_entry: str | None = None
    verdict: str | None = None


@dataclass
class PackedDocument:
    ordinal: int
    kind: str
    row: Any
    files: list[PackedFile]
    assignments: list[Any] = field(default_factory=list)
    recipients: list[Any] = field(default_factory=list)


@dataclass
class Package:
    """What the ZIP will hold: entries in order, each a local file."""

    file_name: str
    directory: tempfile.TemporaryDirectory[str]
    entries: list[tuple[str, Path]]
    joined_sha256: str
    manifest_sha256: str


def _box(values: Any) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = (float(v) for v in values)
    return min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)


def _normal_appearance(annotation: DictionaryObject) -> Any:
    """The widget's normal appearance stream (a reference), or None when it shows nothing."""
    flags = int(annotation.get("/F", 0))
    if flags & (2 | 32):  # Hidden, NoView (ISO 32000-1, 12.5.3)
        return None
    appearances = annotation.get("/AP")
    if appearances is None:
        return None
    normal = appearances.get_object().get("/N")
    if normal is None:
        return None
    if not isinstance(normal.get_object(), StreamObject):  # one stream per state
        state = annotation.get("/AS")
        normal = normal.get_object().get(state) if state is not None else None
    return normal


def _stamp_widgets(page: PageObject, number: int) -> None:
    """Draw each form widget's appearance (a signature's name, image and seal) into the page
    content and drop the widget: in the joined reading copy a signature field would point at
    bytes that are no longer there, and readers would call it broken."""
    annotations = page.get("/Annots")
    if annotations is None:
        return
    kept = ArrayObject()
    stamps = []
    resources = page.get("/Resources")
    resources = resources.get_object() if resources is not None else DictionaryObject()
    page[NameObject("/Resources")] = resources
    xobjects = resources.get("/XObject")
    xobjects = xobjects.get_object() if xobjects is not None else DictionaryObject()
    resources[NameObject("/XObject")] = xobjects
    for index, reference in enumerate(annotations.get_object()):
        annotation = reference.get_object()
        if annotation.get("/Subtype") != "/Widget":
            kept.append(reference)
            continue
        normal = _normal_appearance(annotation)
        if normal is None:
            continue
        x1, y1, x2, y2 = _box(annotation["/Rect"])
        stream = normal.get_object()
        a, b, c, d, e, f = (float(v) for v in stream.get("/Matrix", (1, 0, 0, 1, 0, 0)))
        bx1, by1, bx2, by2 = _box(stream.get("/BBox", (0, 0, 0, 0)))
        corners = [(a * x + c * y + e, b * x + d * y + f) for x in (bx1, bx2) for y in (by1, by2)]
        left, right = min(x for x, _ in corners), max(x for x, _ in corners)
        bottom, top = min(y for _, y in corners), max(y for _, y in corners)
        if right - left <= 0 or top - bottom <= 0 or x2 - x1 <= 0 or y2 - y1 <= 0:
            continue  # an invisible signature
        # ISO 32000-1, 12.5.5: the transformed bounding box is mapped onto the rectangle.
        sx, sy = (x2 - x1) / (right - left), (y2 - y1) / (top - bottom)
        name = NameObject(f"/QlvbStamp{number}x{index}")
        xobjects[name] = normal
        stamps.append(
            f"q {sx:.6f} 0 0 {sy:.6f} {x1 - left * sx:.6f} {y1 - bottom * sy:.6f} cm {name} Do Q"
        )
    if kept:
        page[NameObject("/Annots")] = kept
    else:
        del page["/Annots"]
    if stamps:
        contents = page.get_contents()
        before = contents.get_data() if contents is not None else b""
        combined = ContentStream(None, None)
        combined.set_data(b"q\n" + before + b"\nQ\n" + "\n".join(stamps).encode() + b"\n")
        page.replace_contents(combined)


def _reading_copy(path: Path) -> PdfReader:
    part = PdfWriter(clone_from=PdfReader(path))
    for number, page in enumerate(part.pages):
        _stamp_widgets(page, number)
    if "/AcroForm" in part.root_object:
        del part.root_object["/AcroForm"]
    buffer = io.BytesIO()
    part.write(buffer)
    buffer.seek(0)
    return PdfReader(buffer)


def join_pdfs(parts: list[Path], target: Path) -> list[int]:
    """Join the PDFs into `target`; the page count of each part."""
    writer = PdfWriter()
    counts = []
    for part in parts:
        before = len(writer.pages)
        # Outlines of one part mean nothing in the joined copy; the signed originals are in
        # the package as they are.
        writer.append(_reading_copy(part), import_outline=False)
        counts.append(len(writer.pages) - before)
    with target.open("wb") as out:
        writer.write(out)
    return counts


def _unreadable(packed: PackedFile, ordinal: int, exc: BaseException) -> Conflict:
    return Conflict(
        f"Tệp “{packed.file_name}” của văn bản số thứ tự {ordinal} không phải PDF đọc được "
        "(hỏng hoặc được mã hóa); chưa tạo được gói hồ sơ.",
        f"File {packed.file_name!r} of document {ordinal} is not a readable PDF ({exc}).",
    )


class _Sink:
    """A write-only stream for zipfile: what it writes is taken out chunk by chunk."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def write(self, data: bytes, /) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        return None

    def close(self) -> None:
        return None

    def take(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


async def stream_zip(package: Package) -> AsyncIterator[bytes]:
    """The ZIP, as it is written; the temporary directory goes when the stream ends."""
    try:
        sink = _Sink()
        moment = dt.datetime.now(VIETNAM).timetuple()[:6]
        with zipfile.ZipFile(sink, "w") as archive:
            for name, local in package.entries:
                info = zipfile.ZipInfo(name, date_time=moment)
                # PDFs are compressed already; deflating them costs CPU for nothing.
                textual = name.endswith((".json", ".xml", ".txt"))
                info.compress_type = zipfile.ZIP_DEFLATED if textual else zipfile.ZIP_STORED
                info.file_size = local.stat().st_size
                with local.open("rb") as handle, archive.open(info, "w") as target:
                    while chunk := await asyncio.to_thread(handle.read, CHUNK):
                        target.write(chunk)
                        if data := sink.take():
                            yield data
                if data := sink.take():
                    yield data
        if data := sink.take():
            yield data
    finally:
        package.directory.cleanup()


class TrustSource(Protocol):
    """The roots an agency's signatures chain to (the operator's and the agency's own)."""

    async def trust(self, conn: AsyncConnection, tenant_id: uuid.UUID) -> TrustStore: ...


class PackageBuilder:
    def __init__(
        self,
        db: Database,
        storage: StorageClient,
        agencies: Agencies,
        trust: TrustSource,
        *,
        extra_trust: TrustStore | None = None,
        allow_fetching: bool = True,
    ) -> None:
        self.db = db
        self.storage = storage
        self.agencies = agencies
        self.trust = trust
        self.extra_trust = extra_trust or TrustStore(roots=())
        # Revocation data is fetched from the CAs when a signature embeds none.
        self.allow_fetching = allow_fetching

    async def _trust(self, conn: AsyncConnection, tenant_id: uuid.UUID) -> TrustStore:
        agency = await self.trust.trust(conn, tenant_id)
        return TrustStore(
            roots=agency.roots + self.extra_trust.roots,
            intermediates=agency.intermediates + self.extra_trust.intermediates,
        )

    async def prepare(
        self, tenant_id: uuid.UUID, principal: Principal, dossier_id: uuid.UUID
    ) -> Package:
        async with self.db.transaction(tenant_id, read_only=True) as conn:
            row = await fetch(conn, tenant_id, dossier_id)
            if row.state not in EXPORTABLE:
                raise Conflict(
                    f"Hồ sơ {row.code} chưa kết thúc (hoặc đã tiêu hủy); chỉ xuất gói nộp lưu "
                    "cho hồ sơ đã kết thúc.",
                    f"Dossier {row.code} is not closed; only closed dossiers are exported.",
                )
            documents = await self._documents(conn, tenant_id, principal, dossier_id)
            trust = await self._trust(conn, tenant_id)
        agency = await self.agencies.by_id(tenant_id)
        membership = principal.active_membership
        organ_id = agency.code if agency else (membership.agency_code if membership else "")
        organ_name = agency.name if agency else ""
        directory = tempfile.TemporaryDirectory(prefix="qlvb-dossier-")
        try:
            package = await self._build(
                Path(directory.name), row, documents, organ_id, organ_name, principal, trust
            )
        except BaseException:
            directory.cleanup()
            raise
        async with self.db.transaction(tenant_id) as conn:
            await chain.append(
                conn,
                tenant_id,
                principal,
                "dossier.exported",
                "dossier",
                dossier_id,
                {
                    "documents": len(documents),
                    "files": sum(len(d.files) for d in documents),
                    "joined_sha256": package["joined_sha256"],
                    "manifest_sha256": package["manifest_sha256"],
                },
            )
        return Package(
            file_name=f"hoso-{row.year}-{safe_name(row.code)}.zip",
            directory=directory,
            entries=package["entries"],
            joined_sha256=package["joined_sha256"],
            manifest_sha256=package["manifest_sha256"],
        )

    async def _documents(
        self,
        conn: AsyncConnection,
        tenant_id: uuid.UUID,
        principal: Principal,
        dossier_id: uuid.UUID,
    ) -> list[PackedDocument]:
        items = (await conn.execute(items_statement(tenant_id, principal, dossier_id))).all()
        if not all(i.visible for i in items):
            raise Forbidden(
                "Hồ sơ có văn bản mật mà bạn không được xem; bạn không xuất được gói hồ sơ đầy đủ.",
                "The dossier holds confidential documents you may not see.",
            )
        incoming_ids = [i.document_id for i in items if i.document_id is not None]
        outgoing_ids = [i.outgoing_id for i in items if i.outgoing_id is not None]
        incoming_rows = {
            r.id: r
            for r in await conn.execute(
                select(document).where(
                    document.c.tenant_id == tenant_id, document.c.id.in_(incoming_ids)
                )
            )
        }
        outgoing_rows = {
            r.id: r
            for r in await conn.execute(
                select(outgoing).where(
                    outgoing.c.tenant_id == tenant_id, outgoing.c.id.in_(outgoing_ids)
                )
            )
        }
        files: dict[uuid.UUID, list[Any]] = {}
        for f in await conn.execute(
            select(document_file)
            .where(
                document_file.c.tenant_id == tenant_id,
                document_file.c.document_id.in_(incoming_ids),
                # The derived OCR copy is ours, not the document: the scan is the record.
                document_file.c.role.in_(("main", "attachment")),
            )
            .order_by(document_file.c.role.desc(), document_file.c.file_name)
        ):
            files.setdefault(f.document_id, []).append(f)
        # An outgoing document's record is its current file: the last signed copy of its last
        # version (what was issued), or the version itself when nobody signed it.
        for outgoing_id in outgoing_ids:
            files[outgoing_id] = [await current_file(conn, tenant_id, outgoing_id)]
        assignments: dict[uuid.UUID, list[Any]] = {}
        for a in await conn.execute(
            select(assignment)
            .where(assignment.c.tenant_id == tenant_id, assignment.c.document_id.in_(incoming_ids))
            .order_by(assignment.c.assigned_at, assignment.c.id)
        ):
            assignments.setdefault(a.document_id, []).append(a)
        recipients: dict[uuid.UUID, list[Any]] = {}
        for r in await conn.execute(
            select(outgoing_recipient)
            .where(
                outgoing_recipient.c.tenant_id == tenant_id,
                outgoing_recipient.c.outgoing_id.in_(outgoing_ids),
            )
            .order_by(outgoing_recipient.c.code)
        ):
            recipients.setdefault(r.outgoing_id, []).append(r)

        documents = []
        for item in items:
            document_id = item.document_id or item.outgoing_id
            packed_files = []
            for index, f in enumerate(files.get(document_id, []), start=1):
                entry = f"files/{item.ordinal:03d}-{index:02d}-{safe_name(f.file_name)}"
                packed_files.append(
                    PackedFile(
                        object_id=f.object_id,
                        file_name=f.file_name,
                        role=getattr(f, "role", "main"),
                        sha256=f.sha256,
                        size=f.size,
                        entry=entry,
                        local=Path(entry),
                    )
                )
            documents.append(
                PackedDocument(
                    ordinal=item.ordinal,
                    kind="incoming"
                    if item.document_id
                    else ("internal" if item.internal else "outgoing"),
                    row=incoming_rows.get(document_id) or outgoing_rows[document_id],
                    files=packed_files,
                    assignments=assignments.get(document_id, []),
                    recipients=recipients.get(document_id, []),
                )
            )
        return documents

    async def _build(
        self,
        base: Path,
        row: Any,
        documents: list[PackedDocument],
        organ_id: str,
        organ_name: str,
        principal: Principal,
        trust: TrustStore,
    ) -> dict[str, Any]:
        tenant_id = row.tenant_id
        (base / "files").mkdir()
        (base / "signatures").mkdir()
        for doc in documents:
            for packed in doc.files:
                packed.local = base / packed.entry
                await self._download(tenant_id, doc.ordinal, packed)
                await self._validate(base, doc.ordinal, packed, trust)

        pdfs = [p for d in documents for p in d.files if p.pdf]
        joined = base / JOINED
        try:
            counts = await asyncio.to_thread(join_pdfs, [p.local for p in pdfs], joined)
        except (PyPdfError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise Conflict(
                "Không ghép được các tệp PDF của hồ sơ thành một tệp; chưa tạo được gói hồ sơ.",
                f"The dossier's PDFs could not be joined ({exc}).",
            ) from exc
        for packed, count in zip(pdfs, counts, strict=True):
            packed.pages = count
        joined_sha256 = await asyncio.to_thread(sha256_of, joined)

        code = metadata.file_code(organ_id, row)
        parts = []
        first = 1
        described = []
        for doc in documents:
            pdf_pages = [p.pages or 0 for p in doc.files if p.pdf]
            pages = sum(pdf_pages) if pdf_pages else getattr(doc.row, "pages", None)
            if pdf_pages and sum(pdf_pages):
                parts.append(
                    {
                        "DocOrdinal": doc.ordinal,
                        "FirstPage": first,
                        "LastPage": first + sum(pdf_pages) - 1,
                    }
                )
                first += sum(pdf_pages)
            if doc.kind == "incoming":
                fields = metadata.incoming_metadata(
                    code, doc.ordinal, doc.row, pages, doc.assignments
                )
            else:
                fields = metadata.outgoing_metadata(
                    code, doc.ordinal, doc.row, pages, doc.recipients, organ_id, organ_name
                )
            fields["Files"] = [
                {
                    "Path": p.entry,
                    "FileName": p.file_name,
                    "Role": p.role,
                    "Sha256": p.sha256,
                    "Size": p.size,
                    "Pages": p.pages,
                    "SignatureReport": p.report_entry,
                    "SignatureVerdict": p.verdict,
                }
                for p in doc.files
            ]
            described.append((fields, pages or 0))
        content = {
            "Package": {
                "Producer": "QLVB",
                "CreatedAt": dt.datetime.now(VIETNAM).replace(microsecond=0).isoformat(),
                "CreatedBy": principal.username,
            },
            "File": metadata.dossier_metadata(
                row, organ_id, organ_name, len(documents), sum(p for _, p in described)
            ),
            "Documents": [fields for fields, _ in described],
            "JoinedPdf": {
                "Path": JOINED,
                "Sha256": joined_sha256,
                "Pages": first - 1,
                "Parts": parts,
            },
        }
        meta_json = base / "metadata.json"
        meta_json.write_bytes(
            json.dumps(content, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"
        )
        meta_xml = base / "metadata.xml"
        meta_xml.write_bytes(metadata.to_xml(content))

        entries: list[tuple[str, Path]] = [(JOINED, joined)]
        hashes = [(JOINED, joined_sha256)]
        for name, local in (("metadata.json", meta_json), ("metadata.xml", meta_xml)):
            entries.append((name, local))
            hashes.append((name, sha256_of(local)))
        for doc in documents:
            for packed in doc.files:
                entries.append((packed.entry, packed.local))
                hashes.append((packed.entry, packed.sha256))  # checked as it was fetched
                if packed.report_entry is not None:
                    local = base / packed.report_entry
                    entries.append((packed.report_entry, local))
                    hashes.append((packed.report_entry, sha256_of(local)))
        manifest = base / MANIFEST
        manifest.write_text("".join(f"{digest}  {name}\n" for name, digest in hashes), "utf-8")
        entries.append((MANIFEST, manifest))
        return {
            "entries": entries,
            "joined_sha256": joined_sha256,
            "manifest_sha256": sha256_of(manifest),
        }

    async def _download(self, tenant_id: uuid.UUID, ordinal: int, packed: PackedFile) -> None:
        try:
            await self.storage.download(tenant_id, packed.object_id, packed.local, packed.sha256)
        except StorageError as exc:
            logger.warning(
                "dossier file unavailable",
                extra={"object_id": str(packed.object_id), "error": str(exc)},
            )
            raise Conflict(
                f"Không lấy được tệp “{packed.file_name}” của văn bản số thứ tự {ordinal} từ "
                "kho lưu trữ tệp (tệp thiếu hoặc không khớp mã băm); chưa tạo được gói hồ sơ.",
                f"File {packed.file_name!r} of document {ordinal} is missing or damaged.",
            ) from exc
        with packed.local.open("rb") as handle:
            packed.pdf = handle.read(1024).lstrip()[:5] == b"%PDF-"

    async def _validate(
        self, base: Path, ordinal: int, packed: PackedFile, trust: TrustStore
    ) -> None:
        if not packed.pdf:
            return
        data = await asyncio.to_thread(packed.local.read_bytes)
        try:
            # Without trusted roots there is nothing to validate to, nor worth a network call.
            report = await validate_pdf(
                data, trust, allow_fetching=self.allow_fetching and bool(trust.roots)
            )
        except Problem as exc:  # not a PDF after all, or an encrypted one
            raise _unreadable(packed, ordinal, exc) from exc
        name = f"signatures/{Path(packed.entry).name}.json"
        body = {
            "file": packed.entry,
            "sha256": packed.sha256,
            "summary_vi": summary_vi(report),
            "report": msgspec.to_builtins(report),
        }
        (base / name).write_bytes(
            json.dumps(body, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"
        )
        packed.report_entry = name
        packed.verdict = str(report.verdict)
