"""The sending queue's rows and the packets they carry, written inside the caller's transaction.

A message is queued under a `dedupe_key` that names its cause (the document and recipient, the
delivery and status code): replaying the cause queues nothing new, so "at least once" on the
sending side never turns into "twice" for the same cause."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from typing import Any, Literal

import msgspec
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.outbox import publish
from services.interchange.deliveries.events import DELIVERY_STATUS, DeliveryStatus
from services.interchange.failures import Refusal
from services.interchange.tables import outbox, outgoing, packet

Kind = Literal["edoc", "status"]


async def store_packet(
    conn: AsyncConnection, tenant_id: uuid.UUID, data: bytes, now: dt.datetime
) -> uuid.UUID:
    packet_id = uuid.uuid4()
    await conn.execute(
        pg_insert(packet).values(
            tenant_id=tenant_id,
            id=packet_id,
            sha256=hashlib.sha256(data).hexdigest(),
            size=len(data),
            data=data,
            created_at=now,
        )
    )
    return packet_id


async def kept_packet(conn: AsyncConnection, packet_id: uuid.UUID) -> bytes | None:
    """A packet's bytes, or None once the retention purge removed them (`purge.py`)."""
    data = (await conn.execute(select(packet.c.data).where(packet.c.id == packet_id))).scalar_one()
    return None if data is None else bytes(data)


async def load_packet(conn: AsyncConnection, packet_id: uuid.UUID) -> bytes:
    """A packet's bytes, which the caller cannot do without. Only packets whose deliveries are
    all final are purged, so this meets a purged one only when acting on an old delivery."""
    data = await kept_packet(conn, packet_id)
    if data is None:
        raise Refusal(
            "packet-purged",
            f"Gói tin {packet_id} đã được xoá sau thời hạn lưu giữ.",
            f"Packet {packet_id} was purged after its retention period.",
        )
    return data


async def queue_message(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    *,
    kind: Kind,
    dedupe_key: str,
    packet_id: uuid.UUID,
    edxml_document_id: str,
    sender_code: str,
    recipient_code: str,
    now: dt.datetime,
    recipient_name: str = "",
    sent_document_id: uuid.UUID | None = None,
    inbox_id: uuid.UUID | None = None,
    business: str | None = None,
    status_code: str | None = None,
) -> uuid.UUID | None:
    """Queue one message to one recipient; None when its cause had already queued it."""
    message_id = uuid.uuid4()
    inserted = await conn.execute(
        pg_insert(outgoing)
        .values(
            tenant_id=tenant_id,
            id=message_id,
            kind=kind,
            dedupe_key=dedupe_key[:400],
            sent_document_id=sent_document_id,
            inbox_id=inbox_id,
            packet_id=packet_id,
            edxml_document_id=edxml_document_id,
            business=business,
            status_code=status_code,
            sender_code=sender_code,
            recipient_code=recipient_code,
            recipient_name=recipient_name[:300],
            state="pending",
            next_attempt_at=now,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["tenant_id", "dedupe_key"])
        .returning(outgoing.c.id)
    )
    return message_id if inserted.first() is not None else None


async def publish_status(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    *,
    outgoing_id: uuid.UUID,
    business: str,
    edxml_document_id: str | None,
    recipient_code: str,
    status: str,
    at: dt.datetime,
    code: str | None = None,
    description: str | None = None,
) -> None:
    """`delivery.status` to the docs service: how one recipient of a document stands."""
    event = DeliveryStatus(
        outgoing_id=outgoing_id,
        business=business,
        edxml_document_id=edxml_document_id,
        recipient_code=recipient_code,
        status=status,
        code=code,
        description=description,
        at=at,
    )
    await publish(conn, outbox, tenant_id, DELIVERY_STATUS, to_payload(event))


def to_payload(event: msgspec.Struct) -> dict[str, Any]:
    payload: dict[str, Any] = msgspec.to_builtins(event)
    return payload
