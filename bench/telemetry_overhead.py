"""bench/telemetry_overhead: requests/s with OpenTelemetry on (default sampling, real OTLP/HTTP
export) against the same app with telemetry off.

`configure_telemetry` installs global providers once per process, so "on" and "off" cannot share
one: two worker processes (`--worker on|off`) each build the app with the kernel's `build_app`,
and this process alternates timed rounds between them, one at a time, and compares medians.

The endpoint is a trivial authenticated handler doing one tenant-scoped read through the kernel,
so the ASGI server span and the SQL span are both produced. "On" exports with the real batch
span processor and OTLP/HTTP exporter to a minimal OTLP sink on loopback in this process, which
decodes what it receives so the report can say how many spans crossed the wire. At the end of
each "on" round the span queue is flushed inside the timed window, so a round pays for exporting
every span it produced, not only for the batches that happened to fill up during it."""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import logging
import os
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import msgspec
from litestar import Request, get
from opentelemetry import metrics, trace
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from bench.common import (
    READ_ROWS,
    TENANT_READ,
    AsgiDriver,
    BenchError,
    Result,
    detail,
    ensure_departments,
    fetch_tokens,
    identity_settings,
    interleave,
    median,
    paired_ratio,
    rate,
    report,
    spread,
    warm_up,
)
from services.common.app_factory import Resources, build_app
from services.common.auth.guards import requires_agency, tenant_of
from services.common.db import Database

NAME = "telemetry_overhead"
TARGET = 0.8
ROUNDS = 7
ROUND_OPS = 5000
ROUND_SECONDS = 1.5
WARM_UP_OPS = 300
# Bounds every wait on a worker: start-up (imports, app, warm-up) and one round.
WORKER_TIMEOUT = 40.0
PATH = "/api/v1/bench/departments"
TOKEN_VARIABLE = "QLVB_BENCH_TOKEN"  # noqa: S105 - a variable name, not a secret
AGENCY_VARIABLE = "QLVB_BENCH_AGENCY"
REPO = Path(__file__).resolve().parent.parent
# Both are the kernel as it is, with the telemetry setting on or off.
MODES = ("on", "off")


class DepartmentRow(msgspec.Struct):
    id: uuid.UUID
    short_name: str


@get(PATH, guards=[requires_agency], name="bench-departments")
async def departments(db: Database, request: Request[Any, Any, Any]) -> list[DepartmentRow]:
    async with db.transaction(tenant_of(request), read_only=True) as conn:
        rows = (await conn.execute(TENANT_READ)).all()
    return [DepartmentRow(row.id, row.short_name) for row in rows]


# --------------------------------------------------------------------------- OTLP sink


