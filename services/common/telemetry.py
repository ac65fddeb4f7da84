"""OpenTelemetry for a service: traces, metrics and logs that carry the trace id.

Exporter by setting: OTLP over HTTP in a cluster, the console locally, or none. Traces are
head-sampled (parent-based, ratio for new traces) and batched: a span costs ~20 us to record
and ~23 us to export here, and a sampled request with its SQL spans ~10x that, so unsampled
requests must stay almost free (bench/telemetry_overhead measures it)."""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from litestar.enums import ScopeType
from litestar.middleware.base import DefineMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from opentelemetry import context, metrics, propagate, trace
from opentelemetry.context import Context
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.instrumentation.redis import RedisInstrumentor
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    ConsoleMetricExporter,
    MetricExporter,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.settings import TelemetrySettings

_configured = False


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line: event name, level, logger, trace and span ids, extra fields."""

    _standard = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            entry["trace_id"] = format(context.trace_id, "032x")
            entry["span_id"] = format(context.span_id, "016x")
        for key, value in record.__dict__.items():
            if key not in self._standard and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLogFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)


def _exporters(settings: TelemetrySettings) -> tuple[SpanExporter, MetricExporter] | None:
    if settings.exporter == "console":
        return ConsoleSpanExporter(), ConsoleMetricExporter()
    if settings.exporter == "otlp":
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        base = settings.otlp_endpoint.rstrip("/")
        return OTLPSpanExporter(endpoint=f"{base}/v1/traces"), OTLPMetricExporter(
            endpoint=f"{base}/v1/metrics"
        )
    return None


def configure_telemetry(service: str, settings: TelemetrySettings) -> bool:
    """Install the global providers once per process; False when telemetry is off."""
    global _configured
    exporters = _exporters(settings)
    if exporters is None:
        return False
    if _configured:
        return True
    span_exporter, metric_exporter = exporters
    resource = Resource.create({"service.name": f"qlvb-{service}", "service.namespace": "qlvb"})
    tracer_provider = TracerProvider(
        resource=resource, sampler=ParentBased(TraceIdRatioBased(settings.sample_ratio))
    )
    tracer_provider.add_span_processor(BatchSpanProcessor(span_exporter))
    trace.set_tracer_provider(tracer_provider)
    reader = PeriodicExportingMetricReader(metric_exporter, export_interval_millis=30_000)
    metrics.set_meter_provider(MeterProvider(resource=resource, metric_readers=[reader]))
    RedisInstrumentor().instrument()
    HTTPXClientInstrumentor().instrument()
    _configured = True
    return True


def trace_carrier() -> dict[str, str]:
    """The current trace context as W3C headers, for work that goes on elsewhere (an outbox row,
    a job): empty when there is no trace."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


@contextmanager
def continued(carrier: Mapping[str, str] | None) -> Iterator[None]:
    """Run the block in the trace `carrier` names (a new one when it names none), and in
    nothing else of the caller's context: the polling loops around it run `untraced()`, and the
    work itself must be traced (its HTTP calls must carry `traceparent`)."""
    token = context.attach(propagate.extract(dict(carrier or {}), context=Context()))
    try:
        yield
    finally:
        context.detach(token)


def untraced() -> AbstractContextManager[None]:
    """No spans from the contrib instrumentations inside (Redis, httpx): a loop that polls a
    stream or a queue every second would start a trace of its own a second."""
    return suppress_instrumentation()


Attributes = Mapping[str, str]


class Readings:
    """The latest figures a service's async loop measured, observed by a gauge at export time.

    Observable callbacks run on the metric reader's thread and cannot await a query, so the
    loop that can (a relay, a consumer, a job) measures and `set`s; the callback only reads.
    With `ttl_seconds`, a figure not measured again within that time is no longer reported: a
    cron job runs on one worker pod or another, and a pod that has not run it lately must not
    keep reporting its old figure beside the fresh one."""

    def __init__(self, ttl_seconds: float | None = None) -> None:
        self._ttl = ttl_seconds
        self._lock = threading.Lock()
        self._values: dict[frozenset[tuple[str, str]], tuple[float, float]] = {}

    def set(self, value: float, attributes: Attributes) -> None:
        with self._lock:
            self._values[frozenset(attributes.items())] = (value, time.monotonic())

    def replace(self, values: Iterable[tuple[Attributes, float]], where: Attributes) -> None:
        """A new measurement of everything `where` selects: figures it no longer names (a
        tenant whose backlog is gone) stop being reported, and their series go stale."""
        scope = set(where.items())
        now = time.monotonic()
        fresh = {frozenset(attributes.items()): (value, now) for attributes, value in values}
        with self._lock:
            kept = {k: v for k, v in self._values.items() if not scope <= k}
            self._values = kept | fresh

    def observe(self, options: CallbackOptions) -> list[Observation]:
        oldest = -float("inf") if self._ttl is None else time.monotonic() - self._ttl
        with self._lock:
            values = list(self._values.items())
        return [
            Observation(value, dict(attributes))
            for attributes, (value, measured) in values
            if measured >= oldest
        ]


_SQL_SPAN = "_qlvb_sql_span"
_STATEMENT_LIMIT = 2000


