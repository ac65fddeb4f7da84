"""The interchange service's machinery in one object: the event handlers, an agency's send and
poll runs, the scheduler's question "who has work now", and the replay of dead letters. The
app, the consumer, the worker, the CLI, the tests and the benchmark all drive this same object.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import or_, select, union, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.auth.service_tokens import ServiceTokens
from services.common.db import Database
from services.common.outbox import Event
from services.common.problems import Conflict
from services.interchange.connectors.secrets import secret_box
from services.interchange.context import Clock, Context, Jobs, NoJobs, utc_now
from services.interchange.dead_letters import service as dead_letters
from services.interchange.dead_letters.service import DeadLetterView
from services.interchange.deliveries.answers import accept_status_changed
from services.interchange.deliveries.events import DOCUMENT_ISSUED, DOCUMENT_STATUS_CHANGED
from services.interchange.deliveries.inbound import Outcome, Receiver
from services.interchange.deliveries.outbound import accept_issued
from services.interchange.deliveries.polling import Poller
from services.interchange.deliveries.purge import purge_packets
from services.interchange.deliveries.queueing import load_packet
from services.interchange.deliveries.sending import Sender
from services.interchange.failures import Refusal
from services.interchange.platform.agencies import Agencies, IdentityAgencies
from services.interchange.platform.storage import StorageClient
from services.interchange.settings import InterchangeSettings
from services.interchange.tables import connector, outgoing, sent_document

logger = logging.getLogger("qlvb.interchange")

TOPICS = [DOCUMENT_ISSUED, DOCUMENT_STATUS_CHANGED]
_HANDLERS = {DOCUMENT_ISSUED: accept_issued, DOCUMENT_STATUS_CHANGED: accept_status_changed}


@dataclass
class Due:
    polls: list[uuid.UUID] = field(default_factory=list)
    sends: list[uuid.UUID] = field(default_factory=list)


def build_context(
    settings: InterchangeSettings,
    *,
    db: Database,
    http: httpx.AsyncClient,
    platform_db: Database | None = None,
    axis_http: httpx.AsyncClient | None = None,
    jobs: Jobs | None = None,
    clock: Clock = utc_now,
    agencies: Agencies | None = None,
    storage: StorageClient | None = None,
) -> Context:
    """The context of one process. `http` reaches Keycloak, identity and storage; the axis
    gets a pool of its own (`axis_http`), so a hung axis cannot starve calls inside the
    platform."""
    tokens = ServiceTokens(settings.oidc, settings.client_id, settings.client_secret, http)
    return Context(
        settings=settings,
        db=db,
        platform_db=platform_db,
        agencies=agencies
        or IdentityAgencies(
            settings.identity_url,
            http,
            tokens,
            ttl_seconds=settings.agency_cache_seconds,
            miss_seconds=settings.agency_miss_seconds,
        ),
        storage=storage or StorageClient(settings.storage_url, http, tokens),
        secrets=secret_box(settings),
        axis_http=axis_http or axis_pool(),
        jobs=jobs or NoJobs(),
        clock=clock,
    )


def axis_pool() -> httpx.AsyncClient:
    # Each call carries its connector's own timeout; this one only bounds connecting.
    return httpx.AsyncClient(
        timeout=httpx.Timeout(60.0, connect=5.0),
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
    )


class Interchange:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.receiver = Receiver(ctx)
        self.sender = Sender(ctx, self.receiver)
        self.poller = Poller(ctx, self.receiver)

    # -- events ------------------------------------------------------------------------------

    async def handle_event(self, conn: AsyncConnection, event: Event) -> None:
        """Apply a consumed event in its transaction; a refused one becomes a dead letter
        (never an exception: a bad event must not stall the stream for every agency)."""
        handler = _HANDLERS.get(event.topic)
        if handler is None:
            logger.warning("event_ignored", extra={"topic": event.topic})
            return
        try:
            queued = await handler(self.ctx, conn, event.tenant_id, event.payload)
        except Refusal as refusal:
            logger.warning(
                "event_refused",
                extra={"topic": event.topic, "event_id": str(event.id), "reason": refusal.reason},
            )
            edxml_id = event.payload.get("edxml_document_id")
            await dead_letters.record(
                conn,
                event.tenant_id,
                refusal,
                direction="event",
                now=self.ctx.now(),
                edxml_document_id=edxml_id if isinstance(edxml_id, str) else None,
                event={"topic": event.topic, "id": str(event.id), "payload": event.payload},
            )
            return
        if queued:
            await self.ctx.jobs.send(event.tenant_id)

    # -- per-agency runs ---------------------------------------------------------------------

    async def send(self, tenant_id: uuid.UUID) -> int:
        return await self.sender.send(tenant_id)

    async def poll(self, tenant_id: uuid.UUID, *, force: bool = False) -> int:
        return await self.poller.poll(tenant_id, force=force)

    async def due(self, tenants: Collection[uuid.UUID] | None = None) -> Due:
        """Agencies whose connector should be polled now, and those with messages to send.
        Read across agencies as the relay role (the scheduler's one cross-tenant read)."""
        if self.ctx.platform_db is None:
            raise RuntimeError("the scheduler needs the platform (relay) database")
        now = self.ctx.now()
        polls_query = select(connector.c.tenant_id).where(
            connector.c.enabled.is_(True),
            or_(connector.c.next_poll_at.is_(None), connector.c.next_poll_at <= now),
            or_(connector.c.retry_at.is_(None), connector.c.retry_at <= now),
        )
        sends_query = union(
            select(outgoing.c.tenant_id).where(
                outgoing.c.state == "pending", outgoing.c.next_attempt_at <= now
            ),
            select(sent_document.c.tenant_id).where(
                sent_document.c.state == "pending", sent_document.c.next_attempt_at <= now
            ),
        )
        async with self.ctx.platform_db.transaction(None, read_only=True) as conn:
            polls = list((await conn.execute(polls_query)).scalars())
            sends = list((await conn.execute(sends_query)).scalars())
        if tenants is not None:
            wanted = set(tenants)
            polls = [t for t in polls if t in wanted]
            sends = [t for t in sends if t in wanted]
        return Due(polls=polls, sends=sends)

    async def tick(self, tenants: Collection[uuid.UUID] | None = None) -> Due:
        """Ask for a job for every agency with work (jobs with the same key collapse)."""
        due = await self.due(tenants)
        for tenant_id in due.polls:
            await self.ctx.jobs.poll(tenant_id)
        for tenant_id in due.sends:
            await self.ctx.jobs.send(tenant_id)
        return due

    async def purge(self, tenants: Collection[uuid.UUID] | None = None) -> int:
        """Drop the bytes of packets past their retention (`deliveries/purge.py`)."""
        return await purge_packets(self.ctx, tenants)

    # -- dead letters ------------------------------------------------------------------------

    async def replay(self, tenant_id: uuid.UUID, letter_id: uuid.UUID) -> DeadLetterView:
        """Run a dead letter's step again. A message is put back in its recipient's queue
        (behind what is queued now), a document request is built again, a refused packet or
        event goes through its pipeline again; a new refusal keeps the letter open with the
        new reason."""
        async with self.ctx.db.transaction(tenant_id, read_only=True) as conn:
            letter = await dead_letters.fetch(conn, letter_id)
        if letter.state != "open":
            raise Conflict("Thư hỏng này đã được chạy lại.", "This dead letter was replayed.")
        error: str | None = None
        try:
            await self._replay(tenant_id, letter)
        except Refusal as refusal:
            # Shown beside the letter on the operators' page, so in Vietnamese like its detail.
            error = f"{refusal.reason}: {refusal.detail_vi or refusal.detail_en}"
        async with self.ctx.db.transaction(tenant_id) as conn:
            await dead_letters.mark_replayed(conn, letter_id, self.ctx.now(), error)
            row = await dead_letters.fetch(conn, letter_id)
        if error is None:
            await self.ctx.jobs.send(tenant_id)
        return dead_letters.view(row)

    async def _replay(self, tenant_id: uuid.UUID, letter: Any) -> None:
        now = self.ctx.now()
        if letter.outgoing_id is not None:
            async with self.ctx.db.transaction(tenant_id) as conn:
                await conn.execute(
                    update(outgoing)
                    .where(outgoing.c.id == letter.outgoing_id, outgoing.c.state == "failed")
                    .values(state="pending", attempts=0, next_attempt_at=now, last_error=None)
                )
            return
        if letter.event is not None:
            event = letter.event
            handler = _HANDLERS.get(str(event.get("topic")))
            if handler is None:
                raise Refusal("unknown-topic", "Không rõ loại sự kiện.", "Unknown event topic.")
            async with self.ctx.db.transaction(tenant_id) as conn:
                await handler(self.ctx, conn, tenant_id, dict(event.get("payload") or {}))
            return
        if letter.sent_document_id is not None and letter.recipient_code is None:
            async with self.ctx.db.transaction(tenant_id) as conn:
                await conn.execute(
                    update(sent_document)
                    .where(
                        sent_document.c.id == letter.sent_document_id,
                        sent_document.c.state == "failed",
                    )
                    .values(state="pending", attempts=0, next_attempt_at=now, last_error=None)
                )
            return
        if letter.direction == "incoming" and letter.packet_id is not None:
            async with self.ctx.db.transaction(tenant_id, read_only=True) as conn:
                data = await load_packet(conn, letter.packet_id)
            taken = await self.receiver.receive(
                tenant_id,
                data,
                message_type="status" if letter.message_type == "status" else "edoc",
                source="axis" if letter.source == "axis" else "local",
                axis_doc_id=letter.axis_doc_id,
                record_refusal=False,
            )
            if taken.outcome is Outcome.REFUSED:  # pragma: no cover - raised above instead
                raise taken.refusal or Refusal("refused", "Bị từ chối.", "Refused.")
            return
        raise Refusal(
            "nothing-to-replay",
            "Không còn gì để chạy lại (gói tin không được lưu, hoặc nơi nhận sai mã).",
            "Nothing to replay (the packet was not kept, or the recipient code is wrong).",
        )
