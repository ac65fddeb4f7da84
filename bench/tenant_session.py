"""bench/tenant_session: a tenant-scoped read through the kernel against raw asyncpg.

Measured: `Database.transaction(tenant, read_only=True)` and a SQLAlchemy Core select of
READ_ROWS departments (row-level security picks the tenant's rows). Baseline: the same SQL on one
raw asyncpg connection doing the least a tenant read can do, in three round trips:
`BEGIN READ ONLY; SET LOCAL app.tenant_id = ...` (one simple-protocol message), the prepared
select, `COMMIT`. For context, the conventional SQLAlchemy way: an AsyncSession on a default
engine, `session.begin()`, `SET LOCAL` as a text statement, an ORM select.

All three connect as the identity service's app role, so RLS applies as in production; each has
its own pool (the raw baseline a single connection) and runs sequentially."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped

from bench.common import (
    READ_ROWS,
    TENANT_READ,
    BenchError,
    Operation,
    Result,
    compare,
    detail,
    ensure_departments,
    first_agency,
    identity_settings,
    median,
    paired_ratio,
    plain_asyncpg_url,
    report,
    spread,
    warm_up,
)
from services.common.db import Database
from services.identity.tables import department

NAME = "tenant_session"
TARGET = 0.5
ROUNDS = 11
ROUND_OPS = 1500
ROUND_SECONDS = 0.7
WARM_UP_OPS = 300


class _Base(DeclarativeBase):
    pass


class Department(_Base):
    """An ORM mapping of the kernel's table, only for the conventional-session figure."""

    __table__ = department
    id: Mapped[uuid.UUID]
    name: Mapped[str]
    short_name: Mapped[str]
    parent_id: Mapped[uuid.UUID | None]


# The one statement all three variants run: SQLAlchemy compiles it for the kernel and the ORM
# session; the raw baseline sends the very string it compiles to.
READ = TENANT_READ


class KernelRead:
    def __init__(self, db: Database, tenant_id: uuid.UUID) -> None:
        self._db = db
        self._tenant_id = tenant_id

    async def __call__(self) -> list[uuid.UUID]:
        async with self._db.transaction(self._tenant_id, read_only=True) as conn:
            rows = (await conn.execute(READ)).all()
        return [row.id for row in rows]


class RawRead:
    def __init__(self, conn: asyncpg.Connection, tenant_id: uuid.UUID, sql: str) -> None:
        self._conn = conn
        # As the kernel renders it: from a UUID object, nothing to escape.
        self._begin = f"BEGIN READ ONLY; SET LOCAL app.tenant_id = '{uuid.UUID(str(tenant_id))}'"
        self._sql = sql

    async def __call__(self) -> list[uuid.UUID]:
        await self._conn.execute(self._begin)
        try:
            rows = await self._conn.fetch(self._sql, READ_ROWS)
        except BaseException:
            await self._conn.execute("ROLLBACK")
            raise
        await self._conn.execute("COMMIT")
        return [row["id"] for row in rows]


class SessionRead:
    def __init__(self, url: str, tenant_id: uuid.UUID) -> None:
        self.engine = create_async_engine(url, pool_size=2, max_overflow=0)
        self._set_tenant = text(f"SET LOCAL app.tenant_id = '{uuid.UUID(str(tenant_id))}'")
        self._orm_read = select(Department).order_by(department.c.short_name).limit(READ_ROWS)

    async def __call__(self) -> list[uuid.UUID]:
        async with AsyncSession(self.engine, expire_on_commit=False) as session, session.begin():
            await session.execute(self._set_tenant)
            found = (await session.scalars(self._orm_read)).all()
        return [item.id for item in found]


async def run() -> Result:
    settings = identity_settings()
    db = Database.from_url(settings.database_url, pool_size=2, application_name="qlvb-bench")
    session_read: SessionRead | None = None
    raw_conn: asyncpg.Connection | None = None
    try:
        tenant_id = await first_agency(db)
        rows_of_tenant = await ensure_departments(db, tenant_id)
        kernel_read = KernelRead(db, tenant_id)
        sql = str(READ.compile(dialect=db.engine.dialect))
        raw_conn = await asyncpg.connect(
            plain_asyncpg_url(settings.database_url),
            server_settings={"application_name": "qlvb-bench-raw"},
        )
        raw_read = RawRead(raw_conn, tenant_id, sql)
        session_read = SessionRead(settings.database_url, tenant_id)

        # All three must read the same rows, or the comparison is of different work.
        expected = await kernel_read()
        if len(expected) != READ_ROWS:
            raise BenchError(f"kernel read {len(expected)} rows, expected {READ_ROWS}")
        others: tuple[tuple[str, Operation], ...] = (
            ("raw asyncpg", raw_read),
            ("session", session_read),
        )
        for name, other in others:
            if await other() != expected:
                raise BenchError(f"{name} read different rows than the kernel")
        async with db.transaction(None, read_only=True) as conn:
            if (await conn.execute(READ)).all():
                raise BenchError("rows visible without a tenant: row-level security is off")

        for each in (kernel_read, raw_read, session_read):
            await warm_up(each, WARM_UP_OPS)

        samples = await compare(
            {"kernel": kernel_read, "raw": raw_read, "session": session_read},
            rounds=ROUNDS,
            max_ops=ROUND_OPS,
            max_seconds=ROUND_SECONDS,
        )
    finally:
        if raw_conn is not None:
            await raw_conn.close()
        if session_read is not None:
            await session_read.engine.dispose()
        await db.dispose()

    kernel, raw, session = (median(samples[k]) for k in ("kernel", "raw", "session"))
    detail(
        NAME,
        f"tenant {tenant_id} ({rows_of_tenant} departments), reading {READ_ROWS}: "
        + " ".join(sql.split()),
    )
    detail(
        NAME,
        f"{ROUNDS} rotating rounds: kernel {kernel:.0f} reads/s ({1e6 / kernel:.0f} us, "
        f"{spread(samples['kernel'])}), raw asyncpg {raw:.0f} reads/s ({1e6 / raw:.0f} us, "
        f"{spread(samples['raw'])}); kernel adds {1e6 / kernel - 1e6 / raw:.0f} us/read, "
        f"paired ratio {paired_ratio(samples['kernel'], samples['raw']):.3f}",
    )
    detail(
        NAME,
        f"context, AsyncSession + SET LOCAL + ORM select: {session:.0f} reads/s "
        f"({1e6 / session:.0f} us, {spread(samples['session'])}), "
        f"ratio to raw {session / raw:.3f}, kernel/session {kernel / session:.2f}x",
    )
    result = Result(NAME, kernel, raw, "reads/s", TARGET)
    report(result)
    return result


def main() -> None:
    asyncio.run(run())


if __name__ == "__main__":
    main()