class OtlpSink(ThreadingHTTPServer):
    """Accepts OTLP/HTTP protobuf posts on loopback and counts them, like a collector that
    drops everything after decoding it."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _SinkHandler)
        self.lock = threading.Lock()
        self.trace_posts = 0
        self.metric_posts = 0
        self.spans = 0
        self.sql_spans = 0
        self.bytes = 0
        self._thread = threading.Thread(target=self.serve_forever, name="otlp-sink", daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join(timeout=5)


class _SinkHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the exporter's session expects
    server: OtlpSink

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        sink = self.server
        if self.path == "/v1/traces":
            request = ExportTraceServiceRequest.FromString(body)
            scopes = [s for r in request.resource_spans for s in r.scope_spans]
            spans = sum(len(s.spans) for s in scopes)
            sql_spans = sum(len(s.spans) for s in scopes if s.scope.name == "qlvb.sql")
            with sink.lock:
                sink.trace_posts += 1
                sink.spans += spans
                sink.sql_spans += sql_spans
                sink.bytes += len(body)
        elif self.path == "/v1/metrics":
            with sink.lock:
                sink.metric_posts += 1
                sink.bytes += len(body)
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
        return  # one line per export would bury the figures


# --------------------------------------------------------------------------- worker


def _emit(message: dict[str, Any]) -> None:
    # stdout carries only these JSON lines; logs go to stderr.
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def _flush_spans() -> None:
    provider: Any = trace.get_tracer_provider()
    if not provider.force_flush(timeout_millis=10_000):
        raise BenchError("the span exporter did not flush within 10 s")


async def worker(mode: str, otlp_endpoint: str) -> None:
    # The instrumentor's refusal is reported once by the parent rather than per worker.
    logging.getLogger("opentelemetry.instrumentation.instrumentor").disabled = True
    telemetry_on = mode != "off"
    base = identity_settings()
    exporter = "otlp" if telemetry_on else "none"
    telemetry = msgspec.structs.replace(
        base.telemetry, exporter=exporter, otlp_endpoint=otlp_endpoint
    )
    settings = msgspec.structs.replace(base, telemetry=telemetry)
    resources = Resources(settings)
    app = build_app(settings, [departments], resources=resources)
    driver = AsgiDriver(
        app,
        {
            "authorization": f"Bearer {os.environ[TOKEN_VARIABLE]}",
            "x-agency-id": os.environ[AGENCY_VARIABLE],
            "accept": "application/json",
            "user-agent": "qlvb-bench",
        },
    )
    served = 0

    async def request() -> None:
        nonlocal served
        status = await driver.get(PATH)
        if status != 200:
            raise BenchError(f"GET {PATH}: HTTP {status}")
        served += 1

    settle = _flush_spans if telemetry_on else None
    try:
        await warm_up(request, WARM_UP_OPS)
        if settle is not None:
            settle()
        _emit(
            {
                "ready": True,
                "sample_ratio": settings.telemetry.sample_ratio,
            }
        )
        while True:
            command = (await asyncio.to_thread(sys.stdin.readline)).strip()
            if command != "run":
                break  # "quit" or the parent went away (EOF)
            round_rate = await rate(
                request, max_ops=ROUND_OPS, max_seconds=ROUND_SECONDS, settle=settle
            )
            _emit({"rate": round_rate})
    finally:
        if telemetry_on:
            # Everything still queued reaches the sink before the parent reads its counters.
            tracer_provider: Any = trace.get_tracer_provider()
            meter_provider: Any = metrics.get_meter_provider()
            tracer_provider.shutdown()
            meter_provider.shutdown()
        await resources.close()
    _emit({"served": served})


# --------------------------------------------------------------------------- parent


class Worker:
    def __init__(self, mode: str, process: asyncio.subprocess.Process) -> None:
        self.mode = mode
        self.process = process

    @classmethod
    async def start(cls, mode: str, otlp_endpoint: str, env: dict[str, str]) -> Worker:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.telemetry_overhead",
            "--worker",
            mode,
            "--otlp-endpoint",
            otlp_endpoint,
            cwd=REPO,
            env=env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        return cls(mode, process)

    async def receive(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), WORKER_TIMEOUT)
        if not line:
            raise BenchError(f"worker {self.mode} exited (code {await self.process.wait()})")
        message: dict[str, Any] = json.loads(line)
        return message

    async def send(self, command: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(f"{command}\n".encode())
        await self.process.stdin.drain()

    async def round(self) -> float:
        await self.send("run")
        return float((await self.receive())["rate"])

    async def stop(self) -> int | None:
        """Ask the worker to finish; requests it served, or None when it had to be killed."""
        served: int | None = None
        try:
            if self.process.returncode is None:
                await self.send("quit")
                served = int((await self.receive())["served"])
            await asyncio.wait_for(self.process.wait(), WORKER_TIMEOUT)
        except (BenchError, TimeoutError, ConnectionError, KeyError, ValueError):
            if self.process.returncode is None:
                self.process.kill()  # only the worker this bench started, by its own handle
                await self.process.wait()
        return served


async def prepare() -> tuple[str, uuid.UUID, int]:
    """A real token, the agency it acts in, and the benchmark departments of that agency."""
    settings = identity_settings()
    resources = Resources(settings)
    try:
        [token] = await fetch_tokens(settings, 1)
        principal = await resources.verifier.verify(token)
        if not principal.memberships:
            raise BenchError(f"user {principal.username} has no agency membership")
        tenant_id = principal.memberships[0].agency_id
        rows = await ensure_departments(resources.db, tenant_id)
    finally:
        await resources.close()
    return token, tenant_id, rows


def _exported(sink: OtlpSink, served: int | None) -> str:
    per_request = f"{sink.spans / served:.2f} spans/request over {served}" if served else "n/a"
    return (
        f"{sink.spans} spans ({sink.sql_spans} SQL) in {sink.trace_posts} trace posts "
        f"({per_request}), "
        f"{sink.metric_posts} metric posts, {sink.bytes / 1024:.0f} KiB"
    )


async def run() -> Result:
    token, tenant_id, rows = await prepare()
    # One sink per exporting worker, so each one's spans are counted apart.
    sinks = {mode: OtlpSink() for mode in MODES if mode != "off"}
    for sink in sinks.values():
        sink.start()
    env = {**os.environ, TOKEN_VARIABLE: token, AGENCY_VARIABLE: str(tenant_id)}
    workers: dict[str, Worker] = {}
    served: dict[str, int | None] = {}
    try:
        for mode in MODES:
            endpoint = sinks[mode].url if mode in sinks else ""
            workers[mode] = await Worker.start(mode, endpoint, env)
        ready = {mode: await workers[mode].receive() for mode in MODES}
        samples = await interleave({mode: workers[mode].round for mode in MODES}, ROUNDS)
    finally:
        for mode, process in workers.items():
            served[mode] = await process.stop()
        for sink in sinks.values():
            sink.stop()

    on, off = (median(samples[mode]) for mode in MODES)
    sample_ratio = float(ready["on"]["sample_ratio"])
    detail(
        NAME,
        f"GET {PATH} (bearer auth + one tenant read of {READ_ROWS} of {rows} departments), "
        f"{ROUNDS} rotating rounds of <= {ROUND_SECONDS:g} s: on {on:.0f} req/s "
        f"({spread(samples['on'])}), off {off:.0f} req/s ({spread(samples['off'])}); "
        f"telemetry adds {1e6 / on - 1e6 / off:.0f} us/request, paired ratio "
        f"{paired_ratio(samples['on'], samples['off']):.3f}",
    )
    detail(
        NAME,
        f"on: otlp/http to a loopback sink, sample ratio {sample_ratio:g}: "
        f"{_exported(sinks['on'], served['on'])}",
    )
    if sinks["on"].spans == 0 or sinks["on"].sql_spans == 0:
        raise BenchError("no request or SQL span reached the OTLP sink: telemetry was not on")
    result = Result(NAME, on, off, "req/s", TARGET)
    report(result)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.telemetry_overhead")
    parser.add_argument("--worker", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--otlp-endpoint", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        asyncio.run(worker(args.worker, args.otlp_endpoint))
    else:
        asyncio.run(run())


if __name__ == "__main__":
    main()
