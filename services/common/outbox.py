"""The transactional outbox and the idempotent stream consumer.

A service writes an event row in the same transaction as the business change (`publish`), so an
event exists if and only if the change committed. The relay copies unpublished rows to a Redis
Stream per topic and then marks them published; if it dies between the two, the rows go out
again (at least once). A consumer applies each event inside a database transaction that also
records the event id in `processed_event`, so a repeated delivery changes nothing (exactly-once
effect), and acknowledges the stream entry only after that transaction committed.

Each event carries the W3C trace context of the transaction that published it: the relay's
`publish <topic>` span continues it and passes its own context on, and the consumer's
`consume <topic>` span continues that, so a request, its events and their handlers make one
trace. The relay and the consumer measure their backlog (unpublished rows; stream entries not
yet read or not yet acknowledged by the group) for the gauges operators alert on."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import logging
import socket
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from opentelemetry import metrics, propagate, trace
from opentelemetry.context import Context
from redis.asyncio import Redis
from redis.exceptions import ResponseError
from sqlalchemy import (
    Column,
    DateTime,
    Insert,
    MetaData,
    String,
    Table,
    Uuid,
    extract,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common import heartbeat
from services.common.db import Database
from services.common.telemetry import Readings, continued, trace_carrier, untraced

logger = logging.getLogger("qlvb.outbox")
_tracer = trace.get_tracer("qlvb.events")
_meter = metrics.get_meter("qlvb.events")

# How often a relay or a consumer measures its backlog for the gauges (exported every 30 s).
MEASURE_SECONDS = 15.0

_published = _meter.create_counter(
    "qlvb.outbox.published",
    unit="{event}",
    description="Events the relay moved from the outbox to their stream, by topic.",
)
_outbox_rows = Readings()
_meter.create_observable_gauge(
    "qlvb.outbox.backlog",
    callbacks=[_outbox_rows.observe],
    unit="{event}",
    description="Committed events the relay has not published yet, by outbox.",
)
_outbox_age = Readings()
_meter.create_observable_gauge(
    "qlvb.outbox.oldest_age",
    callbacks=[_outbox_age.observe],
    unit="s",
    description="How long the oldest unpublished event has waited for the relay, by outbox.",
)
_consumed = _meter.create_counter(
    "qlvb.events.consumed",
    unit="{event}",
    description="Stream entries a consumer group handled, by group, topic and outcome: "
    "applied, duplicate (applied before) or failed (left pending for a retry).",
)
_dead_lettered = _meter.create_counter(
    "qlvb.events.dead_lettered",
    unit="{event}",
    description="Events a consumer group gave up on and moved to qlvb:dead:<topic>.",
)
_group_pending = Readings()
_meter.create_observable_gauge(
    "qlvb.events.pending",
    callbacks=[_group_pending.observe],
    unit="{event}",
    description="Entries delivered to a consumer group and not acknowledged, by group, topic.",
)
_group_lag = Readings()
_meter.create_observable_gauge(
    "qlvb.events.lag",
    callbacks=[_group_lag.observe],
    unit="{event}",
    description="Entries of a stream its consumer group has not read yet, by group, topic.",
)

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
    headers = trace_carrier()  # the consumer continues the trace of the request that caused it
    values = {
        "id": event_id,
        "tenant_id": tenant_id,
        "topic": topic,
        "payload": payload,
        "headers": headers,
    }
    await conn.execute(_insert_into(outbox), values)
    return event_id


@functools.cache
def _insert_into(outbox: Table) -> Insert:
    # Built once per outbox: building the statement on every event cost more than running it.
    return insert(outbox)


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
        self._figures = {"outbox": outbox.schema or outbox.name}

    async def relay_once(self) -> int:
        o = self._outbox
        topics: Counter[str] = Counter()
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
            spans: list[trace.Span] = []
            async with self._redis.pipeline(transaction=False) as pipe:
                for row in rows:
                    headers, span = _publish_span(row.id, row.topic, row.headers or {})
                    if span is not None:
                        spans.append(span)
                    event = Event(
                        id=row.id,
                        topic=row.topic,
                        tenant_id=row.tenant_id,
                        occurred_at=row.occurred_at,
                        payload=row.payload,
                        headers=headers,
                    )
                    pipe.xadd(
                        stream_name(row.topic),
                        encode_event(event),
                        maxlen=STREAM_MAX_LENGTH,
                        approximate=True,
                    )
                    topics[row.topic] += 1
                try:
                    await pipe.execute()
                except Exception as exc:
                    for span in spans:
                        span.record_exception(exc)
                        span.set_status(trace.Status(trace.StatusCode.ERROR, type(exc).__name__))
                    raise
                finally:
                    for span in spans:
                        span.end()
            await conn.execute(
                update(o)
                .where(o.c.id.in_([row.id for row in rows]))
                .values(published_at=func.now())
            )
        for topic, count in topics.items():
            _published.add(count, {"topic": topic})
        return sum(topics.values())

    async def measure(self) -> tuple[int, float]:
        """Unpublished rows and the age of the oldest, in seconds (on the database's clock, as
        `occurred_at` is); read through the partial index of unpublished rows."""
        o = self._outbox
        async with self._db.transaction(None, read_only=True) as conn:
            row = (
                await conn.execute(
                    select(
                        func.count(),
                        func.coalesce(extract("epoch", func.now() - func.min(o.c.occurred_at)), 0),
                    ).where(o.c.published_at.is_(None))
                )
            ).one()
        backlog, age = int(row[0]), max(float(row[1]), 0.0)
        _outbox_rows.set(backlog, self._figures)
        _outbox_age.set(age, self._figures)
        return backlog, age

    async def run(self, stop: asyncio.Event, idle_seconds: float = 0.2) -> None:
        # The relay's own Redis and SQL traffic starts no trace; each event's span is its own.
        with untraced():
            measured_at = -MEASURE_SECONDS
            while not stop.is_set():
                heartbeat.beat(f"relay {self._figures['outbox']}")
                if time.monotonic() - measured_at >= MEASURE_SECONDS:
                    measured_at = time.monotonic()
                    await self._measure_quietly()
                try:
                    moved = await self.relay_once()
                except Exception:
                    logger.exception("outbox_relay_failed")
                    moved = 0
                    await asyncio.sleep(1.0)
                if moved == 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), timeout=idle_seconds)
            await self._measure_quietly()  # what the last export before the exit reports

    async def _measure_quietly(self) -> None:
        try:
            await self.measure()
        except Exception:
            logger.exception("outbox_measure_failed", extra=self._figures)


def _publish_span(
    event_id: uuid.UUID, topic: str, headers: dict[str, str]
) -> tuple[dict[str, str], trace.Span | None]:
    """A producer span under the trace the row was written in, and the headers that carry it
    on to the consumer; none for a row written outside any trace."""
    if "traceparent" not in headers:
        return headers, None
    span = _tracer.start_span(
        f"publish {topic}",
        context=propagate.extract(headers, context=Context()),
        kind=trace.SpanKind.PRODUCER,
        attributes={
            "messaging.system": "redis",
            "messaging.operation.type": "send",
            "messaging.destination.name": stream_name(topic),
            "messaging.message.id": str(event_id),
        },
    )
    carried: dict[str, str] = {}
    propagate.inject(carried, context=trace.set_span_in_context(span, Context()))
    return {**headers, **carried}, span


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
            # under the relay's publish span (recorded when that trace was sampled), the
            # handler's SQL, HTTP and jobs below.
            with (
                continued(event.headers),
                _tracer.start_as_current_span(
                    f"consume {event.topic}",
                    kind=trace.SpanKind.CONSUMER,
                    attributes={
                        "messaging.system": "redis",
                        "messaging.operation.type": "process",
                        "messaging.destination.name": stream_name(event.topic),
                        "messaging.consumer.group.name": self._group,
                        "messaging.message.id": str(event.id),
                    },
                ),
            ):
                await self._handler(conn, event)
                logger.info(
                    "event_applied",
                    extra={"topic": event.topic, "group": self._group, "event_id": str(event.id)},
                )
            return True

    async def _handle_entries(
        self, stream: str, entries: list[tuple[bytes, dict[bytes, bytes]]]
    ) -> int:
        handled = 0
        for entry_id, fields in entries:
            topic = stream.removeprefix(STREAM_PREFIX)
            try:
                event = decode_event(fields)
            except (msgspec.DecodeError, msgspec.ValidationError, KeyError):
                logger.error("event_undecodable", extra={"stream": stream, "entry": entry_id})
                await self._dead_letter(stream, entry_id, fields, "undecodable")
                continue
            try:
                applied = await self._apply(event)
            except Exception as exc:
                # One failing event must not hold up the others of the batch: it stays
                # pending (another read or a reclaim retries it) until it has failed too often.
                logger.exception(
                    "event_handler_failed",
                    extra={"stream": stream, "entry": entry_id, "group": self._group},
                )
                _consumed.add(1, {"group": self._group, "topic": topic, "outcome": "failed"})
                if await self._deliveries(stream, entry_id) >= self._max_deliveries:
                    await self._dead_letter(stream, entry_id, fields, repr(exc))
                continue
            await self._redis.xack(stream, self._group, entry_id)
            outcome = "applied" if applied else "duplicate"
            _consumed.add(1, {"group": self._group, "topic": topic, "outcome": outcome})
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
        _dead_lettered.add(1, {"group": self._group, "topic": stream.removeprefix(STREAM_PREFIX)})
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

    async def measure(self) -> dict[str, tuple[int, int | None]]:
        """Per topic: entries delivered to the group and not acknowledged, and entries not read
        yet (None when Redis cannot tell, after entries were deleted from the middle)."""
        figures: dict[str, tuple[int, int | None]] = {}
        for stream in self._streams:
            groups: list[dict[str, Any]] = await self._redis.xinfo_groups(stream)
            for group in groups:
                name = group["name"]
                if (name.decode() if isinstance(name, bytes) else name) != self._group:
                    continue
                lag = group.get("lag")
                topic = stream.removeprefix(STREAM_PREFIX)
                figures[topic] = (int(group["pending"]), None if lag is None else int(lag))
                attributes = {"group": self._group, "topic": topic}
                _group_pending.set(int(group["pending"]), attributes)
                if lag is not None:
                    _group_lag.set(int(lag), attributes)
        return figures

    async def run(self, stop: asyncio.Event) -> None:
        # Reading, claiming and acknowledging start no trace; each event's span is its own.
        with untraced():
            await self.ensure_groups()
            measured_at = -MEASURE_SECONDS
            while not stop.is_set():
                heartbeat.beat(f"consumer {self._group}")
                if time.monotonic() - measured_at >= MEASURE_SECONDS:
                    measured_at = time.monotonic()
                    await self._measure_quietly()
                try:
                    await self.consume_once()
                except Exception:
                    logger.exception("event_consumer_failed", extra={"group": self._group})
                    await asyncio.sleep(1.0)
            await self._measure_quietly()  # what the last export before the exit reports

    async def _measure_quietly(self) -> None:
        try:
            await self.measure()
        except Exception:
            logger.exception("event_consumer_measure_failed", extra={"group": self._group})
