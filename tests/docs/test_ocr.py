"""A scanned paper document becomes searchable: OCR with Tesseract's Vietnamese data writes a
derived PDF and its text; the original file is not touched."""

from __future__ import annotations

import io
import os
import uuid

import httpx
from PIL import Image, ImageDraw, ImageFont

from services.common.auth.service_tokens import ServiceTokens
from services.common.db import Database
from services.docs.files.ocr import ocr_document
from services.docs.files.storage_client import StorageClient
from services.docs.settings import load as load_docs
from services.storage.app import create_app as create_storage
from tests.docs.conftest import UBND_TINH, Docs
from tests.docs.test_incoming_workflow import paper
from tests.storage.conftest import storage_settings

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"
LINES = [
    "ỦY BAN NHÂN DÂN TỈNH PHÚ THỌ",
    "Về việc triển khai chuyển đổi số",
    "trong cơ quan nhà nước năm 2026",
]


def scanned_pdf() -> bytes:
    """A page as a scanner makes it: an image at 200 dpi, no text layer."""
    page = Image.new("L", (1654, 1100), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(FONT, 46)
    for index, line in enumerate(LINES):
        draw.text((120, 150 + index * 110), line, fill=0, font=font)
    out = io.BytesIO()
    page.save(out, "PDF", resolution=200.0)
    return out.getvalue()


async def test_a_scan_gets_a_text_layer_and_becomes_searchable(docs: Docs) -> None:
    tenant = uuid.UUID(UBND_TINH)
    settings = load_docs()
    storage_app = create_storage(storage_settings())
    storage_http = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=storage_app), base_url="http://storage.test"
    )
    keycloak_http = httpx.AsyncClient(timeout=30)
    tokens = ServiceTokens(settings.oidc, settings.client_id, settings.client_secret, keycloak_http)
    storage = StorageClient("http://storage.test", storage_http, tokens)
    db = Database.from_url(os.environ["QLVB_DOCS_DATABASE_URL"], pool_size=1)
    try:
        scan = scanned_pdf()
        uploaded = await storage_http.post(
            "/api/v1/objects",
            params={"name": "Công văn scan.pdf"},
            content=scan,
            headers={"Authorization": f"Bearer {await tokens.token()}", "X-Agency-Id": UBND_TINH},
        )
        assert uploaded.status_code == 201, uploaded.text
        stored = uploaded.json()
        marker = uuid.uuid4().hex[:8]
        created = await docs.call(
            "POST",
            "/api/v1/incoming",
            "vanthu",
            json=paper(
                f"Văn bản giấy {marker}",
                files=[
                    {k: stored[k] for k in ("sha256", "size")}
                    | {"object_id": stored["id"], "file_name": stored["file_name"]}
                ],
            ),
        )
        assert created.status_code == 201, created.text
        document_id = uuid.UUID(created.json()["id"])

        assert await ocr_document(db, storage, tenant, document_id) is True
        assert await ocr_document(db, storage, tenant, document_id) is False  # once only

        card = (await docs.call("GET", f"/api/v1/incoming/{document_id}", "vanthu")).json()
        roles = sorted(f["role"] for f in card["files"])
        assert roles == ["main", "ocr"]
        original = next(f for f in card["files"] if f["role"] == "main")
        assert original["sha256"] == stored["sha256"]  # the scan itself is unchanged
        assert card["history"][-1]["action"] == "incoming.ocr_done"

        found = await docs.call(
            "GET", "/api/v1/incoming", "vanthu", params={"q": f"chuyen doi so {marker}"}
        )
        assert [item["id"] for item in found.json()["items"]] == [str(document_id)]
    finally:
        await db.dispose()
        await storage_http.aclose()
        await keycloak_http.aclose()
        await storage_app.state["resources"].close()
