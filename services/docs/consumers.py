"""Events the docs service consumes, run by `qlvb consume docs`."""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.outbox import Event, publish
from services.common.problems import InvalidInput, Problem
from services.docs.incoming.service import STATUS_TOPIC, receive_delivery
from services.docs.tables import outbox

logger = logging.getLogger("qlvb.docs.consumers")

DELIVERY_RECEIVED = "delivery.received"


async def on_delivery(conn: AsyncConnection, event: Event) -> None:
    """A delivery for this agency waits for the clerk. A delivery that cannot be accepted (a
    confidential document, fields that make no sense) is refused back to the sender with the
    reason, instead of being retried forever."""
    payload: dict[str, Any] = event.payload
    try:
        await receive_delivery(conn, event.tenant_id, payload)
    except (msgspec.ValidationError, KeyError, ValueError) as malformed:
        # A payload that does not match the contract would otherwise be retried forever.
        refusal = InvalidInput(
            f"Gói tin chuyển đến không đúng cấu trúc: {malformed}",
            f"The delivery does not match the contract: {malformed}",
        )
        await _refuse(conn, event, payload, refusal)
    except Problem as refusal:
        await _refuse(conn, event, payload, refusal)


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


# (consumer group, topics, handler)
CONSUMERS = [("docs", [DELIVERY_RECEIVED], on_delivery)]
