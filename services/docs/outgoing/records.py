"""Reading an outgoing document and choosing its register: shared by the flow's steps."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.problems import Conflict, InvalidInput, NotFound
from services.docs.registers.service import OUTGOING, default_register_id, ensure_defaults
from services.docs.tables import number_reservation, outgoing, register


def not_found(outgoing_id: uuid.UUID) -> NotFound:
    return NotFound(f"Không tìm thấy văn bản đi {outgoing_id}.", f"No outgoing {outgoing_id}.")


async def fetch(
    conn: AsyncConnection, tenant_id: uuid.UUID, outgoing_id: uuid.UUID, *, for_update: bool = False
) -> Any:
    statement = select(outgoing).where(
        outgoing.c.tenant_id == tenant_id, outgoing.c.id == outgoing_id
    )
    if for_update:
        statement = statement.with_for_update()
    row = (await conn.execute(statement)).one_or_none()
    if row is None:
        raise not_found(outgoing_id)
    return row


async def outgoing_register(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    register_id: uuid.UUID | None,
    confidential: bool,
) -> Any:
    wanted = register_id or default_register_id(tenant_id, OUTGOING, confidential)
    query = select(register).where(register.c.tenant_id == tenant_id, register.c.id == wanted)
    book = (await conn.execute(query)).one_or_none()
    if book is None and register_id is None:
        await ensure_defaults(conn, tenant_id)
        book = (await conn.execute(query)).one_or_none()
    if book is None or book.direction != OUTGOING or not book.active:
        raise InvalidInput("Sổ văn bản đi không tồn tại hoặc đã đóng.", "No such register.")
    if book.confidential != confidential:
        raise InvalidInput(
            "Văn bản mật có dãy số riêng, trong sổ mật (NĐ 30, Điều 15.2).",
            "Confidential documents are numbered in their own register.",
        )
    return book


async def use_reservation(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    register_id: uuid.UUID,
    year: int,
    number: int,
    outgoing_id: uuid.UUID,
) -> int:
    used = await conn.execute(
        update(number_reservation)
        .where(
            number_reservation.c.tenant_id == tenant_id,
            number_reservation.c.register_id == register_id,
            number_reservation.c.year == year,
            number_reservation.c.number == number,
            number_reservation.c.outgoing_id.is_(None),
        )
        .values(outgoing_id=outgoing_id)
        .returning(number_reservation.c.number)
    )
    if used.first() is None:
        raise Conflict(
            f"Số {number} không được giữ trước, hoặc đã dùng.",
            f"Number {number} was not reserved, or is already used.",
        )
    return number


async def held_number(conn: AsyncConnection, tenant_id: uuid.UUID, outgoing_id: uuid.UUID) -> Any:
    """The number set aside for this document before its issue (when the clerk stamped it
    into the PDF to apply the agency's signature), if any."""
    return (
        await conn.execute(
            select(number_reservation).where(
                number_reservation.c.tenant_id == tenant_id,
                number_reservation.c.outgoing_id == outgoing_id,
            )
        )
    ).one_or_none()
