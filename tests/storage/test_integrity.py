"""Retention (object lock) and integrity checks of stored files."""

from __future__ import annotations

import datetime as dt
import io

import httpx
import pytest
from litestar.exceptions import LitestarException
from minio.error import S3Error

from services.common.db import Database
from services.storage.objects import maintenance
from services.storage.objects.errors import Corrupt
from services.storage.objects.s3 import ObjectStore
from tests.storage.conftest import Storage, pdf_bytes, sha256


def tomorrow() -> str:
    return (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=2)).isoformat()


async def test_locked_file_cannot_be_deleted_by_anyone(storage: Storage) -> None:
    data = pdf_bytes(20_000, seed=11)
    object_id = (await storage.upload("Quyết định ban hành.pdf", data)).json()["id"]
    locked = await storage.client.post(
        f"/api/v1/objects/{object_id}/lock",
        json={"retain_until": tomorrow()},
        headers=storage.headers(),
    )
    assert locked.status_code == 200, locked.text
    assert locked.json()["locked_until"].startswith(tomorrow())

    refused = await storage.client.delete(f"/api/v1/objects/{object_id}", headers=storage.headers())
    assert refused.status_code == 409
    assert refused.json()["code"] == "object-locked"

    # Not even the S3 root account can remove or overwrite the locked version.
    key = f"{storage.tenant}/{object_id}"
    bucket = storage.settings.locked_bucket
    version = storage.s3.stat_object(bucket, key).version_id
    with pytest.raises(S3Error):
        storage.s3.remove_object(bucket, key, version_id=version)
    assert storage.s3.stat_object(bucket, key, version_id=version).size == len(data)
    assert storage.keys() == []  # the unlocked original is gone from the ordinary bucket

    content = await storage.client.get(
        f"/api/v1/objects/{object_id}/content", headers=storage.headers()
    )
    assert content.content == data


async def test_people_other_than_clerks_cannot_lock(storage: Storage, keycloak) -> None:  # type: ignore[no-untyped-def]
    token = keycloak.token("chuyenvien")
    specialist = {"Authorization": f"Bearer {token}"}
    object_id = (await storage.upload("a.pdf", pdf_bytes())).json()["id"]
    response = await storage.client.post(
        f"/api/v1/objects/{object_id}/lock", json={"retain_until": tomorrow()}, headers=specialist
    )
    # The specialist's own agency does not hold this object: 404 before any role question.
    assert response.status_code in (403, 404)


async def test_lock_date_in_the_past_is_refused(storage: Storage) -> None:
    object_id = (await storage.upload("a.pdf", pdf_bytes())).json()["id"]
    response = await storage.client.post(
        f"/api/v1/objects/{object_id}/lock",
        json={"retain_until": "2020-01-01"},
        headers=storage.headers(),
    )
    assert response.status_code == 400
    malformed = await storage.client.post(
        f"/api/v1/objects/{object_id}/lock",
        json={"retain_until": "mai"},
        headers=storage.headers(),
    )
    assert malformed.status_code == 400


async def test_altered_bytes_are_detected(storage: Storage) -> None:
    data = pdf_bytes(70_000, seed=12)
    object_id = (await storage.upload("Hợp đồng.pdf", data)).json()["id"]
    verified = await storage.client.post(
        f"/api/v1/objects/{object_id}/verify", headers=storage.headers()
    )
    assert verified.json()["intact"] is True

    # Someone with access to the bucket changes one byte behind the service's back.
    altered = bytearray(data)
    altered[5000] ^= 0xFF
    key = f"{storage.tenant}/{object_id}"
    storage.s3.put_object(storage.settings.bucket, key, io.BytesIO(altered), len(altered))

    checked = await storage.client.post(
        f"/api/v1/objects/{object_id}/verify", headers=storage.headers()
    )
    assert checked.json() == {
        "id": object_id,
        "sha256_recorded": sha256(data),
        "sha256_actual": sha256(bytes(altered)),
        "intact": False,
    }
    metadata = await storage.client.get(f"/api/v1/objects/{object_id}", headers=storage.headers())
    assert metadata.json()["corrupt"] is True

    # A verified read (signing, exchange) never completes with the altered bytes: the stream
    # is cut (in-process the app's error surfaces; over HTTP the connection is aborted).
    try:
        response = await storage.client.get(
            f"/api/v1/objects/{object_id}/content",
            params={"verify": "true"},
            headers=storage.headers(),
        )
    except (httpx.HTTPError, Corrupt, LitestarException):
        served_in_full = False
    else:
        served_in_full = response.content == bytes(altered)
    assert not served_in_full


async def test_scrub_finds_altered_and_missing_bytes(storage: Storage) -> None:
    first = (await storage.upload("a.pdf", pdf_bytes(10_000, seed=13))).json()["id"]
    second = (await storage.upload("b.pdf", pdf_bytes(10_000, seed=14))).json()["id"]
    storage.s3.put_object(
        storage.settings.bucket, f"{storage.tenant}/{first}", io.BytesIO(b"%PDF-x"), 6
    )
    storage.s3.remove_object(storage.settings.bucket, f"{storage.tenant}/{second}")

    maintenance_db = Database.from_url(storage.settings.relay_database_url, pool_size=1)
    store = ObjectStore(storage.settings)
    try:
        # Until both were checked: other tests' files may be older in the verification order.
        for _ in range(50):
            await maintenance.scrub(maintenance_db, store, storage.settings)
            states = [
                (
                    await storage.client.get(f"/api/v1/objects/{o}", headers=storage.headers())
                ).json()["corrupt"]
                for o in (first, second)
            ]
            if all(states):
                break
    finally:
        await maintenance_db.dispose()
    assert states == [True, True]
