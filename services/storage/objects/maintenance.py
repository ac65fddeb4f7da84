"""Cross-tenant upkeep of stored files: sweeping abandoned uploads, purging soft-deleted files,
scrubbing (re-hashing) stored bytes, and usage figures for metrics.

These run in the worker as the service's relay role, the one role allowed past row-level
security (granted only what these jobs touch); request handlers never do."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import func, select, update

from services.common.db import Database
from services.common.outbox import publish
from services.storage.objects import records
from services.storage.objects.s3 import ObjectStore
from services.storage.objects.service import ObjectService
from services.storage.settings import StorageSettings
from services.storage.tables import discarded_key, outbox, stored_object, tenant_usage

logger = logging.getLogger("qlvb.storage.maintenance")

BATCH = 500


async def _remove_rows(maintenance: Database, store: ObjectStore, rows: list[Any]) -> int:
    removed = 0
    for row in rows:
        # Bytes before the row: if this stops halfway, the row is still there to find again.
        await store.remove(row.bucket, row.key)
        async with maintenance.transaction(None) as conn:
            await records.delete_row(conn, row.tenant_id, row.id)
        removed += 1
    return removed


async def sweep_pending(
    maintenance: Database, store: ObjectStore, settings: StorageSettings, *, now: dt.datetime
) -> int:
    """Uploads that never committed within the pending time-to-live: bytes and row go."""
    cutoff = now - dt.timedelta(seconds=settings.pending_ttl_seconds)
    async with maintenance.transaction(None, read_only=True) as conn:
        rows = list(
            await conn.execute(
                select(stored_object)
                .where(stored_object.c.state == records.PENDING)
                .where(stored_object.c.created_at < cutoff)
                .order_by(stored_object.c.created_at)
                .limit(BATCH)
            )
        )
    removed = await _remove_rows(maintenance, store, rows)
    async with maintenance.transaction(None, read_only=True) as conn:
        keys = list(await conn.execute(select(discarded_key).limit(BATCH)))
    for key in keys:
        await store.remove(key.bucket, key.key)
        async with maintenance.transaction(None) as conn:
            await conn.execute(
                discarded_key.delete().where(
                    discarded_key.c.tenant_id == key.tenant_id,
                    discarded_key.c.bucket == key.bucket,
                    discarded_key.c.key == key.key,
                )
            )
    if removed or keys:
        logger.info("swept abandoned uploads", extra={"rows": removed, "discarded_keys": len(keys)})
    return removed + len(keys)


async def purge_deleted(
    maintenance: Database, store: ObjectStore, settings: StorageSettings, *, now: dt.datetime
) -> int:
    """Soft-deleted files past the grace period, unless under retention."""
    cutoff = now - dt.timedelta(days=settings.soft_delete_days)
    async with maintenance.transaction(None, read_only=True) as conn:
        rows = list(
            await conn.execute(
                select(stored_object)
                .where(stored_object.c.state == records.DELETED)
                .where(stored_object.c.deleted_at < cutoff)
                .where(stored_object.c.locked_until.is_(None))
                .order_by(stored_object.c.deleted_at)
                .limit(BATCH)
            )
        )
    return await _remove_rows(maintenance, store, rows)


async def scrub(
    maintenance: Database, store: ObjectStore, settings: StorageSettings
) -> tuple[int, int]:
    """Re-hash the least recently verified files; (checked, corrupt)."""
    async with maintenance.transaction(None, read_only=True) as conn:
        rows = list(
            await conn.execute(
                select(stored_object)
                .where(stored_object.c.state == records.COMMITTED)
                .order_by(stored_object.c.verified_at.asc().nulls_first())
                .limit(settings.scrub_batch)
            )
        )
    checker = ObjectService(maintenance, store, settings)
    corrupt = 0
    for row in rows:
        intact = await checker.hash_of(row) == row.sha256
        async with maintenance.transaction(None) as conn:
            await conn.execute(
                update(stored_object)
                .where(stored_object.c.tenant_id == row.tenant_id, stored_object.c.id == row.id)
                .values(verified_at=func.now(), corrupt=not intact)
            )
            if not intact and not row.corrupt:
                await publish(
                    conn,
                    outbox,
                    row.tenant_id,
                    "storage.object.corrupt",
                    {"object_id": str(row.id)},
                )
        if not intact:
            corrupt += 1
            logger.error(
                "scrub found a corrupt object",
                extra={"tenant_id": str(row.tenant_id), "object_id": str(row.id)},
            )
    return len(rows), corrupt


async def usage_by_tenant(maintenance: Database) -> dict[str, tuple[int, int]]:
    async with maintenance.transaction(None, read_only=True) as conn:
        rows = await conn.execute(
            select(tenant_usage.c.tenant_id, tenant_usage.c.bytes, tenant_usage.c.objects)
        )
        return {str(r.tenant_id): (int(r.bytes), int(r.objects)) for r in rows}
