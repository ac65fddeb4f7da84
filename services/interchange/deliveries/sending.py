"""An agency's send job: build waiting documents, then drain the sending queue.

Routing happens at send time, per recipient: a code that belongs to an active agency of this
platform goes straight into that agency's inbox through the same receive pipeline (still an
edXML packet); any other code goes to the national axis (or the provincial LGSP) through the
sending agency's connector.

Order and isolation:
* each recipient's messages go strictly in queue order: a message that cannot go now (the axis
  is down, storage is down) stops that recipient's line until its backoff ends;
* recipients are drained in parallel, a few at a time;
* a failure of the axis closes the axis for the rest of the run (one timeout, not one per
  recipient) and backs the connector off; local recipients go on.
At least once: a message is marked sent only after the axis answered with its id or the local
inbox took it; a crash in between sends it again, and the receiving inbox takes it once."""

from __future__ import annotations

import asyncio
import enum
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from services.interchange.axis.client import AxisRefused, AxisUnavailable, MessageType
from services.interchange.axis.mailbox import Mailbox
from services.interchange.connectors import service as connectors
from services.interchange.connectors.secrets import SecretUnreadable
from services.interchange.context import Context
from services.interchange.dead_letters import service as dead_letters
from services.interchange.deliveries.inbound import Outcome, Receiver
from services.interchange.deliveries.outbound import Builder
from services.interchange.deliveries.queueing import load_packet, publish_status
from services.interchange.failures import Refusal, TemporaryFailure
from services.interchange.metrics import delivered
from services.interchange.tables import outgoing, sent_document

logger = logging.getLogger("qlvb.interchange.sending")

# Axis error codes that say the connector is wrong (credentials, our agency not registered),
# not the message: the message waits for the operator instead of failing (spec §3.7 codes).
_CONNECTOR_ERRORS = frozenset({"15", "19", "http-401", "http-403"})
_PAGE = 50


class Step(enum.Enum):
    DONE = "done"  # sent, or failed for good: go on with the recipient's next message
    STOP = "stop"  # not now: the recipient's line waits


@dataclass(frozen=True)
class Route:
    local: bool
    tenant_id: uuid.UUID | None = None


class _AxisGate:
    """The sending agency's connector for one run: opened lazily, closed at the first failure."""

    def __init__(self, ctx: Context, tenant_id: uuid.UUID) -> None:
        self.ctx = ctx
        self.tenant_id = tenant_id
        self.row: Any = None
        self.client: Mailbox | None = None
        self.loaded = False
        self.closed_reason: str | None = None
        self.used = False
        self.sent = 0
        self._lock = asyncio.Lock()

    async def open(self) -> Mailbox | None:
        async with self._lock:
            if not self.loaded:
                self.loaded = True
                async with self.ctx.db.transaction(self.tenant_id, read_only=True) as conn:
                    self.row = await connectors.load(conn, self.tenant_id)
                if self.row is not None and self.row.enabled:
                    retry_at = self.row.retry_at
                    if retry_at is not None and retry_at > self.ctx.now():
                        self.closed_reason = "backing off"
                    else:
                        try:
                            self.client = connectors.client(self.ctx, self.row)
                        except SecretUnreadable as error:
                            self.closed_reason = str(error)
        if self.closed_reason is not None:
            return None
        return self.client

    def close(self, reason: str) -> None:
        self.closed_reason = reason


