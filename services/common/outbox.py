"""The transactional outbox and the idempotent stream consumer.

A service writes an event row in the same transaction as the business change (`publish`), so an
event exists if and only if the change committed. The relay copies unpublished rows to a Redis
Stream per topic and then marks them published; if it dies between the two, the rows go out
again (at least once). A consumer applies each event inside a database transaction that also
records the event id in `processed_event`, so a repeated delivery changes nothing (exactly-once
effect), and acknowledges the stream entry only after that transaction committed."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import socket
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from opentelemetry import propagate, trace
from redis.asyncio import Redis
from redis.exceptions import ResponseError
from sqlalchemy import (
    Column,
    DateTime,
    MetaData,
    String,
    Table,
    Uuid,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.db import Database

logger = logging.getLogger("qlvb.outbox")
_tracer = trace.get_tracer("qlvb.events")

STREAM_PREFIX = "qlvb:events:"
# Events a consumer group could not apply after several attempts: `qlvb:dead:<topic>`.
DEAD_LETTER_PREFIX = "qlvb:dead:"
# Streams are trimmed approximately to this length: consumers are expected to keep up within it.
STREAM_MAX_LENGTH = 1_000_000


class Event(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    topic: str
    tenant_id: uuid.UUID
    occurred_at: dt.datetime
    payload: dict[str, Any]
    headers: dict[str, str] = {}


def outbox_table(metadata: MetaData) -> Table:
    return Table(
        "outbox",
        metadata,
        Column("id", Uuid, primary_key=True),
        Column("tenant_id", Uuid, nullable=False),
        Column("topic", String(100), nullable=False),
        Column("payload", JSONB, nullable=False),
        Column("headers", JSONB, nullable=False, server_default="{}"),
        Column("occurred_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("published_at", DateTime(timezone=True), nullable=True),
    )


def processed_event_table(metadata: MetaData) -> Table:
    return Table(
        "processed_event",
        metadata,
        Column("consumer", String(100), primary_key=True),
        Column("event_id", Uuid, primary_key=True),
        Column("tenant_id", Uuid, nullable=False),
        Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


def stream_name(topic: str) -> str:
    return STREAM_PREFIX + topic


async def publish(
    conn: AsyncConnection, outbox: Table, tenant_id: uuid.UUID, topic: str, payload: dict[str, Any]
) -> uuid.UUID:
    """Record an event in the caller's transaction; it is relayed only if that commits."""
    event_id = uuid.uuid4()
    headers: dict[str, str] = {}
    propagate.inject(headers)  # the consumer continues the trace of the request that caused it
    await conn.execute(
        insert(outbox).values(
            id=event_id, tenant_id=tenant_id, topic=topic, payload=payload, headers=headers
        )
    )
    return event_id


def encode_event(event: Event) -> dict[Any, Any]:
    # redis-py's field type is invariant over a wide union; a plain dict of str -> bytes is fine.
    return {"event": msgspec.json.encode(event)}


def decode_event(fields: dict[bytes, bytes]) -> Event:
    return msgspec.json.decode(fields[b"event"], type=Event)


