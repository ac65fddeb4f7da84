"""Events the docs service consumes, run by `qlvb consume docs`."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import msgspec
from saq import Queue
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.outbox import Event, publish
from services.common.problems import InvalidInput, Problem
from services.common.worker import make_queue
from services.docs.incoming import changes
from services.docs.incoming.service import STATUS_TOPIC, receive_delivery
from services.docs.settings import load
from services.docs.signatures import reports
from services.docs.tables import outbox, outgoing_change_recipient, outgoing_recipient

logger = logging.getLogger("qlvb.docs.consumers")

DELIVERY_RECEIVED = "delivery.received"
# The sender revoked (or recalled) or updated a document delivered here earlier.
DELIVERY_REVOKED = "delivery.revoked"
DELIVERY_UPDATED = "delivery.updated"


_queues: list[Queue] = []


def _queue() -> Queue:
    # Built on first use, once per consumer process: the handlers get only their transaction.
    if not _queues:
        _queues.append(make_queue(load()))
    return _queues[0]


async def on_delivery(conn: AsyncConnection, event: Event) -> None:
    """A delivery for this agency waits for the clerk. A delivery that cannot be accepted (a
    confidential document, fields that make no sense) is refused back to the sender with the
    reason, instead of being retried forever."""
    payload: dict[str, Any] = event.payload
    try:
        document_id = await receive_delivery(conn, event.tenant_id, payload)
    except (msgspec.ValidationError, KeyError, ValueError) as malformed:
        # A payload that does not match the contract would otherwise be retried forever.
        refusal = InvalidInput(
            f"Gói tin chuyển đến không đúng cấu trúc: {malformed}",
            f"The delivery does not match the contract: {malformed}",
        )
        await _refuse(conn, event, payload, refusal)
        return
    except Problem as refusal:
        await _refuse(conn, event, payload, refusal)
        return
    if document_id is not None and any(
        reports.is_pdf(str(f.get("file_name", ""))) for f in payload.get("files") or []
    ):
        # Asked for inside the transaction, to run a moment after it commits: if the queue
        # cannot take it, the event fails and comes again, document and all.
        await reports.enqueue_check(
            _queue(),
            reports.INCOMING_JOB,
            event.tenant_id,
            document_id,
            delay=reports.KICK_DELAY_SECONDS,
        )
    if document_id is not None and payload.get("replaces_delivery_id"):
        # A replacement (business 3): the document it replaces waits for the clerk's answer.
        # The new document stands whatever becomes of that request.
        try:
            await changes.receive_replacement(conn, event.tenant_id, document_id, payload)
        except changes.Unreadable as unreadable:
            logger.error(
                "replacement unreadable",
                extra={"delivery_id": payload.get("delivery_id"), "missing": str(unreadable)},
            )


async def _refuse(
    conn: AsyncConnection, event: Event, payload: dict[str, Any], refusal: Problem
) -> None:
    logger.warning(
        "delivery refused",
        extra={"delivery_id": payload.get("delivery_id"), "reason": refusal.detail_en},
    )
    await publish(
        conn,
        outbox,
        event.tenant_id,
        STATUS_TOPIC,
        {
            "document_id": None,
            "status": "rejected",
            "delivery_id": payload.get("delivery_id"),
            "edxml_document_id": payload.get("edxml_document_id"),
            "sender_code": (payload.get("fields") or {}).get("sender_code"),
            "reason": refusal.detail_vi,
        },
    )


async def on_delivery_change(conn: AsyncConnection, event: Event) -> None:
    """A revocation or update of a delivered document waits for the clerk's answer; one that
    cannot be agreed to is refused back to the sender at once (changes.py)."""
    payload: dict[str, Any] = event.payload
    try:
        if event.topic == DELIVERY_REVOKED:
            await changes.receive_revocation(conn, event.tenant_id, payload)
        else:
            await changes.receive_update(conn, event.tenant_id, payload)
    except changes.Unreadable as unreadable:
        # Without the request's id there is nobody to answer: retrying would not help.
        logger.error(
            "change request unreadable",
            extra={"topic": event.topic, "event_id": str(event.id), "missing": str(unreadable)},
        )


async def on_incoming(conn: AsyncConnection, event: Event) -> None:
    """One consumer group for what arrives, so that a document and the later requests about it
    are read in the order they were published."""
    if event.topic == DELIVERY_RECEIVED:
        await on_delivery(conn, event)
    else:
        await on_delivery_change(conn, event)


DELIVERY_STATUS = "delivery.status"
# The order a recipient's status moves in; an older status arriving late never overwrites a
# newer one (the axis may reorder). Refusals and failures stand apart and always apply.
_PROGRESS = [
    "pending",
    "sending",
    "sent",
    "received",
    "accepted",
    "assigned",
    "processing",
    "completed",
]


# A change (revocation, update) travels on to its answer: agreed (15) or refused (16). An
# answer is final, but a recipient may change its mind; a late transport status never undoes it.
_CHANGE_PROGRESS = ["sending", "sent", "received"]
_CHANGE_ANSWERS = {"change_accepted", "change_rejected"}


async def _on_change_status(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    change_id: uuid.UUID,
    code: str,
    status: str,
    payload: dict[str, Any],
) -> None:
    row = (
        await conn.execute(
            select(outgoing_change_recipient.c.status).where(
                outgoing_change_recipient.c.tenant_id == tenant_id,
                outgoing_change_recipient.c.change_id == change_id,
                outgoing_change_recipient.c.code == code,
            )
        )
    ).one_or_none()
    if row is None:
        logger.warning("status for an unknown change recipient", extra={"payload": payload})
        return
    if status not in _CHANGE_ANSWERS and row.status in _CHANGE_ANSWERS:
        return
    if (
        status in _CHANGE_PROGRESS
        and row.status in _CHANGE_PROGRESS
        and _CHANGE_PROGRESS.index(status) <= _CHANGE_PROGRESS.index(row.status)
    ):
        return
    await conn.execute(
        update(outgoing_change_recipient)
        .where(
            outgoing_change_recipient.c.tenant_id == tenant_id,
            outgoing_change_recipient.c.change_id == change_id,
            outgoing_change_recipient.c.code == code,
        )
        .values(status=status[:20], reason=payload.get("description"), updated_at=func.now())
    )


async def on_delivery_status(conn: AsyncConnection, event: Event) -> None:
    """What happened to an issued document at one recipient, shown on the document's card;
    for a revocation or update, the recipient's answer, shown on the change."""
    payload: dict[str, Any] = event.payload
    try:
        outgoing_id = uuid.UUID(str(payload["outgoing_id"]))
        code, status = str(payload["recipient_code"]), str(payload["status"])
    except (KeyError, ValueError):
        logger.error("delivery status unreadable", extra={"payload": payload})
        return
    if payload.get("business") in ("revoke", "update"):
        # Their `outgoing_id` is the change's own id (services/docs/outgoing/changes.py).
        await _on_change_status(conn, event.tenant_id, outgoing_id, code, status, payload)
        return
    row = (
        await conn.execute(
            select(outgoing_recipient.c.status).where(
                outgoing_recipient.c.tenant_id == event.tenant_id,
                outgoing_recipient.c.outgoing_id == outgoing_id,
                outgoing_recipient.c.code == code,
            )
        )
    ).one_or_none()
    if row is None:
        logger.warning("status for an unknown recipient", extra={"payload": payload})
        return
    late = (
        status in _PROGRESS
        and row.status in _PROGRESS
        and _PROGRESS.index(status) <= _PROGRESS.index(row.status)
    )
    if late:
        return
    await conn.execute(
        update(outgoing_recipient)
        .where(
            outgoing_recipient.c.tenant_id == event.tenant_id,
            outgoing_recipient.c.outgoing_id == outgoing_id,
            outgoing_recipient.c.code == code,
        )
        .values(status=status[:20], reason=payload.get("description"), updated_at=func.now())
    )


# (consumer group, topics, handler)
CONSUMERS = [
    ("docs", [DELIVERY_RECEIVED, DELIVERY_REVOKED, DELIVERY_UPDATED], on_incoming),
    ("docs-outgoing", [DELIVERY_STATUS], on_delivery_status),
]