def instrument_engine(engine: AsyncEngine) -> None:
    """SQL spans for sampled requests only, and connection-pool gauges read at export time.

    The contrib SQLAlchemy instrumentation creates a span (recording or not) for every statement
    and updates connection-usage counters on every checkout and checkin; measured here that was
    a third of all telemetry overhead on a one-query request. This hook does nothing unless the
    current span is being recorded, and the pool figures cost nothing per request."""
    sync_engine = engine.sync_engine
    url = sync_engine.url
    database = url.database or "postgres"
    attributes: dict[str, str | int] = {
        "db.system": "postgresql",
        "db.name": database,
        "server.address": url.host or "",
        "server.port": url.port or 5432,
    }
    tracer = trace.get_tracer("qlvb.sql")

    def before_execute(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, executemany: bool
    ) -> None:
        if context is None or not trace.get_current_span().is_recording():
            return
        operation = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "SQL"
        span = tracer.start_span(
            f"{operation} {database}",
            kind=trace.SpanKind.CLIENT,
            attributes={**attributes, "db.statement": statement[:_STATEMENT_LIMIT]},
        )
        setattr(context, _SQL_SPAN, span)

    def after_execute(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, executemany: bool
    ) -> None:
        span = getattr(context, _SQL_SPAN, None)
        if span is not None:
            span.end()

    def on_error(exception_context: Any) -> None:
        span = getattr(exception_context.execution_context, _SQL_SPAN, None)
        if span is not None:
            error = exception_context.original_exception
            span.set_status(trace.Status(trace.StatusCode.ERROR, type(error).__name__))
            span.record_exception(error)
            span.end()

    event.listen(sync_engine, "before_cursor_execute", before_execute)
    event.listen(sync_engine, "after_cursor_execute", after_execute)
    event.listen(sync_engine, "handle_error", on_error)

    pool: Any = sync_engine.pool
    pool_name = f"{url.username}@{database}"

    def connection_counts(options: CallbackOptions) -> list[Observation]:
        pool_label = {"db.client.connection.pool.name": pool_name}
        return [
            Observation(pool.checkedout(), {**pool_label, "db.client.connection.state": "used"}),
            Observation(pool.checkedin(), {**pool_label, "db.client.connection.state": "idle"}),
        ]

    metrics.get_meter("qlvb.sql").create_observable_up_down_counter(
        "db.client.connection.count",
        callbacks=[connection_counts],
        unit="{connection}",
        description="Connections of the service's pool, by state.",
    )


_TRACE_HEADERS = {b"traceparent": "traceparent", b"tracestate": "tracestate", b"baggage": "baggage"}
UNTRACED_PATHS = frozenset({"/health", "/ready"})


def _status_of(exc: Exception) -> int:
    status = getattr(exc, "status_code", None) or getattr(exc, "status", None)
    return status if isinstance(status, int) else 500


def http_telemetry_middleware() -> DefineMiddleware:
    """A server span and one duration histogram per request, nearly free when unsampled.

    Replaces the ASGI instrumentation, which gathers every request attribute before the sampler
    decides and records five measurements per request; measured here, it made a one-query
    request a third slower. Attributes are set only on spans that are recorded."""
    tracer = trace.get_tracer("qlvb.http")
    duration = metrics.get_meter("qlvb.http").create_histogram(
        "http.server.request.duration",
        unit="s",
        description="Duration of HTTP server requests.",
    )

    class HttpTelemetry:
        def __init__(self, app: ASGIApp) -> None:
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != ScopeType.HTTP:
                await self.app(scope, receive, send)
                return
            if scope["path"] in UNTRACED_PATHS:
                # Probes come every few seconds: their Redis ping must not start a trace.
                with untraced():
                    await self.app(scope, receive, send)
                return
            method: str = scope["method"]
            route: str = scope.get("path_template", "") or scope["path"]
            carrier = {
                _TRACE_HEADERS[name]: value.decode("latin-1")
                for name, value in scope["headers"]
                if name in _TRACE_HEADERS
            }
            parent = propagate.extract(carrier) if carrier else None
            status = 500

            async def record_status(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                await send(message)

            started = time.perf_counter()
            with tracer.start_as_current_span(
                f"{method} {route}",
                context=parent,
                kind=trace.SpanKind.SERVER,
                record_exception=False,
                set_status_on_exception=False,
            ) as span:
                try:
                    await self.app(scope, receive, record_status)
                except Exception as exc:
                    # Litestar turns it into a response further out; its status is known here.
                    status = _status_of(exc)
                    if status >= 500 and span.is_recording():
                        span.record_exception(exc)
                    raise
                finally:
                    if span.is_recording():
                        _describe(span, scope, method, route, status)
                    duration.record(
                        time.perf_counter() - started,
                        {
                            "http.request.method": method,
                            "http.route": route,
                            "http.response.status_code": status,
                        },
                    )

    return DefineMiddleware(HttpTelemetry)


def _describe(span: trace.Span, scope: Scope, method: str, route: str, status: int) -> None:
    attributes: dict[str, str | int] = {
        "http.request.method": method,
        "http.route": route,
        "url.path": scope["path"],
        "url.scheme": scope.get("scheme", "http"),
        "http.response.status_code": status,
    }
    client = scope.get("client")
    if client:
        attributes["client.address"] = client[0]
    for name, value in scope["headers"]:
        if name == b"user-agent":
            attributes["user_agent.original"] = value.decode("latin-1")
    span.set_attributes(attributes)
    if status >= 500:
        span.set_status(trace.Status(trace.StatusCode.ERROR))
