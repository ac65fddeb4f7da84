"""Faults between the database and the file store leave nothing half-written."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import AsyncIterator

from sqlalchemy import text

from services.common.db import Database
from services.storage.objects import maintenance
from services.storage.objects.s3 import ObjectStore
from tests.servers import find_server, kill, restart
from tests.storage.conftest import Storage, pdf_bytes

CHUNK = 1 << 16


async def chunks(data: bytes, halfway: object) -> AsyncIterator[bytes]:
    """The body in pieces; `halfway()` runs once half of it has been sent."""
    for start in range(0, len(data), CHUNK):
        if start >= len(data) // 2 and callable(halfway):
            halfway()
            halfway = None
        yield data[start : start + CHUNK]


async def test_s3_server_dies_during_upload(storage: Storage) -> None:
    port = int(os.environ["QLVB_S3_ENDPOINT"].rsplit(":", 1)[1])
    server = find_server("minio", f"127.0.0.1:{port}")
    try:
        response = await storage.upload(
            "Tờ trình.pdf", chunks(pdf_bytes(6 << 20), lambda: kill(server, port))
        )
    finally:
        restart(server, port)
    assert response.status_code == 503
    assert response.json()["code"] == "dependency-unavailable"
    assert await storage.rows() == 0

    # Whatever reached the store before it died is found and removed by the sweeper.
    maintenance_db = Database.from_url(storage.settings.relay_database_url, pool_size=1)
    try:
        await maintenance.sweep_pending(
            maintenance_db, ObjectStore(storage.settings), storage.settings, now=_later(storage)
        )
    finally:
        await maintenance_db.dispose()
    assert storage.keys() == []
    assert (await storage.upload("sau sự cố.pdf", pdf_bytes())).status_code == 201


async def test_database_lost_after_the_bytes_are_written(storage: Storage) -> None:
    async def cut_connections() -> None:
        # The app role may end its own sessions: every pooled connection of the service dies,
        # as when PostgreSQL restarts, between the bytes being stored and the commit.
        async with storage.db.transaction(None) as conn:
            await conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = 'qlvb-storage' AND pid <> pg_backend_pid()"
                )
            )

    data = pdf_bytes(1 << 20)
    cut = False

    async def body() -> AsyncIterator[bytes]:
        nonlocal cut
        for start in range(0, len(data), CHUNK):
            yield data[start : start + CHUNK]
        await cut_connections()
        cut = True

    response = await storage.upload("Báo cáo.pdf", body())
    assert cut
    assert response.status_code == 503, response.text
    # Left behind, exactly as designed: the pending row and its bytes.
    assert await storage.rows() == 1
    assert len(storage.keys()) == 1

    maintenance_db = Database.from_url(storage.settings.relay_database_url, pool_size=1)
    try:
        store = ObjectStore(storage.settings)
        # Before the time-to-live the upload may still be committing: it is left alone.
        now = dt.datetime.now(dt.UTC)
        assert (
            await maintenance.sweep_pending(maintenance_db, store, storage.settings, now=now) == 0
        )
        swept = await maintenance.sweep_pending(
            maintenance_db, store, storage.settings, now=_later(storage)
        )
    finally:
        await maintenance_db.dispose()
    assert swept >= 1
    assert await storage.rows() == 0
    assert storage.keys() == []


def _later(storage: Storage) -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(seconds=storage.settings.pending_ttl_seconds + 1)
