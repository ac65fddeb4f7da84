"""The dead-letter list: what was refused or could not be delivered, with the reason, the ids
needed to find it again and what a replay needs (the packet, the queued message, the event).

Recording happens in the transaction of the step that refused, so a refusal is never lost and
never half-recorded. Replaying is the runtime's business (it re-runs the pipeline step)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

import msgspec
from sqlalchemy import Select, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.db import Database
from services.common.problems import NotFound
from services.interchange.failures import Refusal
from services.interchange.metrics import dead_lettered
from services.interchange.tables import dead_letter

Direction = Literal["incoming", "outgoing", "event"]
State = Literal["open", "replayed"]
_DETAIL_LIMIT = 4000


class DeadLetterView(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    tenant_id: uuid.UUID
    created_at: dt.datetime
    direction: str
    reason: str
    detail: str
    path: str | None
    source: str | None
    message_type: str | None
    axis_doc_id: str | None
    edxml_document_id: str | None
    sender_code: str | None
    recipient_code: str | None
    outgoing_id: uuid.UUID | None
    sent_document_id: uuid.UUID | None
    has_packet: bool
    event_topic: str | None
    state: str
    replays: int
    replayed_at: dt.datetime | None
    replay_error: str | None


async def record(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    refusal: Refusal,
    *,
    direction: Direction,
    now: dt.datetime,
    source: str | None = None,
    message_type: str | None = None,
    axis_doc_id: str | None = None,
    edxml_document_id: str | None = None,
    sender_code: str | None = None,
    recipient_code: str | None = None,
    outgoing_id: uuid.UUID | None = None,
    sent_document_id: uuid.UUID | None = None,
    packet_id: uuid.UUID | None = None,
    event: dict[str, Any] | None = None,
) -> uuid.UUID:
    letter_id = uuid.uuid4()
    await conn.execute(
        insert(dead_letter).values(
            tenant_id=tenant_id,
            id=letter_id,
            created_at=now,
            direction=direction,
            reason=refusal.reason[:60],
            # Read by the agency's operators on the dead-letter page: Vietnamese first.
            detail=(refusal.detail_vi or refusal.detail_en)[:_DETAIL_LIMIT],
            path=refusal.path[:300] if refusal.path else None,
            source=source,
            message_type=message_type,
            axis_doc_id=axis_doc_id,
            edxml_document_id=edxml_document_id and edxml_document_id[:100],
            sender_code=sender_code and sender_code[:35],
            recipient_code=recipient_code and recipient_code[:35],
            outgoing_id=outgoing_id,
            sent_document_id=sent_document_id,
            packet_id=packet_id,
            event=event,
            state="open",
        )
    )
    # Counted when recorded: a step that rolls back after this and is retried counts twice;
    # the open letters per agency (`report_backlog`) are the exact figure.
    dead_lettered(tenant_id, direction)
    return letter_id


def view(row: Any) -> DeadLetterView:
    return DeadLetterView(
        id=row.id,
        tenant_id=row.tenant_id,
        created_at=row.created_at,
        direction=row.direction,
        reason=row.reason,
        detail=row.detail,
        path=row.path,
        source=row.source,
        message_type=row.message_type,
        axis_doc_id=row.axis_doc_id,
        edxml_document_id=row.edxml_document_id,
        sender_code=row.sender_code,
        recipient_code=row.recipient_code,
        outgoing_id=row.outgoing_id,
        sent_document_id=row.sent_document_id,
        has_packet=row.packet_id is not None,
        event_topic=(row.event or {}).get("topic"),
        state=row.state,
        replays=row.replays,
        replayed_at=row.replayed_at,
        replay_error=row.replay_error,
    )


def _listing(state: State | None, limit: int, before: dt.datetime | None) -> Select[Any]:
    query = select(dead_letter).order_by(dead_letter.c.created_at.desc()).limit(limit)
    if state is not None:
        query = query.where(dead_letter.c.state == state)
    if before is not None:
        query = query.where(dead_letter.c.created_at < before)
    return query


async def list_letters(
    conn: AsyncConnection,
    *,
    state: State | None = "open",
    limit: int = 100,
    before: dt.datetime | None = None,
) -> list[DeadLetterView]:
    """One agency's letters, newest first (the transaction's tenant, under RLS)."""
    rows = (await conn.execute(_listing(state, limit, before))).all()
    return [view(row) for row in rows]


async def list_all(
    platform_db: Database,
    *,
    tenant_id: uuid.UUID | None = None,
    state: State | None = "open",
    limit: int = 100,
    before: dt.datetime | None = None,
) -> list[DeadLetterView]:
    """Every agency's letters (the relay role reads past RLS), for operators."""
    query = _listing(state, limit, before)
    if tenant_id is not None:
        query = query.where(dead_letter.c.tenant_id == tenant_id)
    async with platform_db.transaction(None, read_only=True) as conn:
        rows = (await conn.execute(query)).all()
    return [view(row) for row in rows]


async def fetch(conn: AsyncConnection, letter_id: uuid.UUID, *, for_update: bool = False) -> Any:
    query = select(dead_letter).where(dead_letter.c.id == letter_id)
    if for_update:
        query = query.with_for_update()
    row = (await conn.execute(query)).one_or_none()
    if row is None:
        raise NotFound("Không có thư hỏng này.", "No such dead letter.")
    return row


async def mark_replayed(
    conn: AsyncConnection, letter_id: uuid.UUID, now: dt.datetime, error: str | None
) -> None:
    await conn.execute(
        update(dead_letter)
        .where(dead_letter.c.id == letter_id)
        .values(
            state="open" if error else "replayed",
            replays=dead_letter.c.replays + 1,
            replayed_at=now,
            replay_error=error and error[:_DETAIL_LIMIT],
        )
    )


async def owner(platform_db: Database, letter_id: uuid.UUID) -> uuid.UUID | None:
    """The agency a dead letter belongs to (operators name letters by id alone)."""
    async with platform_db.transaction(None, read_only=True) as conn:
        found = await conn.execute(
            select(dead_letter.c.tenant_id).where(dead_letter.c.id == letter_id)
        )
        value = found.scalar_one_or_none()
    return None if value is None else uuid.UUID(str(value))
