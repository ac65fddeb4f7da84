"""Arrival and issue numbers: sequential per register and year, no gaps, no duplicates."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator

import pytest

from services.common.db import Database
from services.docs.registers.numbering import format_number, next_number
from services.docs.registers.service import (
    INCOMING,
    create_register,
    ensure_defaults,
    list_registers,
)


@pytest.fixture
async def docs_db() -> AsyncIterator[Database]:
    db = Database.from_url(os.environ["QLVB_DOCS_DATABASE_URL"], pool_size=20)
    yield db
    await db.dispose()


async def test_two_hundred_concurrent_registrations_get_one_to_two_hundred(
    docs_db: Database,
) -> None:
    tenant = uuid.uuid4()
    async with docs_db.transaction(tenant) as conn:
        book = await create_register(conn, tenant, INCOMING, "Sổ đến thử", False)

    async def register_one() -> int:
        async with docs_db.transaction(tenant) as conn:
            return await next_number(conn, tenant, book.id, 2026)

    numbers = await asyncio.gather(*(register_one() for _ in range(200)))
    assert sorted(numbers) == list(range(1, 201))


async def test_a_rolled_back_registration_gives_its_number_back(docs_db: Database) -> None:
    tenant = uuid.uuid4()
    async with docs_db.transaction(tenant) as conn:
        book = await create_register(conn, tenant, INCOMING, "Sổ đến", False)
        assert await next_number(conn, tenant, book.id, 2026) == 1
    with pytest.raises(RuntimeError):
        async with docs_db.transaction(tenant) as conn:
            assert await next_number(conn, tenant, book.id, 2026) == 2
            raise RuntimeError("the registration failed after taking its number")
    async with docs_db.transaction(tenant) as conn:
        assert await next_number(conn, tenant, book.id, 2026) == 2


async def test_numbers_restart_each_year_and_per_register(docs_db: Database) -> None:
    tenant = uuid.uuid4()
    async with docs_db.transaction(tenant) as conn:
        general = await create_register(conn, tenant, INCOMING, "Sổ đến", False)
        secret = await create_register(conn, tenant, INCOMING, "Sổ đến mật", True)
        assert [await next_number(conn, tenant, general.id, 2026) for _ in range(3)] == [1, 2, 3]
        assert await next_number(conn, tenant, general.id, 2027) == 1
        assert await next_number(conn, tenant, secret.id, 2026) == 1


async def test_another_tenant_cannot_number_in_my_register(docs_db: Database) -> None:
    mine, theirs = uuid.uuid4(), uuid.uuid4()
    async with docs_db.transaction(mine) as conn:
        book = await create_register(conn, mine, INCOMING, "Sổ đến", False)
    # Row-level security hides the register: the counter's foreign key finds no such row.
    with pytest.raises(Exception, match=r"row-level security|foreign key"):
        async with docs_db.transaction(theirs) as conn:
            await next_number(conn, mine, book.id, 2026)


async def test_defaults_are_created_once(docs_db: Database) -> None:
    tenant = uuid.uuid4()
    async with docs_db.transaction(tenant) as conn:
        await ensure_defaults(conn, tenant)
        await ensure_defaults(conn, tenant)
        books = await list_registers(conn, tenant)
    assert [(b.direction, b.name) for b in books] == [
        ("incoming", "Sổ văn bản đến"),
        ("incoming", "Sổ văn bản đến mật"),
        ("outgoing", "Sổ văn bản đi"),
        ("outgoing", "Sổ văn bản đi mật"),
    ]


def test_numbers_are_written_with_two_digits_at_least() -> None:
    assert [format_number(n) for n in (1, 9, 10, 123)] == ["01", "09", "10", "123"]