class Sender:
    def __init__(self, ctx: Context, receiver: Receiver) -> None:
        self.ctx = ctx
        self.receiver = receiver
        self.builder = Builder(ctx)

    async def route(self, recipient_code: str) -> Route:
        agency = await self.ctx.agencies.by_code(recipient_code)
        if agency is not None and agency.active:
            return Route(local=True, tenant_id=agency.id)
        return Route(local=False)

    async def send(self, tenant_id: uuid.UUID) -> int:
        """One run for one agency; how many messages left its queue (sent or failed)."""
        await self.builder.build_pending(tenant_id)
        now = self.ctx.now()
        async with self.ctx.db.transaction(tenant_id, read_only=True) as conn:
            heads = (
                await conn.execute(
                    select(outgoing.c.recipient_code, outgoing.c.next_attempt_at)
                    .where(outgoing.c.state == "pending")
                    .order_by(outgoing.c.recipient_code, outgoing.c.seq)
                    .distinct(outgoing.c.recipient_code)
                )
            ).all()
        due = [head.recipient_code for head in heads if head.next_attempt_at <= now]
        gate = _AxisGate(self.ctx, tenant_id)
        limit = asyncio.Semaphore(self.ctx.settings.recipients_in_parallel)
        budget = [self.ctx.settings.send_batch]

        async def drain(recipient: str) -> int:
            async with limit:
                return await self._drain(tenant_id, recipient, gate, budget)

        moved = sum(await asyncio.gather(*(drain(recipient) for recipient in due)))
        await self._connector_outcome(tenant_id, gate)
        return moved

    async def _connector_outcome(self, tenant_id: uuid.UUID, gate: _AxisGate) -> None:
        if not gate.used:
            return
        async with self.ctx.db.transaction(tenant_id) as conn:
            if gate.closed_reason in (None, "backing off", "rate limit"):
                await connectors.record_success(conn, tenant_id, self.ctx.now())
            else:
                await connectors.record_failure(
                    self.ctx,
                    conn,
                    tenant_id,
                    gate.closed_reason,
                    polled=False,
                    progressed=gate.sent > 0,
                )

    async def _drain(
        self, tenant_id: uuid.UUID, recipient: str, gate: _AxisGate, budget: list[int]
    ) -> int:
        moved = 0
        while budget[0] > 0:
            async with self.ctx.db.transaction(tenant_id, read_only=True) as conn:
                rows = (
                    await conn.execute(
                        select(outgoing, sent_document.c.outgoing_id.label("docs_id"))
                        .outerjoin(
                            sent_document,
                            (sent_document.c.tenant_id == outgoing.c.tenant_id)
                            & (sent_document.c.id == outgoing.c.sent_document_id),
                        )
                        .where(
                            outgoing.c.state == "pending", outgoing.c.recipient_code == recipient
                        )
                        .order_by(outgoing.c.seq)
                        .limit(min(_PAGE, budget[0]))
                    )
                ).all()
            if not rows:
                return moved
            for row in rows:
                if row.next_attempt_at > self.ctx.now() or budget[0] <= 0:
                    return moved
                budget[0] -= 1
                if await self._deliver(tenant_id, row, gate) is Step.STOP:
                    return moved
                moved += 1
        return moved

    async def _deliver(self, tenant_id: uuid.UUID, row: Any, gate: _AxisGate) -> Step:
        now = self.ctx.now()
        if (now - row.created_at).total_seconds() > self.ctx.settings.give_up_after_seconds:
            await self._fail(
                tenant_id,
                row,
                Refusal(
                    "expired",
                    f"Không gửi được trong {self.ctx.settings.give_up_after_seconds} giây; "
                    f"lỗi cuối: {row.last_error}",
                    f"Not sent within {self.ctx.settings.give_up_after_seconds} s; "
                    f"last error: {row.last_error}",
                ),
            )
            return Step.DONE
        route_name = "unknown"  # the recipient's route, once the registry answered
        try:
            route = await self.route(row.recipient_code)
            route_name = "local" if route.local else "axis"
            if route.local:
                return await self._deliver_local(tenant_id, row, route)
            return await self._deliver_axis(tenant_id, row, gate)
        except TemporaryFailure as failure:
            await self._retry_later(tenant_id, row, failure.detail_en or str(failure))
            delivered("outgoing", "retry", route_name, row.kind)
            return Step.STOP
        except Refusal as refusal:
            await self._fail(tenant_id, row, refusal, route_name)
            return Step.DONE

    async def _deliver_local(self, tenant_id: uuid.UUID, row: Any, route: Route) -> Step:
        assert route.tenant_id is not None
        async with self.ctx.db.transaction(tenant_id, read_only=True) as conn:
            data = await load_packet(conn, row.packet_id)
        taken = await self.receiver.receive(
            route.tenant_id, data, message_type=row.kind, source="local"
        )
        if taken.outcome is Outcome.REFUSED and not taken.answered and taken.refusal is not None:
            # The recipient refused without a word back (it could not read the packet): the
            # sender must learn it here.
            raise Refusal(
                f"recipient-{taken.refusal.reason}"[:60],
                taken.refusal.detail_vi,
                taken.refusal.detail_en,
                path=taken.refusal.path,
            )
        await self._sent(tenant_id, row, route="local", recipient_tenant=route.tenant_id)
        return Step.DONE

    async def _deliver_axis(self, tenant_id: uuid.UUID, row: Any, gate: _AxisGate) -> Step:
        client = await gate.open()
        if client is None:
            if gate.row is None or not gate.row.enabled:
                raise Refusal(
                    "no-connector",
                    f"Nơi nhận {row.recipient_code} ở ngoài nền tảng và cơ quan chưa có kết nối "
                    "trục liên thông đang bật.",
                    f"Recipient {row.recipient_code} is outside the platform and the agency has "
                    "no enabled axis connector.",
                )
            return Step.STOP  # backing off (or the secret is unreadable): wait in line
        async with self.ctx.db.transaction(tenant_id) as conn:
            slot = await connectors.take_slot(conn, tenant_id, self.ctx.now())
            data = await load_packet(conn, row.packet_id) if slot else b""
        if not slot:
            gate.close("rate limit")
            return Step.STOP
        gate.used = True
        message_type = MessageType.STATUS if row.kind == "status" else MessageType.EDOC
        try:
            doc_id = await client.send_edoc(
                data,
                sender=row.sender_code,
                recipients=[row.recipient_code],
                message_type=message_type,
            )
        except AxisUnavailable as error:
            gate.close(error.detail_en or str(error))
            raise TemporaryFailure(error.detail_vi, error.detail_en) from error
        except AxisRefused as error:
            code = error.error_code
            if code in _CONNECTOR_ERRORS or error.http_status in (401, 403):
                gate.close(f"axis refused the connector: {code} {error.description}")
                raise TemporaryFailure(error.detail_vi, error.detail_en) from error
            if code == "20" or error.http_status >= 500:  # lỗi hệ thống LGSP/VDXP
                gate.close(f"axis system error: {code} {error.description}")
                raise TemporaryFailure(error.detail_vi, error.detail_en) from error
            raise Refusal(f"axis-refused-{code}"[:60], error.detail_vi, error.detail_en) from error
        gate.sent += 1
        await self._sent(tenant_id, row, route="axis", axis_doc_id=doc_id)
        return Step.DONE

    async def _sent(
        self,
        tenant_id: uuid.UUID,
        row: Any,
        *,
        route: str,
        recipient_tenant: uuid.UUID | None = None,
        axis_doc_id: str | None = None,
    ) -> None:
        now = self.ctx.now()
        async with self.ctx.db.transaction(tenant_id) as conn:
            await conn.execute(
                update(outgoing)
                .where(outgoing.c.id == row.id)
                .values(
                    state="sent",
                    route=route,
                    recipient_tenant_id=recipient_tenant,
                    axis_doc_id=axis_doc_id,
                    attempts=outgoing.c.attempts + 1,
                    sent_at=now,
                    last_error=None,
                )
            )
            if row.kind == "edoc" and row.docs_id is not None:
                await publish_status(
                    conn,
                    tenant_id,
                    outgoing_id=row.docs_id,
                    business=row.business or "new",
                    edxml_document_id=row.edxml_document_id,
                    recipient_code=row.recipient_code,
                    status="sent",
                    at=now,
                )
        delivered("outgoing", "sent", route, row.kind)

    async def _retry_later(self, tenant_id: uuid.UUID, row: Any, error: str) -> None:
        now = self.ctx.now()
        async with self.ctx.db.transaction(tenant_id) as conn:
            await conn.execute(
                update(outgoing)
                .where(outgoing.c.id == row.id)
                .values(
                    attempts=outgoing.c.attempts + 1,
                    next_attempt_at=now + connectors.backoff(self.ctx, row.attempts + 1),
                    last_error=error[:1000],
                )
            )

    async def _fail(
        self, tenant_id: uuid.UUID, row: Any, refusal: Refusal, route: str = "unknown"
    ) -> None:
        logger.warning(
            "message_failed",
            extra={
                "tenant_id": str(tenant_id),
                "recipient": row.recipient_code,
                "reason": refusal.reason,
            },
        )
        now = self.ctx.now()
        async with self.ctx.db.transaction(tenant_id) as conn:
            await conn.execute(
                update(outgoing)
                .where(outgoing.c.id == row.id)
                .values(
                    state="failed",
                    attempts=outgoing.c.attempts + 1,
                    last_error=refusal.detail[:1000],
                )
            )
            await dead_letters.record(
                conn,
                tenant_id,
                refusal,
                direction="outgoing",
                now=now,
                edxml_document_id=row.edxml_document_id,
                sender_code=row.sender_code,
                recipient_code=row.recipient_code,
                outgoing_id=row.id,
                sent_document_id=row.sent_document_id,
                packet_id=row.packet_id,
            )
            if row.kind == "edoc" and row.docs_id is not None:
                await publish_status(
                    conn,
                    tenant_id,
                    outgoing_id=row.docs_id,
                    business=row.business or "new",
                    edxml_document_id=row.edxml_document_id,
                    recipient_code=row.recipient_code,
                    status="failed",
                    description=refusal.detail_vi,
                    at=now,
                )
        delivered("outgoing", "failed", route, row.kind)
