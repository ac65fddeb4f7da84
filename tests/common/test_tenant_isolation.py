"""Row-level security as the services' app role sees it: the database, not the code, keeps
tenants apart."""

from __future__ import annotations

import os
import uuid
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import DBAPIError

from services.common.db import Database
from services.identity.tables import department

TenantFactory = Callable[[], Awaitable[uuid.UUID]]


async def add_departments(db: Database, tenant: uuid.UUID, count: int) -> None:
    async with db.transaction(tenant) as conn:
        for i in range(count):
            await conn.execute(
                insert(department).values(
                    tenant_id=tenant, id=uuid.uuid4(), name=f"Phòng {i}", short_name=f"P{i}"
                )
            )


async def visible(db: Database, tenant: uuid.UUID | None) -> set[uuid.UUID]:
    async with db.transaction(tenant, read_only=True) as conn:
        rows = await conn.execute(select(department.c.tenant_id))
        return {r.tenant_id for r in rows}


async def test_app_role_cannot_bypass_row_level_security(identity_db: Database) -> None:
    async with identity_db.transaction(None) as conn:
        row = (
            await conn.execute(
                text("SELECT rolbypassrls, rolsuper FROM pg_roles WHERE rolname = current_user")
            )
        ).one()
    assert (row.rolbypassrls, row.rolsuper) == (False, False)


async def test_query_without_tenant_sees_no_tenant_rows(
    identity_db: Database, tenant: uuid.UUID
) -> None:
    await add_departments(identity_db, tenant, 2)
    assert await visible(identity_db, None) == set()


async def test_tenant_sees_only_its_own_rows(
    identity_db: Database, tenant: uuid.UUID, new_tenant: TenantFactory
) -> None:
    other = await new_tenant()
    await add_departments(identity_db, tenant, 2)
    await add_departments(identity_db, other, 3)
    assert await visible(identity_db, tenant) == {tenant}
    assert await visible(identity_db, other) == {other}


async def test_pooled_connection_forgets_previous_tenant(new_tenant: TenantFactory) -> None:
    # One connection in the pool: every transaction below reuses it.
    db = Database.from_url(os.environ["QLVB_IDENTITY_DATABASE_URL"], pool_size=1)
    db.engine.pool._max_overflow = 0  # type: ignore[attr-defined]
    try:
        a = await new_tenant()
        b = await new_tenant()
        await add_departments(db, b, 2)
        await add_departments(db, a, 1)
        async with db.transaction(b) as conn:
            pid_b = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        assert await visible(db, a) == {a}
        assert await visible(db, None) == set()
        async with db.transaction(None) as conn:
            pid_after = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            setting = (
                await conn.execute(text("SELECT current_setting('app.tenant_id', true)"))
            ).scalar_one()
        assert pid_after == pid_b
        assert setting in ("", None)
    finally:
        await db.dispose()


async def test_writing_a_row_for_another_tenant_is_refused(
    identity_db: Database, tenant: uuid.UUID, new_tenant: TenantFactory
) -> None:
    other = await new_tenant()
    with pytest.raises(DBAPIError, match="row-level security"):
        async with identity_db.transaction(tenant) as conn:
            await conn.execute(
                insert(department).values(
                    tenant_id=other, id=uuid.uuid4(), name="X", short_name="X"
                )
            )
    async with identity_db.transaction(other, read_only=True) as conn:
        count = (await conn.execute(select(func.count()).select_from(department))).scalar_one()
    assert count == 0


async def test_failed_transaction_rolls_back_and_connection_is_reusable(
    identity_db: Database, tenant: uuid.UUID
) -> None:
    with pytest.raises(DBAPIError):
        async with identity_db.transaction(tenant) as conn:
            await conn.execute(
                insert(department).values(
                    tenant_id=tenant, id=uuid.uuid4(), name="A", short_name="A"
                )
            )
            await conn.execute(text("SELECT 1/0"))
    assert await visible(identity_db, tenant) == set()
