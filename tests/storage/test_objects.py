"""Upload, download, ranges, links, deletion and tenancy of stored files, on the real MinIO and
PostgreSQL of the local stack."""

from __future__ import annotations

import io
import urllib.parse
import uuid
import zipfile

import httpx

from tests.storage.conftest import Storage, pdf_bytes, sha256

NAME = "Công văn số 15/UBND-VP về việc báo cáo.pdf"
STORED_NAME = "UBND-VP về việc báo cáo.pdf"  # the last path component is the name


async def test_upload_records_hash_size_and_sniffed_type(storage: Storage) -> None:
    data = pdf_bytes(300_000)
    response = await storage.upload(NAME, data, "application/pdf")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["sha256"] == sha256(data)
    assert body["size"] == len(data)
    assert body["kind"] == "pdf"
    assert body["content_type"] == "application/pdf"
    assert body["file_name"] == STORED_NAME
    assert body["state"] == "committed"
    assert storage.keys() == [f"{storage.tenant}/{body['id']}"]

    metadata = await storage.client.get(f"/api/v1/objects/{body['id']}", headers=storage.headers())
    assert metadata.json()["sha256"] == sha256(data)


async def test_download_streams_the_bytes_with_the_vietnamese_name(storage: Storage) -> None:
    data = pdf_bytes(2_500_000, seed=2)
    created = (await storage.upload("Tờ trình.pdf", data)).json()
    response = await storage.client.get(
        f"/api/v1/objects/{created['id']}/content", headers=storage.headers()
    )
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-length"] == str(len(data))
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["x-content-sha256"] == sha256(data)
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="To trinh.pdf"')
    encoded = disposition.split("filename*=UTF-8''", 1)[1]
    assert urllib.parse.unquote(encoded) == "Tờ trình.pdf"


async def test_ranges(storage: Storage) -> None:
    data = pdf_bytes(100_000, seed=3)
    object_id = (await storage.upload("a.pdf", data)).json()["id"]
    url = f"/api/v1/objects/{object_id}/content"

    middle = await storage.client.get(url, headers=storage.headers(Range="bytes=100-199"))
    assert middle.status_code == 206
    assert middle.content == data[100:200]
    assert middle.headers["content-range"] == f"bytes 100-199/{len(data)}"

    tail = await storage.client.get(url, headers=storage.headers(Range="bytes=-10"))
    assert tail.content == data[-10:]

    beyond = await storage.client.get(url, headers=storage.headers(Range="bytes=100000-"))
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == f"bytes */{len(data)}"
    assert beyond.headers["content-type"].startswith("application/problem+json")


async def test_presigned_link_serves_the_file_directly(storage: Storage) -> None:
    data = pdf_bytes(10_000, seed=4)
    object_id = (await storage.upload("Quyết định.pdf", data)).json()["id"]
    link = await storage.client.get(f"/api/v1/objects/{object_id}/link", headers=storage.headers())
    assert link.status_code == 200
    async with httpx.AsyncClient() as browser:
        fetched = await browser.get(link.json()["url"])
    assert fetched.status_code == 200
    assert fetched.content == data
    assert "Quy%E1%BA%BFt%20%C4%91%E1%BB%8Bnh.pdf" in fetched.headers["content-disposition"]


async def test_another_agency_gets_404_not_403(storage: Storage) -> None:
    object_id = (await storage.upload("a.pdf", pdf_bytes())).json()["id"]
    stranger = uuid.uuid4()
    for path in ("", "/content", "/link"):
        response = await storage.client.get(
            f"/api/v1/objects/{object_id}{path}", headers=storage.headers(stranger)
        )
        assert response.status_code == 404, path
    deleted = await storage.client.delete(
        f"/api/v1/objects/{object_id}", headers=storage.headers(stranger)
    )
    assert deleted.status_code == 404


async def test_office_file_labelled_as_zip_is_accepted_as_what_it_is(storage: Storage) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    response = await storage.upload("Báo cáo.docx", buffer.getvalue(), "application/zip")
    assert response.status_code == 201, response.text
    assert response.json()["kind"] == "docx"


async def test_soft_delete_then_restore(storage: Storage) -> None:
    data = pdf_bytes(1000)
    object_id = (await storage.upload("a.pdf", data)).json()["id"]
    usage_before = (await storage.client.get("/api/v1/usage", headers=storage.headers())).json()

    deleted = await storage.client.delete(f"/api/v1/objects/{object_id}", headers=storage.headers())
    assert deleted.status_code == 200
    assert deleted.json()["state"] == "deleted"
    gone = await storage.client.get(f"/api/v1/objects/{object_id}", headers=storage.headers())
    assert gone.status_code == 404
    assert storage.keys() != []  # soft: the bytes are still there

    restored = await storage.client.post(
        f"/api/v1/objects/{object_id}/restore", headers=storage.headers()
    )
    assert restored.status_code == 200
    content = await storage.client.get(
        f"/api/v1/objects/{object_id}/content", headers=storage.headers()
    )
    assert content.content == data
    usage_after = (await storage.client.get("/api/v1/usage", headers=storage.headers())).json()
    assert usage_after == usage_before
