"""Bad input gets a precise 4xx and leaves nothing behind: no row, no bytes."""

from __future__ import annotations

import io
import zipfile

import pytest

from tests.storage.conftest import Storage, open_storage, pdf_bytes


async def assert_refused(storage: Storage, response_status: int, expected: int) -> None:
    assert response_status == expected
    assert await storage.rows() == 0
    assert storage.keys() == []


@pytest.mark.parametrize(
    ("name", "content", "content_type", "reason"),
    [
        ("Báo cáo.docx", pdf_bytes(), None, "type-mismatch"),
        ("ảnh.png", pdf_bytes(), "image/png", "type-mismatch"),
        ("rỗng.pdf", b"", "application/pdf", "empty"),
        ("chương trình.exe", b"MZ\x90\x00" + bytes(5000), None, "unknown-type"),
        ("tên\u202egnp.pdf", pdf_bytes(), None, "bad-name"),
        ("a\x07b.pdf", pdf_bytes(), None, "bad-name"),
        ("ư" * 256 + ".pdf", pdf_bytes(), None, "bad-name"),
    ],
)
async def test_refused_files(
    storage: Storage, name: str, content: bytes, content_type: str | None, reason: str
) -> None:
    response = await storage.upload(name, content, content_type)
    body = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert body["reason"] == reason, body
    assert body["detail"]  # a sentence in Vietnamese for the clerk
    await assert_refused(storage, response.status_code, 422)


async def test_zip_bomb_is_refused(storage: Storage) -> None:
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("zeros.bin", "w") as entry,
    ):
        chunk = bytes(1 << 20)
        for _ in range(200):
            entry.write(chunk)
    response = await storage.upload("hồ sơ.zip", buffer.getvalue(), "application/zip")
    assert response.json()["reason"] == "zip-bomb"
    await assert_refused(storage, response.status_code, 422)


async def test_path_traversal_in_zip_is_refused(storage: Storage) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../../etc/cron.d/x", "* * * * * root true")
    response = await storage.upload("hồ sơ.zip", buffer.getvalue())
    assert response.json()["reason"] == "path-traversal"
    await assert_refused(storage, response.status_code, 422)


async def test_xml_with_entities_is_refused(storage: Storage) -> None:
    document = (
        b'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY a SYSTEM "file:///etc/passwd">]><x>&a;</x>'
    )
    response = await storage.upload("gói tin.xml", document, "application/xml")
    assert response.json()["reason"] == "xml-entities"
    await assert_refused(storage, response.status_code, 422)


async def test_file_over_the_limit_is_refused_while_streaming(docs_token: str) -> None:
    async for storage in open_storage(docs_token, max_object_bytes=1 << 20):

        async def body():  # type: ignore[no-untyped-def]
            data = pdf_bytes(3 << 20)
            for start in range(0, len(data), 65536):
                yield data[start : start + 65536]

        # No Content-Length (chunked): the limit is found while streaming.
        response = await storage.upload("lớn.pdf", body())
        assert response.json()["code"] == "file-too-large"
        await assert_refused(storage, response.status_code, 413)

        # With Content-Length: refused before a byte is stored.
        announced = await storage.upload("lớn.pdf", pdf_bytes(2 << 20))
        await assert_refused(storage, announced.status_code, 413)


async def test_quota_is_enforced_and_reported(storage: Storage, keycloak) -> None:  # type: ignore[no-untyped-def]
    operator = {"Authorization": f"Bearer {keycloak.token('vanhanh')}"}
    quota = await storage.client.put(
        f"/api/v1/tenants/{storage.tenant}/quota", json={"quota_bytes": 150_000}, headers=operator
    )
    assert quota.status_code == 200, quota.text
    assert (await storage.upload("a.pdf", pdf_bytes(100_000))).status_code == 201

    over = await storage.upload("b.pdf", pdf_bytes(100_000, seed=9))
    assert over.status_code == 413
    assert over.json()["code"] == "quota-exceeded"
    assert await storage.rows() == 1

    # Usage as the tenant sees it (the service account acts for the tenant here).
    usage = (await storage.client.get("/api/v1/usage", headers=storage.headers())).json()
    assert usage == {
        "tenant_id": str(storage.tenant),
        "bytes": 100_000,
        "objects": 1,
        "quota_bytes": 150_000,
    }


async def test_quota_is_for_operators_only(storage: Storage, keycloak) -> None:  # type: ignore[no-untyped-def]
    clerk = {"Authorization": f"Bearer {keycloak.token('vanthu')}"}
    response = await storage.client.put(
        f"/api/v1/tenants/{storage.tenant}/quota", json={"quota_bytes": 1}, headers=clerk
    )
    assert response.status_code == 403


async def test_missing_name_is_a_problem(storage: Storage) -> None:
    response = await storage.client.post(
        "/api/v1/objects", content=pdf_bytes(), headers=storage.headers()
    )
    assert response.status_code == 400
    assert await storage.rows() == 0
