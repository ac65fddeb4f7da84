"""Registers of an agency: the defaults every agency starts with, and the clerk's own."""

from __future__ import annotations

import uuid

import msgspec
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.problems import Conflict, NotFound
from services.docs.tables import register

INCOMING = "incoming"
OUTGOING = "outgoing"

# NĐ 30: confidential documents are registered and numbered apart from the others.
DEFAULT_REGISTERS = (
    (INCOMING, "Sổ văn bản đến", False),
    (INCOMING, "Sổ văn bản đến mật", True),
    (OUTGOING, "Sổ văn bản đi", False),
    (OUTGOING, "Sổ văn bản đi mật", True),
)


class Register(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    direction: str
    name: str
    confidential: bool
    active: bool


def _view(row: object) -> Register:
    return Register(
        id=row.id,  # type: ignore[attr-defined]
        direction=row.direction,  # type: ignore[attr-defined]
        name=row.name,  # type: ignore[attr-defined]
        confidential=row.confidential,  # type: ignore[attr-defined]
        active=row.active,  # type: ignore[attr-defined]
    )


def default_register_id(tenant_id: uuid.UUID, direction: str, confidential: bool) -> uuid.UUID:
    # Stable ids: the defaults of a tenant are the same rows however often they are ensured.
    return uuid.uuid5(tenant_id, f"register:{direction}:{'secret' if confidential else 'general'}")


async def ensure_defaults(conn: AsyncConnection, tenant_id: uuid.UUID) -> None:
    for direction, name, confidential in DEFAULT_REGISTERS:
        await conn.execute(
            pg_insert(register)
            .values(
                tenant_id=tenant_id,
                id=default_register_id(tenant_id, direction, confidential),
                direction=direction,
                name=name,
                confidential=confidential,
            )
            .on_conflict_do_nothing()
        )


async def list_registers(conn: AsyncConnection, tenant_id: uuid.UUID) -> list[Register]:
    await ensure_defaults(conn, tenant_id)
    rows = await conn.execute(
        select(register)
        .where(register.c.tenant_id == tenant_id)
        .order_by(register.c.direction, register.c.confidential, register.c.name)
    )
    return [_view(r) for r in rows]


async def create_register(
    conn: AsyncConnection, tenant_id: uuid.UUID, direction: str, name: str, confidential: bool
) -> Register:
    row = (
        await conn.execute(
            pg_insert(register)
            .values(
                tenant_id=tenant_id,
                id=uuid.uuid4(),
                direction=direction,
                name=name,
                confidential=confidential,
            )
            .on_conflict_do_nothing()
            .returning(*register.c)
        )
    ).one_or_none()
    if row is None:
        raise Conflict(
            f"Cơ quan đã có sổ tên “{name}”.", f"The agency already has a register named {name!r}."
        )
    return _view(row)


async def get_register(
    conn: AsyncConnection, tenant_id: uuid.UUID, register_id: uuid.UUID
) -> Register:
    row = (
        await conn.execute(
            select(register).where(register.c.tenant_id == tenant_id, register.c.id == register_id)
        )
    ).one_or_none()
    if row is None:
        raise NotFound(f"Không tìm thấy sổ {register_id}.", f"No register {register_id}.")
    return _view(row)
