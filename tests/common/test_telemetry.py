"""The kernel's HTTP and SQL telemetry: spans only for sampled requests, one histogram for all.

The SDK's in-memory exporter and reader stand in for the OTLP collector (the collector is not
part of the platform); the database is the real one."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from litestar import Litestar, get
from litestar.params import FromPath
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import func, select

from services.common.db import Database
from services.common.problems import NotFound, exception_handlers
from services.common.telemetry import http_telemetry_middleware, instrument_engine
from services.identity.tables import department

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_SPAN_ID = "00f067aa0ba902b7"

_spans = InMemorySpanExporter()
_metrics = InMemoryMetricReader()


@pytest.fixture(scope="module", autouse=True)
def providers() -> None:
    # Global providers can be set once per process; nothing else in the suite sets them.
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(_spans))
    trace.set_tracer_provider(provider)
    metrics.set_meter_provider(MeterProvider(metric_readers=[_metrics]))


@pytest.fixture
async def client(identity_db: Database) -> AsyncIterator[httpx.AsyncClient]:
    instrument_engine(identity_db.engine)

    @get("/probe/{tenant_id:uuid}")
    async def probe(tenant_id: FromPath[uuid.UUID]) -> dict[str, int]:
        async with identity_db.transaction(tenant_id, read_only=True) as conn:
            count = (await conn.execute(select(func.count()).select_from(department))).scalar()
        return {"departments": int(count or 0)}

    @get("/missing")
    async def missing() -> None:
        raise NotFound("Không có.", "Nothing here.")

    app = Litestar(
        [probe, missing],
        middleware=[http_telemetry_middleware()],
        exception_handlers=exception_handlers(),
    )
    _spans.clear()
    # In the test's own event loop: the database pool belongs to it.
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://qlvb.test") as test_client:
        yield test_client


def _durations() -> dict[tuple[str, int], int]:
    """Request counts of the duration histogram, by (route, status)."""
    data = _metrics.get_metrics_data()
    counts: dict[tuple[str, int], int] = {}
    for resource in data.resource_metrics if data else []:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                if metric.name != "http.server.request.duration":
                    continue
                for point in metric.data.data_points:
                    key = (
                        str(point.attributes["http.route"]),
                        int(point.attributes["http.response.status_code"]),
                    )
                    counts[key] = counts.get(key, 0) + point.count
    return counts


async def test_sampled_request_has_a_server_span_with_its_sql_child(
    client: httpx.AsyncClient, tenant: uuid.UUID
) -> None:
    response = await client.get(
        f"/probe/{tenant}", headers={"traceparent": f"00-{TRACE_ID}-{PARENT_SPAN_ID}-01"}
    )
    assert response.status_code == 200
    spans = {span.name: span for span in _spans.get_finished_spans()}
    server = spans["GET /probe/{tenant_id}"]
    assert server.kind == trace.SpanKind.SERVER
    assert format(server.context.trace_id, "032x") == TRACE_ID
    assert server.parent is not None
    assert format(server.parent.span_id, "016x") == PARENT_SPAN_ID
    assert server.attributes is not None
    assert server.attributes["http.response.status_code"] == 200
    assert server.attributes["http.route"] == "/probe/{tenant_id}"
    [sql] = [span for span in spans.values() if span.kind == trace.SpanKind.CLIENT]
    assert sql.name.startswith("SELECT ")
    assert sql.parent is not None
    assert sql.parent.span_id == server.context.span_id
    assert sql.attributes is not None
    assert "identity.department" in str(sql.attributes["db.statement"])


async def test_unsampled_request_records_no_span_but_is_counted(
    client: httpx.AsyncClient, tenant: uuid.UUID
) -> None:
    before = _durations().get(("/probe/{tenant_id}", 200), 0)
    response = await client.get(
        f"/probe/{tenant}", headers={"traceparent": f"00-{TRACE_ID}-{PARENT_SPAN_ID}-00"}
    )
    assert response.status_code == 200
    assert _spans.get_finished_spans() == ()
    assert _durations()[("/probe/{tenant_id}", 200)] == before + 1


async def test_a_problem_is_counted_with_its_status(client: httpx.AsyncClient) -> None:
    before = _durations().get(("/missing", 404), 0)
    response = await client.get("/missing")
    assert response.status_code == 404
    assert _durations()[("/missing", 404)] == before + 1
    [server] = _spans.get_finished_spans()
    assert server.attributes is not None
    assert server.attributes["http.response.status_code"] == 404


async def test_an_event_continues_the_trace_of_the_request_that_published_it(
    identity_db: Database, tenant: uuid.UUID
) -> None:
    """Request -> outbox row -> relay -> Redis stream -> consumer: one trace."""
    from redis.asyncio import Redis
    from sqlalchemy import insert

    from services.common.outbox import EventConsumer, OutboxRelay, publish
    from services.identity.tables import outbox, processed_event

    topic = f"test.trace.{uuid.uuid4().hex}"
    instrument_engine(identity_db.engine)
    redis = Redis.from_url(os.environ["QLVB_REDIS_URL"])
    relay_db = Database.from_url(os.environ["QLVB_IDENTITY_RELAY_DATABASE_URL"], pool_size=1)

    async def handler(conn: Any, event: Any) -> None:
        await conn.execute(
            insert(department).values(
                tenant_id=event.tenant_id, id=uuid.uuid4(), name="Theo dấu", short_name="TR"
            )
        )

    try:
        _spans.clear()
        with trace.get_tracer("test").start_as_current_span("request") as request_span:
            async with identity_db.transaction(tenant) as conn:
                await publish(conn, outbox, tenant, topic, {"x": 1})
        await OutboxRelay(relay_db, redis, outbox).relay_once()
        consumer = EventConsumer(
            redis=redis,
            db=identity_db,
            processed=processed_event,
            group=f"trace-{uuid.uuid4().hex[:6]}",
            topics=[topic],
            handler=handler,
        )
        await consumer.ensure_groups()
        assert await consumer.consume_once(block_ms=100) == 1
    finally:
        await redis.aclose()
        await relay_db.dispose()
    spans = _spans.get_finished_spans()
    [consumed] = [s for s in spans if s.name == f"consume {topic}"]
    assert consumed.context.trace_id == request_span.get_span_context().trace_id
    assert consumed.kind == trace.SpanKind.CONSUMER
    inserts = [
        s
        for s in spans
        if s.kind == trace.SpanKind.CLIENT
        and s.parent is not None
        and s.parent.span_id == consumed.context.span_id
    ]
    assert inserts  # the handler's SQL is part of the same trace
