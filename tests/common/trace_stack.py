"""The platform as it runs in a cluster, started by a test: each service and background process
of `qlvb` (serve, relay, consume, worker) a process of its own, exporting over OTLP/HTTP to a
small collector in the test process, which decodes what arrives.

Global telemetry providers are set once per process, so the services cannot run inside the
test process (whose providers, if any, belong to tests/common/test_telemetry.py); the test
reads what the processes exported, as an operator's collector would.

Isolation from `make run` and from the other tests: the processes use a database of their own
(`qlvb_trace`, migrated and seeded with the demo province like `qlvb seed-demo` does) and a Redis
database of their own (streams and saq queues), emptied at the start."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import msgspec
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from devstack.bootstrap_db import bootstrap_service_schemas, ensure_database
from devstack.environment import SERVICES, service_environment, stack_values
from services.common.db import Database
from services.common.migrations import upgrade

REPO = Path(__file__).resolve().parents[2]
PROVINCE = REPO / "devstack" / "demo-province.json"
TRACE_DATABASE = "qlvb_trace"
# Redis of the local stack has 16 databases; `make run` and the other tests use database 0.
TRACE_REDIS_DB = 9
# Guards against a hung process only: nothing here asserts how fast anything is.
PATIENCE_SECONDS = 300.0


# ---------------------------------------------------------------------------------------------
# The collector


@dataclass(frozen=True)
class Span:
    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    kind: int  # opentelemetry.proto.trace.v1.Span.SpanKind: 2 server, 3 client, 4 producer...
    service: str
    instance: str
    scope: str
    attributes: dict[str, Any]


@dataclass(frozen=True)
class Point:
    """One data point of one export: a sum's or gauge's value, a histogram's count."""

    service: str
    instance: str
    metric: str
    attributes: dict[str, Any]
    value: float


def _value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind else None


def _attributes(pairs: Any) -> dict[str, Any]:
    found: dict[str, Any] = {}
    pair: KeyValue
    for pair in pairs:
        found[pair.key] = _value(pair.value)
    return found


@dataclass
class Collected:
    spans: list[Span] = field(default_factory=list)
    points: list[Point] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_traces(self, request: ExportTraceServiceRequest) -> None:
        spans = []
        for resource in request.resource_spans:
            about = _attributes(resource.resource.attributes)
            for scope in resource.scope_spans:
                for span in scope.spans:
                    spans.append(
                        Span(
                            trace_id=span.trace_id.hex(),
                            span_id=span.span_id.hex(),
                            parent_id=span.parent_span_id.hex() or None,
                            name=span.name,
                            kind=span.kind,
                            service=str(about.get("service.name")),
                            instance=str(about.get("service.instance.id")),
                            scope=scope.scope.name,
                            attributes=_attributes(span.attributes),
                        )
                    )
        with self.lock:
            self.spans.extend(spans)

    def add_metrics(self, request: ExportMetricsServiceRequest) -> None:
        points = []
        for resource in request.resource_metrics:
            about = _attributes(resource.resource.attributes)
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    data = metric.WhichOneof("data")
                    for point in getattr(metric, data).data_points if data else []:
                        if data == "histogram":
                            value = float(point.count)
                        else:
                            value = float(getattr(point, point.WhichOneof("value")))
                        points.append(
                            Point(
                                service=str(about.get("service.name")),
                                instance=str(about.get("service.instance.id")),
                                metric=metric.name,
                                attributes=_attributes(point.attributes),
                                value=value,
                            )
                        )
        with self.lock:
            self.points.extend(points)


class Collector(ThreadingHTTPServer):
    """OTLP/HTTP with protobuf bodies (what the SDK's exporter sends) on a free loopback port."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _CollectorHandler)
        self.collected = Collected()
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class _CollectorHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the exporter's session expects
    server: Collector

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        if self.path == "/v1/traces":
            self.server.collected.add_traces(ExportTraceServiceRequest.FromString(body))
        elif self.path == "/v1/metrics":
            self.server.collected.add_metrics(ExportMetricsServiceRequest.FromString(body))
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        # An empty Export*ServiceResponse: full success.
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return


# ---------------------------------------------------------------------------------------------
# The database


def in_database(url: str, database: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{database}"


def prepare_database() -> dict[str, Any]:
    """`qlvb_trace` created like devstack creates `qlvb_test` (idempotent), every service
    migrated into it, the demo province and its signing credentials seeded; returns the
    province's JSON. Synchronous: Alembic runs its own event loop."""
    values = stack_values()
    server = (
        f"postgres://postgres:{values['QLVB_PG_SUPERPASSWORD']}@127.0.0.1:{values['QLVB_PG_PORT']}"
    )

    async def bootstrap() -> None:
        conn = await asyncpg.connect(server + "/postgres")
        try:
            await ensure_database(conn, TRACE_DATABASE)
        finally:
            await conn.close()
        await bootstrap_service_schemas(server, TRACE_DATABASE)

    asyncio.run(bootstrap())
    for service in SERVICES:
        url = os.environ[f"QLVB_{service.upper()}_MIGRATION_DATABASE_URL"]
        upgrade(service, in_database(url, TRACE_DATABASE))
    province: dict[str, Any] = json.loads(PROVINCE.read_text(encoding="utf-8"))
    asyncio.run(_seed(province))
    return province