class OutboxRelay:
    """Moves committed outbox rows to Redis Streams. Several relays may run: rows are claimed
    with SKIP LOCKED, and per-tenant order is kept because each batch goes out in row order."""

    def __init__(self, db: Database, redis: Redis, outbox: Table, batch_size: int = 200) -> None:
        self._db = db
        self._redis = redis
        self._outbox = outbox
        self._batch_size = batch_size

    async def relay_once(self) -> int:
        o = self._outbox
        async with self._db.transaction(None) as conn:
            rows = (
                await conn.execute(
                    select(
                        o.c.id, o.c.tenant_id, o.c.topic, o.c.payload, o.c.headers, o.c.occurred_at
                    )
                    .where(o.c.published_at.is_(None))
                    .order_by(o.c.occurred_at, o.c.id)
                    .limit(self._batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return 0
            async with self._redis.pipeline(transaction=False) as pipe:
                for row in rows:
                    event = Event(
                        id=row.id,
                        topic=row.topic,
                        tenant_id=row.tenant_id,
                        occurred_at=row.occurred_at,
                        payload=row.payload,
                        headers=row.headers or {},
                    )
                    pipe.xadd(
                        stream_name(row.topic),
                        encode_event(event),
                        maxlen=STREAM_MAX_LENGTH,
                        approximate=True,
                    )
                await pipe.execute()
            await conn.execute(
                update(o)
                .where(o.c.id.in_([row.id for row in rows]))
                .values(published_at=func.now())
            )
            return len(rows)

    async def run(self, stop: asyncio.Event, idle_seconds: float = 0.2) -> None:
        while not stop.is_set():
            try:
                moved = await self.relay_once()
            except Exception:
                logger.exception("outbox_relay_failed")
                moved = 0
                await asyncio.sleep(1.0)
            if moved == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=idle_seconds)


Handler = Callable[[AsyncConnection, Event], Awaitable[None]]


class EventConsumer:
    """Reads topics as a Redis consumer group and applies each event exactly once."""

    def __init__(
        self,
        *,
        redis: Redis,
        db: Database,
        processed: Table,
        group: str,
        topics: list[str],
        handler: Handler,
        consumer: str | None = None,
        claim_idle_ms: int = 30_000,
        max_deliveries: int = 5,
    ) -> None:
        self._redis = redis
        self._db = db
        self._processed = processed
        self._group = group
        self._streams = [stream_name(t) for t in topics]
        self._handler = handler
        self._consumer = consumer or f"{socket.gethostname()}-{uuid.uuid4().hex[:8]}"
        self._claim_idle_ms = claim_idle_ms
        self._max_deliveries = max_deliveries

    async def ensure_groups(self) -> None:
        for stream in self._streams:
            try:
                await self._redis.xgroup_create(stream, self._group, id="0", mkstream=True)
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

    async def _apply(self, event: Event) -> bool:
        """Apply the event unless this consumer already did; True when it was applied now."""
        p = self._processed
        async with self._db.transaction(event.tenant_id) as conn:
            claimed = await conn.execute(
                pg_insert(p)
                .values(consumer=self._group, event_id=event.id, tenant_id=event.tenant_id)
                .on_conflict_do_nothing()
                .returning(p.c.event_id)
            )
            if claimed.first() is None:
                return False
            # The event continues the trace of the request that published it: a consumer span
            # under the remote parent (recorded when that trace was sampled), SQL spans below.
            parent = propagate.extract(event.headers)
            with _tracer.start_as_current_span(
                f"consume {event.topic}",
                context=parent,
                kind=trace.SpanKind.CONSUMER,
                attributes={
                    "messaging.system": "redis",
                    "messaging.destination.name": stream_name(event.topic),
                    "messaging.consumer.group.name": self._group,
                    "messaging.message.id": str(event.id),
                },
            ):
                await self._handler(conn, event)
            return True

    async def _handle_entries(
        self, stream: str, entries: list[tuple[bytes, dict[bytes, bytes]]]
    ) -> int:
        handled = 0
        for entry_id, fields in entries:
            try:
                event = decode_event(fields)
            except (msgspec.DecodeError, msgspec.ValidationError, KeyError):
                logger.error("event_undecodable", extra={"stream": stream, "entry": entry_id})
                await self._dead_letter(stream, entry_id, fields, "undecodable")
                continue
            try:
                await self._apply(event)
            except Exception as exc:
                # One failing event must not hold up the others of the batch: it stays
                # pending (another read or a reclaim retries it) until it has failed too often.
                logger.exception(
                    "event_handler_failed",
                    extra={"stream": stream, "entry": entry_id, "group": self._group},
                )
                if await self._deliveries(stream, entry_id) >= self._max_deliveries:
                    await self._dead_letter(stream, entry_id, fields, repr(exc))
                continue
            await self._redis.xack(stream, self._group, entry_id)
            handled += 1
        return handled

    async def _deliveries(self, stream: str, entry_id: bytes) -> int:
        pending = await self._redis.xpending_range(
            stream, self._group, min=entry_id, max=entry_id, count=1
        )
        return int(pending[0]["times_delivered"]) if pending else 0

    async def _dead_letter(
        self, stream: str, entry_id: bytes, fields: dict[bytes, bytes], reason: str
    ) -> None:
        """Park an event that cannot be applied where operators can see it, and move on."""
        dead = DEAD_LETTER_PREFIX + stream.removeprefix(STREAM_PREFIX)
        entry: dict[Any, Any] = {
            **fields,
            b"group": self._group.encode(),
            b"entry": entry_id,
            b"reason": reason.encode()[:2000],
        }
        await self._redis.xadd(dead, entry, maxlen=100_000, approximate=True)
        await self._redis.xack(stream, self._group, entry_id)
        logger.error(
            "event_dead_lettered",
            extra={"stream": stream, "entry": entry_id, "group": self._group, "reason": reason},
        )

    async def consume_once(self, block_ms: int = 1000, count: int = 100) -> int:
        """Reclaim entries another consumer left unacknowledged, then read new ones."""
        handled = 0
        for stream in self._streams:
            _, claimed, _ = await self._redis.xautoclaim(
                stream,
                self._group,
                self._consumer,
                min_idle_time=self._claim_idle_ms,
                start_id="0-0",
                count=count,
            )
            handled += await self._handle_entries(stream, claimed)
        response: Any = await self._redis.xreadgroup(
            self._group,
            self._consumer,
            dict.fromkeys(self._streams, ">"),
            count=count,
            block=block_ms,
        )
        for stream, entries in response or []:
            name = stream.decode() if isinstance(stream, bytes) else stream
            handled += await self._handle_entries(name, entries)
        return handled

    async def run(self, stop: asyncio.Event) -> None:
        await self.ensure_groups()
        while not stop.is_set():
            try:
                await self.consume_once()
            except Exception:
                logger.exception("event_consumer_failed", extra={"group": self._group})
                await asyncio.sleep(1.0)
