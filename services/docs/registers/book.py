"""A register's book for one year (sổ đăng ký văn bản, NĐ 30 Phụ lục IV): the entries in number
order, with the columns the paper book has.

A book lists every number, so a confidential entry someone may not see keeps its line (number
and date) with the subject withheld: the reader sees the series is complete without learning
what the document is about."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec
from sqlalchemy import case, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.auth.principal import Principal
from services.docs.registers.service import INCOMING, Register, get_register
from services.docs.tables import document, outgoing, outgoing_recipient
from services.docs.visibility import incoming_visible, outgoing_visible

# One page of a book; a year of a busy agency's incoming register holds tens of thousands.
PAGE_SIZE = 200


class BookEntry(msgspec.Struct, kw_only=True):
    number: int
    document_id: uuid.UUID
    # Incoming: the arrival date; outgoing: the issue date.
    day: dt.date
    number_symbol: str
    doc_type: str
    # Incoming: the sender (tác giả); outgoing: the signer.
    party: str
    subject: str | None
    # Outgoing: where it went (nơi nhận), names joined.
    recipients: str = ""
    withheld: bool = False


class Book(msgspec.Struct, kw_only=True):
    register: Register
    year: int
    entries: list[BookEntry]
    next_after: int | None


async def read_book(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    principal: Principal,
    register_id: uuid.UUID,
    year: int,
    after: int = 0,
) -> Book:
    found = await get_register(conn, tenant_id, register_id)
    if found.direction == INCOMING:
        entries = await _incoming(conn, tenant_id, principal, register_id, year, after)
    else:
        entries = await _outgoing(conn, tenant_id, principal, register_id, year, after)
    more = len(entries) > PAGE_SIZE
    entries = entries[:PAGE_SIZE]
    return Book(
        register=found,
        year=year,
        entries=entries,
        next_after=entries[-1].number if more and entries else None,
    )


async def _incoming(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    principal: Principal,
    register_id: uuid.UUID,
    year: int,
    after: int,
) -> list[BookEntry]:
    seen = case((incoming_visible(tenant_id, principal), True), else_=False).label("seen")
    rows = await conn.execute(
        select(
            document.c.id,
            document.c.arrival_number,
            document.c.arrived_at,
            document.c.number_symbol,
            document.c.doc_type,
            document.c.sender_name,
            document.c.subject,
            seen,
        )
        .where(
            document.c.tenant_id == tenant_id,
            document.c.register_id == register_id,
            document.c.arrival_year == year,
            document.c.arrival_number > after,
        )
        .order_by(document.c.arrival_number)
        .limit(PAGE_SIZE + 1)
    )
    return [
        BookEntry(
            number=r.arrival_number,
            document_id=r.id,
            day=r.arrived_at.date(),
            number_symbol=r.number_symbol if r.seen else "",
            doc_type=r.doc_type,
            party=r.sender_name if r.seen else "",
            subject=r.subject if r.seen else None,
            withheld=not r.seen,
        )
        for r in rows
    ]


async def _outgoing(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    principal: Principal,
    register_id: uuid.UUID,
    year: int,
    after: int,
) -> list[BookEntry]:
    seen = case((outgoing_visible(tenant_id, principal), True), else_=False).label("seen")
    rows = (
        await conn.execute(
            select(
                outgoing.c.id,
                outgoing.c.number,
                outgoing.c.issued_on,
                outgoing.c.number_symbol,
                outgoing.c.doc_type,
                outgoing.c.signer_name,
                outgoing.c.subject,
                seen,
            )
            .where(
                outgoing.c.tenant_id == tenant_id,
                outgoing.c.register_id == register_id,
                outgoing.c.number_year == year,
                outgoing.c.number > after,
                outgoing.c.issued_on.is_not(None),
            )
            .order_by(outgoing.c.number)
            .limit(PAGE_SIZE + 1)
        )
    ).all()
    names: dict[uuid.UUID, list[str]] = {}
    if rows:
        recipients = await conn.execute(
            select(outgoing_recipient.c.outgoing_id, outgoing_recipient.c.name).where(
                outgoing_recipient.c.tenant_id == tenant_id,
                outgoing_recipient.c.outgoing_id.in_([r.id for r in rows if r.seen]),
            )
        )
        for outgoing_id, name in recipients:
            names.setdefault(outgoing_id, []).append(name)
    return [
        BookEntry(
            number=r.number,
            document_id=r.id,
            day=r.issued_on,
            number_symbol=r.number_symbol or "",
            doc_type=r.doc_type,
            party=r.signer_name if r.seen else "",
            subject=r.subject if r.seen else None,
            recipients="; ".join(sorted(names.get(r.id, []))),
            withheld=not r.seen,
        )
        for r in rows
    ]
