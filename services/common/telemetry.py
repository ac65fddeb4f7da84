"""OpenTelemetry for a service: traces, metrics and logs that carry the trace id.

Exporter by setting: OTLP over HTTP in a cluster, the console locally, or none. Traces are
head-sampled (parent-based, ratio for new traces) and batched: a span costs ~20 us to record
and ~23 us to export here, and a sampled request with its SQL spans ~10x that, so unsampled
requests must stay almost free (bench/telemetry_overhead measures it)."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.instrumentation.redis import RedisInstrumentor
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
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


def instrument_engine(engine: AsyncEngine) -> None:
    SQLAlchemyInstrumentor().instrument(engine=engine.sync_engine, enable_commenter=False)