async def _seed(province: dict[str, Any]) -> None:
    from services.docs.settings import load as load_docs
    from services.docs.signatures.demo import seed_demo_signing
    from services.docs.signatures.desk import credential_box
    from services.identity.agencies.seed import seed_province

    identity = Database.from_url(trace_url("QLVB_IDENTITY_DATABASE_URL"), pool_size=1)
    try:
        await seed_province(identity, province)
    finally:
        await identity.dispose()
    settings = msgspec.structs.replace(
        load_docs(), database_url=trace_url("QLVB_DOCS_DATABASE_URL")
    )
    box = credential_box(settings)
    assert box is not None, "outside production the docs service derives a credential key"
    docs = Database.from_url(settings.database_url, pool_size=1)
    try:
        await seed_demo_signing(docs, province, box, restore=True)
    finally:
        await docs.dispose()


def trace_url(variable: str) -> str:
    """A database URL of the test environment, moved to `qlvb_trace`."""
    return in_database(os.environ[variable], TRACE_DATABASE)


def redis_url() -> str:
    base, _, _ = os.environ["QLVB_REDIS_URL"].rpartition("/")
    return f"{base}/{TRACE_REDIS_DB}"


# ---------------------------------------------------------------------------------------------
# The processes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Process:
    """One `qlvb` command, its JSON logs (stderr and stdout) in a file."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = self.log_path.open("wb")
        try:
            self.popen = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=REPO,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            log.close()

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def stop(self) -> int:
        """SIGTERM, as Kubernetes stops a pod: the process finishes its work, and its telemetry
        providers flush what is left (spans, a last metric collection) before it exits."""
        assert self.popen is not None
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
        try:
            return self.popen.wait(timeout=PATIENCE_SECONDS)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
            raise AssertionError(f"{self.name} did not stop on SIGTERM:\n{self.tail()}") from None

    def kill(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait()

    def logs(self) -> list[dict[str, Any]]:
        """The JSON log lines (the rest of the output is not the platform's)."""
        entries = []
        for line in self.log_path.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("{"):
                try:
                    entries.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
        return entries

    def tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class Stack:
    """The services of one province, each in its own process, all exporting to `collector`."""

    collector_url: str
    log_dir: Path
    ports: dict[str, int] = field(default_factory=dict)
    processes: dict[str, Process] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for service in ("identity", "storage", "docs"):
            self.ports[service] = free_port()

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def environment(self, instance: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(service_environment(TRACE_DATABASE))
        env.update(
            {
                "QLVB_ENVIRONMENT": "test",
                "QLVB_LOG_LEVEL": "INFO",
                "QLVB_REDIS_URL": redis_url(),
                "QLVB_TELEMETRY_EXPORTER": "otlp",
                "QLVB_TELEMETRY_OTLP_ENDPOINT": self.collector_url,
                "QLVB_TELEMETRY_SAMPLE_RATIO": "1.0",
                # Which process sent what: the resource's instance id, as a pod name would be.
                "OTEL_RESOURCE_ATTRIBUTES": f"service.instance.id={instance}",
                "QLVB_STORAGE_BUCKET": "qlvb-test-files",
                "QLVB_STORAGE_LOCKED_BUCKET": "qlvb-test-issued",
                "QLVB_DOCS_ISSUED_RETENTION_DAYS": "1",
                "QLVB_DOCS_IDENTITY_URL": self.url("identity"),
                "QLVB_DOCS_STORAGE_URL": self.url("storage"),
                "QLVB_INTERCHANGE_IDENTITY_URL": self.url("identity"),
                "QLVB_INTERCHANGE_STORAGE_URL": self.url("storage"),
                "PYTHONUNBUFFERED": "1",
                # A background process touches it while its loops turn (the pod's liveness).
                "QLVB_HEARTBEAT_FILE": str(self.heartbeat(instance)),
            }
        )
        for service, port in self.ports.items():
            env[f"QLVB_{service.upper()}_PORT"] = str(port)
        return env

    def heartbeat(self, instance: str) -> Path:
        return self.log_dir / f"{instance}.heartbeat"

    def start(self, instance: str, *command: str) -> Process:
        process = Process(
            name=instance,
            argv=[sys.executable, "-m", "services.cli", *command],
            env=self.environment(instance),
            log_path=self.log_dir / f"{instance}.log",
        )
        self.processes[instance] = process
        process.start()
        return process

    async def serve(self, service: str) -> Process:
        """`qlvb serve <service>`, once it answers /health."""
        process = self.start(service, "serve", service)
        async with httpx.AsyncClient(base_url=self.url(service), timeout=5) as client:

            async def healthy() -> bool:
                if not process.running():
                    raise AssertionError(f"{service} exited:\n{process.tail()}")
                try:
                    return (await client.get("/health")).status_code == 200
                except httpx.TransportError:
                    return False

            await eventually(healthy, f"{service} answering /health")
        return process

    def stop(self, instance: str) -> None:
        process = self.processes[instance]
        code = process.stop()
        assert code == 0, f"{instance} exited with {code}:\n{process.tail()}"

    def kill_all(self) -> None:
        for process in self.processes.values():
            process.kill()


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Wait until `check` holds; the limit only guards a hung process, it asserts no speed."""
    deadline = time.monotonic() + PATIENCE_SECONDS
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        await asyncio.sleep(0.2)
