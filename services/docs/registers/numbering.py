"""Gapless numbers per (tenant, register, year).

One statement creates the year's counter at 1 or increments it, and returns the number. The
counter row stays locked until the caller's transaction ends, so concurrent registrations in
one register queue behind each other, and a rolled-back registration gives its number back:
the series has no gaps and no duplicates under any concurrency (NĐ 30, Điều 15 and 22)."""

from __future__ import annotations

import uuid

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.docs.tables import register_counter


# Text, not an `insert().on_conflict_do_update()` construct: SQLAlchemy compiles those afresh on
# every execution (they are not cacheable), which cost more than the statement itself.
def take_number_sql(source: str) -> str:
    """The statement that takes the next number, as SQL: `source` is a `VALUES` or `SELECT`
    giving (tenant_id, register_id, year, 1) for the counter to take it in."""
    return (
        "INSERT INTO docs.register_counter (tenant_id, register_id, year, last_number) "
        f"{source} "
        "ON CONFLICT (tenant_id, register_id, year) "
        "DO UPDATE SET last_number = docs.register_counter.last_number + 1 "
        "RETURNING last_number"
    )


# The parameters that name a counter, typed so that they are sent as what they are.
COUNTER_PARAMETERS = (
    bindparam("tenant_id", type_=register_counter.c.tenant_id.type),
    bindparam("register_id", type_=register_counter.c.register_id.type),
    bindparam("year", type_=register_counter.c.year.type),
)
_NEXT = text(take_number_sql("VALUES (:tenant_id, :register_id, :year, 1)")).bindparams(
    *COUNTER_PARAMETERS
)


async def next_number(
    conn: AsyncConnection, tenant_id: uuid.UUID, register_id: uuid.UUID, year: int
) -> int:
    values = {"tenant_id": tenant_id, "register_id": register_id, "year": year}
    return int((await conn.execute(_NEXT, values)).scalar_one())


def format_number(number: int) -> str:
    """Số as NĐ 30 writes it: Arabic digits, two at least (`05`, `15`, `123`)."""
    return f"{number:02d}"
