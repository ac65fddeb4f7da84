"""The audit chain: appended in the business transaction, tamper-evident, append-only."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text, update

from services.common.auth.principal import Principal
from services.common.db import Database
from services.docs.audit.chain import append, verify
from services.docs.tables import audit_entry

CLERK = Principal(subject=str(uuid.uuid4()), username="vanthu", name="Nguyễn Thị Văn Thư")


@pytest.fixture
async def app_db() -> AsyncIterator[Database]:
    db = Database.from_url(os.environ["QLVB_DOCS_DATABASE_URL"], pool_size=10)
    yield db
    await db.dispose()


@pytest.fixture
async def owner_db() -> AsyncIterator[Database]:
    # The migration owner stands in for anyone with more rights than the service (a DBA).
    db = Database.from_url(os.environ["QLVB_DOCS_MIGRATION_DATABASE_URL"], pool_size=1)
    yield db
    await db.dispose()


async def chain_of(db: Database, tenant: uuid.UUID, length: int) -> None:
    for index in range(length):
        async with db.transaction(tenant) as conn:
            await append(
                conn,
                tenant,
                CLERK,
                "document.registered",
                "document",
                uuid.uuid4(),
                {"số đến": index + 1, "trích yếu": "Về việc báo cáo"},
            )


async def test_an_intact_chain_verifies(app_db: Database) -> None:
    tenant = uuid.uuid4()
    await chain_of(app_db, tenant, 5)
    async with app_db.transaction(tenant, read_only=True) as conn:
        report = await verify(conn, tenant)
    assert (report.entries, report.intact) == (5, True)


async def test_concurrent_appends_form_one_chain(app_db: Database) -> None:
    tenant = uuid.uuid4()
    await asyncio.gather(*(chain_of(app_db, tenant, 1) for _ in range(20)))
    async with app_db.transaction(tenant, read_only=True) as conn:
        report = await verify(conn, tenant)
    assert (report.entries, report.intact) == (20, True)


async def test_an_edited_entry_is_the_first_broken_link(
    app_db: Database, owner_db: Database
) -> None:
    tenant = uuid.uuid4()
    await chain_of(app_db, tenant, 6)
    async with owner_db.transaction(tenant) as conn:
        await conn.execute(
            update(audit_entry)
            .where(audit_entry.c.tenant_id == tenant, audit_entry.c.seq == 4)
            .values(actor_name="Người khác")
        )
    async with app_db.transaction(tenant, read_only=True) as conn:
        report = await verify(conn, tenant)
    assert (report.intact, report.first_broken_seq) == (False, 4)
    assert "hash" in report.reason


async def test_removed_entries_are_detected(app_db: Database, owner_db: Database) -> None:
    tenant = uuid.uuid4()
    await chain_of(app_db, tenant, 6)
    async with owner_db.transaction(tenant) as conn:
        await conn.execute(text("DELETE FROM docs.audit_entry WHERE seq IN (3, 6)"))
    async with app_db.transaction(tenant, read_only=True) as conn:
        report = await verify(conn, tenant)
    assert (report.intact, report.first_broken_seq) == (False, 3)


async def test_the_tail_removed_is_detected(app_db: Database, owner_db: Database) -> None:
    tenant = uuid.uuid4()
    await chain_of(app_db, tenant, 4)
    async with owner_db.transaction(tenant) as conn:
        await conn.execute(text("DELETE FROM docs.audit_entry WHERE seq = 4"))
    async with app_db.transaction(tenant, read_only=True) as conn:
        report = await verify(conn, tenant)
    assert (report.intact, report.first_broken_seq) == (False, 4)


async def test_the_service_role_cannot_edit_or_delete_entries(app_db: Database) -> None:
    tenant = uuid.uuid4()
    await chain_of(app_db, tenant, 1)
    for statement in (
        "UPDATE docs.audit_entry SET action = 'x'",
        "DELETE FROM docs.audit_entry",
    ):
        with pytest.raises(Exception, match="permission denied"):
            async with app_db.transaction(tenant) as conn:
                await conn.execute(text(statement))
