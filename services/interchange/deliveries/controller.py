"""HTTP API of deliveries: where each recipient of an outgoing document stands, and what one
received delivery is (with who signed its packet).

A received delivery is read under `/api/v1/connector/deliveries/{id}` (the agency's own) and
`/api/v1/connectors/{agency_id}/deliveries/{id}` (operators): prefixes the ingress already
sends to this service."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import msgspec
from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlalchemy import select

from services.common.auth.guards import requires_agency, requires_operator, tenant_of
from services.common.auth.principal import Principal
from services.common.problems import NotFound
from services.interchange.context import Context
from services.interchange.runtime import Interchange
from services.interchange.tables import inbox, outgoing, sent_document


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
        request: Request[Principal, Any, Any],
        outgoing_id: FromPath[uuid.UUID],
    ) -> list[RecipientView]:
        tenant_id = tenant_of(request)
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


class ReceivedView(msgspec.Struct, kw_only=True):
    """A packet the agency received and took: a document (its id is the delivery id the docs
    service knows), a revoke or update of one, or a status about a document it sent."""

    id: uuid.UUID
    kind: str  # edoc | status
    business: str | None  # new | revoke | update | replace
    source: str  # axis | local
    axis_doc_id: str | None
    edxml_document_id: str
    sender_code: str
    sender_name: str
    code_text: str | None
    promulgation_date: dt.date | None
    status_code: str | None
    state: str  # received | revoked
    received_at: dt.datetime
    signed: bool  # the packet carried an XML-DSig that verified
    signer_subject: str | None  # the signing certificate's subject (RFC 4514)
    signer_fingerprint: str | None  # SHA-256 of the certificate, hex


async def received(ctx: Context, tenant_id: uuid.UUID, delivery_id: uuid.UUID) -> ReceivedView:
    async with ctx.db.transaction(tenant_id, read_only=True) as conn:
        row = (await conn.execute(select(inbox).where(inbox.c.id == delivery_id))).one_or_none()
    if row is None:
        raise NotFound("Không có văn bản đến liên thông này.", "No such received delivery.")
    return ReceivedView(
        id=row.id,
        kind=row.kind,
        business=row.business,
        source=row.source,
        axis_doc_id=row.axis_doc_id,
        edxml_document_id=row.edxml_document_id,
        sender_code=row.sender_code,
        sender_name=row.sender_name,
        code_text=row.code_text,
        promulgation_date=row.promulgation_date,
        status_code=row.status_code,
        state=row.state,
        received_at=row.received_at,
        signed=row.signer_fingerprint is not None,
        signer_subject=row.signer_subject,
        signer_fingerprint=row.signer_fingerprint,
    )


class ReceivedController(Controller):
    tags = ("deliveries",)

    @get(
        "/api/v1/connector/deliveries/{delivery_id:uuid}",
        guards=[requires_agency],
        summary="Một văn bản, gói tin trạng thái cơ quan đã nhận qua liên thông, kèm người ký",
    )
    async def own(
        self,
        interchange: NamedDependency[Interchange],
        request: Request[Principal, Any, Any],
        delivery_id: FromPath[uuid.UUID],
    ) -> ReceivedView:
        tenant_id = tenant_of(request)
        return await received(interchange.ctx, tenant_id, delivery_id)

    @get(
        "/api/v1/connectors/{agency_id:uuid}/deliveries/{delivery_id:uuid}",
        guards=[requires_operator],
        summary="Một văn bản, gói tin trạng thái một cơ quan đã nhận (người vận hành)",
    )
    async def of_agency(
        self,
        interchange: NamedDependency[Interchange],
        agency_id: FromPath[uuid.UUID],
        delivery_id: FromPath[uuid.UUID],
    ) -> ReceivedView:
        return await received(interchange.ctx, agency_id, delivery_id)
