"""Database access for every service: one async engine, and transactions that carry the tenant.

Every transaction the kernel opens starts with `BEGIN; SET LOCAL app.tenant_id = '<uuid>'`, sent
as one simple-protocol message, so the tenant costs no extra round trip and can never outlive
its transaction on a pooled connection (a session-level SET could). The engine runs the driver
in autocommit mode so that SQLAlchemy does not send a BEGIN of its own; the kernel alone opens,
commits and rolls back. Row-level security policies read the setting (see `rls.py`)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import MetaData
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, create_async_engine

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def service_metadata(schema: str) -> MetaData:
    """The one MetaData of a service: its schema and the shared constraint naming convention."""
    return MetaData(schema=schema, naming_convention=NAMING_CONVENTION)


def create_engine(url: str, *, pool_size: int = 10, application_name: str = "qlvb") -> AsyncEngine:
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_recycle=1800,
        isolation_level="AUTOCOMMIT",
        connect_args={"server_settings": {"application_name": application_name}},
    )


def _begin_statement(tenant_id: uuid.UUID | None, read_only: bool) -> str:
    begin = "BEGIN READ ONLY" if read_only else "BEGIN"
    if tenant_id is None:
        return begin
    # The value is rendered from a UUID object (hex digits and dashes only): nothing to escape.
    return f"{begin}; SET LOCAL app.tenant_id = '{uuid.UUID(str(tenant_id))}'"


class Database:
    """The engine of one service and the only way its code opens a transaction."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @classmethod
    def from_url(cls, url: str, *, pool_size: int = 10, application_name: str = "qlvb") -> Database:
        return cls(create_engine(url, pool_size=pool_size, application_name=application_name))

    async def dispose(self) -> None:
        await self.engine.dispose()

    @asynccontextmanager
    async def transaction(
        self, tenant_id: uuid.UUID | None, *, read_only: bool = False
    ) -> AsyncIterator[AsyncConnection]:
        """A Core connection inside one transaction scoped to `tenant_id`.

        `None` opens a platform transaction: tables under row-level security show no rows."""
        async with self.engine.connect() as conn:
            raw = await conn.get_raw_connection()
            driver: Any = raw.driver_connection
            await driver.execute(_begin_statement(tenant_id, read_only))
            try:
                yield conn
            except BaseException:
                await _rollback(conn, driver)
                raise
            else:
                try:
                    await driver.execute("COMMIT")
                except BaseException:
                    await _rollback(conn, driver)
                    raise

    @asynccontextmanager
    async def session(
        self, tenant_id: uuid.UUID | None, *, read_only: bool = False
    ) -> AsyncIterator[AsyncSession]:
        """An ORM session inside one transaction scoped to `tenant_id`; flushed before commit."""
        async with self.transaction(tenant_id, read_only=read_only) as conn:
            session = AsyncSession(bind=conn, expire_on_commit=False, autoflush=True)
            try:
                yield session
                await session.flush()
            finally:
                await session.close()


async def switch_tenant(conn: AsyncConnection, tenant_id: uuid.UUID) -> None:
    """Act as `tenant_id` for the rest of the current transaction (ADR 0014).

    For operations that atomically touch several agencies (a merger ends memberships and writes
    audit records in each). Like the kernel's BEGIN, it is transaction-local (`set_config(...,
    true)` is `SET LOCAL`), and row-level security still checks every row."""
    await conn.exec_driver_sql(
        "SELECT set_config('app.tenant_id', $1, true)", (str(uuid.UUID(str(tenant_id))),)
    )


async def _rollback(conn: AsyncConnection, driver: Any) -> None:
    try:
        await driver.execute("ROLLBACK")
    except Exception:
        await conn.invalidate()


# Raised when the server is gone, restarting, or the connection was cut: worth a 503 and a
# retry, unlike a constraint violation or a bug.
_UNAVAILABLE: tuple[type[BaseException], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.InterfaceError,
    ConnectionError,
    TimeoutError,
    OSError,
)


def is_unavailable(exc: BaseException) -> bool:
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, _UNAVAILABLE)


class _DriverStatement:
    """A statement compiled once for the driver: its SQL and the order of its parameters."""

    def __init__(self, statement: Any, dialect: Any) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = compiled.string
        self.order = tuple(compiled.positiontup or ())
        # Values the statement carries itself (`column == constant`).
        self.constants = {
            name: bind.effective_value
            for name, bind in compiled.binds.items()
            if not bind.required and not bind.expanding
        }


_DRIVER_STATEMENTS: dict[int, tuple[Any, _DriverStatement]] = {}


def driver_call(statement: Any, values: dict[str, Any], dialect: Any) -> tuple[str, list[Any]]:
    """The SQL and the positional arguments the driver receives for `statement` with `values`:
    its named parameters (no expanding IN lists), given as the driver takes them (UUIDs, dates,
    strings, lists); constants in the statement are kept. Compiled once per statement object,
    so meant for statements built once (module-level or cached)."""
    known = _DRIVER_STATEMENTS.get(id(statement))
    if known is None or known[0] is not statement:
        known = (statement, _DriverStatement(statement, dialect))
        _DRIVER_STATEMENTS[id(statement)] = known
    prepared = known[1]
    constants = prepared.constants
    return prepared.sql, [
        values[name] if name in values else constants[name] for name in prepared.order
    ]


async def fetch_direct(conn: AsyncConnection, statement: Any, values: dict[str, Any]) -> list[Any]:
    """The rows of a statement built once (module-level or cached), run on the driver itself
    (see `driver_call`).

    For the hottest reads only: SQLAlchemy's execution context per call cost as much as the
    rest of an inbox request. The rows are the driver's records (indexable by position and
    name)."""
    sql, arguments = driver_call(statement, values, conn.dialect)
    raw = await conn.get_raw_connection()
    driver: Any = raw.driver_connection
    return list(await driver.fetch(sql, *arguments))
