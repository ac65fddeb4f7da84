"""`document.status_changed` -> a status packet to the document's sender (spec §5.7: accepted
03, assigned 04, processing 05, completed 06, rejected 02 with its reason; 01 was sent when the
packet arrived). Everything needed is in the inbox row, so this runs in the event's transaction
without touching the network; the agency's send job delivers the packet."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.interchange.context import Context
from services.interchange.deliveries import mapping
from services.interchange.deliveries.events import DocumentStatusChanged
from services.interchange.deliveries.inbound import queue_answer, response_for_row
from services.interchange.edxml import Organisation, StatusCode
from services.interchange.failures import Refusal
from services.interchange.tables import inbox


def decode_status_changed(payload: dict[str, Any]) -> DocumentStatusChanged:
    try:
        return msgspec.convert(payload, DocumentStatusChanged, strict=False)
    except msgspec.ValidationError as error:
        raise Refusal(
            "invalid-event",
            f"Sự kiện document.status_changed không hợp lệ: {error}",
            f"The document.status_changed event is invalid: {error}",
        ) from error


async def accept_status_changed(
    ctx: Context, conn: AsyncConnection, tenant_id: uuid.UUID, payload: dict[str, Any]
) -> bool:
    """Queue the answer; False when there is nobody to answer (a paper document)."""
    changed = decode_status_changed(payload)
    if changed.delivery_id is None:
        return False  # received on paper: the sender is told by post, not by us
    code = mapping.STATUS_OF_EVENT.get(changed.status)
    if code is None:
        raise Refusal(
            "unknown-status",
            f"Trạng thái {changed.status!r} không có mã edXML tương ứng.",
            f"Status {changed.status!r} has no edXML status code.",
        )
    row = (
        await conn.execute(
            select(inbox).where(inbox.c.id == changed.delivery_id, inbox.c.kind == "edoc")
        )
    ).one_or_none()
    if row is None:
        raise Refusal(
            "unknown-delivery",
            f"Không có văn bản đến nào mang mã chuyển {changed.delivery_id}.",
            f"No delivery {changed.delivery_id} was ever received by this agency.",
        )
    description = changed.reason
    if code == StatusCode.REJECTED and not (description or "").strip():
        description = mapping.STATUS_LABELS[code]  # 02 must say why (spec §2.1)
    target = row
    if row.business in ("update", "revoke") and row.target_id is not None:
        # An answer to a change request names the document changed.
        found = await conn.execute(select(inbox).where(inbox.c.id == row.target_id))
        target = found.one_or_none() or row
    reporter = Organisation(
        organ_id=row.recipient_code,
        organ_name=row.recipient_name,
        organization_in_charge=row.recipient_name,
    )
    queued = await queue_answer(
        ctx,
        conn,
        tenant_id,
        response_for=response_for_row(target),
        reporter=reporter,
        code=code,
        description=description,
        dedupe_key=f"status:{row.id}:{code.value}",
        now=ctx.now(),
        inbox_id=row.id,
    )
    return queued is not None
