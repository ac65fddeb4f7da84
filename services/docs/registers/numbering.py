"""Gapless numbers per (tenant, register, year).

One statement creates the year's counter at 1 or increments it, and returns the number. The
counter row stays locked until the caller's transaction ends, so concurrent registrations in
one register queue behind each other, and a rolled-back registration gives its number back:
the series has no gaps and no duplicates under any concurrency (NĐ 30, Điều 15 and 22)."""

from __future__ import annotations

import uuid

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.docs.tables import register_counter


async def next_number(
    conn: AsyncConnection, tenant_id: uuid.UUID, register_id: uuid.UUID, year: int
) -> int:
    statement = insert(register_counter).values(
        tenant_id=tenant_id, register_id=register_id, year=year, last_number=1
    )
    upsert = statement.on_conflict_do_update(
        index_elements=[
            register_counter.c.tenant_id,
            register_counter.c.register_id,
            register_counter.c.year,
        ],
        set_={"last_number": register_counter.c.last_number + 1},
    ).returning(register_counter.c.last_number)
    return int((await conn.execute(upsert)).scalar_one())


def format_number(number: int) -> str:
    """Số as NĐ 30 writes it: Arabic digits, two at least (`05`, `15`, `123`)."""
    return f"{number:02d}"
