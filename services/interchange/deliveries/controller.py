"""HTTP API of deliveries: where each recipient of an outgoing document stands."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec
from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlalchemy import select

from services.common.auth.guards import requires_agency
from services.common.problems import NotFound
from services.interchange.runtime import Interchange
from services.interchange.tables import outgoing, sent_document


class RecipientView(msgspec.Struct, kw_only=True):
    business: str
    recipient_code: str
    recipient_name: str
    state: str  # pending | sent | failed
    route: str | None  # local | axis
    attempts: int
    last_error: str | None
    sent_at: dt.datetime | None
    axis_doc_id: str | None
    receipt_code: str | None  # the recipient's latest status: 01-06, 02
    receipt_description: str | None
    receipt_at: dt.datetime | None
    change_code: str | None  # its answer to a revoke or update: 15 / 16


class DeliveryController(Controller):
    path = "/api/v1/outgoing"
    tags = ("deliveries",)
    guards = (requires_agency,)

    @get(
        "/{outgoing_id:uuid}/recipients",
        summary="Tình trạng chuyển, nhận, xử lý của văn bản đi tại từng nơi nhận",
    )
    async def recipients(
        self,
        interchange: NamedDependency[Interchange],
        tenant_id: NamedDependency[uuid.UUID],
        outgoing_id: FromPath[uuid.UUID],
    ) -> list[RecipientView]:
        async with interchange.ctx.db.transaction(tenant_id, read_only=True) as conn:
            rows = (
                await conn.execute(
                    select(outgoing)
                    .join(
                        sent_document,
                        (sent_document.c.tenant_id == outgoing.c.tenant_id)
                        & (sent_document.c.id == outgoing.c.sent_document_id),
                    )
                    .where(sent_document.c.outgoing_id == outgoing_id)
                    .order_by(outgoing.c.seq)
                )
            ).all()
        if not rows:
            raise NotFound(
                "Văn bản này chưa được gửi qua liên thông.",
                "This document was not sent through the interchange.",
            )
        return [
            RecipientView(
                business=row.business or "new",
                recipient_code=row.recipient_code,
                recipient_name=row.recipient_name,
                state=row.state,
                route=row.route,
                attempts=row.attempts,
                last_error=row.last_error,
                sent_at=row.sent_at,
                axis_doc_id=row.axis_doc_id,
                receipt_code=row.receipt_code,
                receipt_description=row.receipt_description,
                receipt_at=row.receipt_at,
                change_code=row.change_code,
            )
            for row in rows
        ]
