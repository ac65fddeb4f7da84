"""Object rows and tenant usage in PostgreSQL; every function runs in the caller's transaction."""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from typing import Any

from sqlalchemy import Select, bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.auth.principal import Principal
from services.common.outbox import publish
from services.common.problems import NotFound
from services.storage.objects.schemas import StoredObject
from services.storage.tables import discarded_key, outbox, stored_object, tenant_usage

COMMITTED = "committed"
PENDING = "pending"
DELETED = "deleted"


def not_found(object_id: uuid.UUID) -> NotFound:
    # The same answer for "another agency's" and "never existed": ids cannot be probed.
    return NotFound(f"Không tìm thấy tệp {object_id}.", f"No file {object_id}.")


def view(row: Any) -> StoredObject:
    return StoredObject(
        id=row.id,
        file_name=row.file_name,
        kind=row.kind or "",
        content_type=row.content_type or "",
        size=row.size or 0,
        sha256=row.sha256 or "",
        state=row.state,
        uploaded_by=row.uploaded_by,
        uploaded_by_name=row.uploaded_by_name,
        created_at=row.created_at,
        committed_at=row.committed_at,
        deleted_at=row.deleted_at,
        locked_until=row.locked_until,
        verified_at=row.verified_at,
        corrupt=row.corrupt,
    )


async def insert_pending(
    conn: AsyncConnection,
    *,
    tenant_id: uuid.UUID,
    object_id: uuid.UUID,
    file_name: str,
    bucket: str,
    key: str,
    principal: Principal,
) -> None:
    await conn.execute(
        insert(stored_object).values(
            tenant_id=tenant_id,
            id=object_id,
            state=PENDING,
            file_name=file_name,
            bucket=bucket,
            key=key,
            uploaded_by=principal.subject,
            uploaded_by_name=principal.name or principal.username,
        )
    )


async def mark_committed(
    conn: AsyncConnection,
    *,
    tenant_id: uuid.UUID,
    object_id: uuid.UUID,
    size: int,
    sha256: str,
    kind: str,
    content_type: str,
) -> StoredObject:
    row = (
        await conn.execute(
            update(stored_object)
            .where(
                stored_object.c.tenant_id == tenant_id,
                stored_object.c.id == object_id,
                stored_object.c.state == PENDING,
            )
            .values(
                state=COMMITTED,
                size=size,
                sha256=sha256,
                kind=kind,
                content_type=content_type,
                committed_at=func.now(),
                verified_at=func.now(),
            )
            .returning(*stored_object.c)
        )
    ).one_or_none()
    if row is None:
        # The sweeper removed it: the upload outlived the pending time-to-live.
        raise not_found(object_id)
    await add_usage(conn, tenant_id, size, 1)
    await publish(
        conn,
        outbox,
        tenant_id,
        "storage.object.committed",
        {"object_id": str(object_id), "size": size, "sha256": sha256, "kind": kind},
    )
    return view(row)


async def add_usage(conn: AsyncConnection, tenant_id: uuid.UUID, size: int, count: int) -> None:
    statement = pg_insert(tenant_usage).values(tenant_id=tenant_id, bytes=size, objects=count)
    await conn.execute(
        statement.on_conflict_do_update(
            index_elements=[tenant_usage.c.tenant_id],
            set_={
                "bytes": tenant_usage.c.bytes + size,
                "objects": tenant_usage.c.objects + count,
            },
        )
    )


async def delete_row(conn: AsyncConnection, tenant_id: uuid.UUID, object_id: uuid.UUID) -> None:
    await conn.execute(
        stored_object.delete().where(
            stored_object.c.tenant_id == tenant_id, stored_object.c.id == object_id
        )
    )


async def record_discarded(
    conn: AsyncConnection, tenant_id: uuid.UUID, bucket: str, key: str
) -> None:
    statement = pg_insert(discarded_key).values(tenant_id=tenant_id, bucket=bucket, key=key)
    await conn.execute(statement.on_conflict_do_nothing())


@functools.cache
def _fetch_statement(states: tuple[str, ...], for_update: bool) -> Select[Any]:
    # Built once per kind: every download reads one row, and building the statement and its
    # cache key each time cost more than the query itself.
    statement = select(stored_object).where(
        stored_object.c.tenant_id == bindparam("tenant_id"),
        stored_object.c.id == bindparam("object_id"),
        stored_object.c.state.in_(states),
    )
    return statement.with_for_update() if for_update else statement


async def fetch(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    object_id: uuid.UUID,
    *,
    states: tuple[str, ...] = (COMMITTED,),
    for_update: bool = False,
) -> Any:
    row = (
        await conn.execute(
            _fetch_statement(states, for_update), {"tenant_id": tenant_id, "object_id": object_id}
        )
    ).one_or_none()
    if row is None:
        raise not_found(object_id)
    return row


async def usage(
    conn: AsyncConnection, tenant_id: uuid.UUID, default_quota: int
) -> tuple[int, int, int]:
    """(bytes, objects, quota) of the tenant."""
    row = (
        await conn.execute(select(tenant_usage).where(tenant_usage.c.tenant_id == tenant_id))
    ).one_or_none()
    if row is None:
        return 0, 0, default_quota
    quota = row.quota_bytes if row.quota_bytes is not None else default_quota
    return int(row.bytes), int(row.objects), int(quota)


async def set_quota(conn: AsyncConnection, tenant_id: uuid.UUID, quota_bytes: int) -> None:
    statement = pg_insert(tenant_usage).values(tenant_id=tenant_id, quota_bytes=quota_bytes)
    await conn.execute(
        statement.on_conflict_do_update(
            index_elements=[tenant_usage.c.tenant_id], set_={"quota_bytes": quota_bytes}
        )
    )


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
