"""Background jobs on saq: one queue per service on Redis, one worker entry point.

A service lists its job functions in its `jobs.py` (`FUNCTIONS`, `CRON_JOBS`); `qlvb worker
<service>` runs them. Jobs receive saq's context dict with the service's `Database` under
`"db"`, so they open tenant transactions exactly like request handlers do.

A job continues the trace of whatever enqueued it: `enqueue` puts the W3C context in the job's
`meta`, and the worker runs each job in a `job <function>` span under it (a cron job starts a
trace of its own). The worker measures its queue (jobs queued, active, scheduled, and how long
the oldest queued one has waited) and records each job's duration and outcome."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
import signal
import time
from collections.abc import Callable, Collection, Coroutine, Sequence
from typing import Any

from opentelemetry import metrics, trace
from saq import CronJob, Queue, Worker
from saq.queue.redis import RedisQueue

from services.common import heartbeat
from services.common.db import Database
from services.common.settings import ServiceSettings
from services.common.telemetry import (
    Readings,
    continued,
    instrument_engine,
    trace_carrier,
    untraced,
)

logger = logging.getLogger("qlvb.jobs")
_tracer = trace.get_tracer("qlvb.jobs")
_meter = metrics.get_meter("qlvb.jobs")

# saq's sweeper can abort a job that was dequeued a moment earlier but not yet marked active
# (the status is written after the list move). Retries turn that rare abort into a re-run, so
# every job must be idempotent; the timeout bounds a hung job so it is swept and retried.
JOB_DEFAULTS: dict[str, Any] = {"retries": 3, "timeout": 600}
# Where a job carries the trace context of whoever enqueued it.
TRACE_META = "trace"
# How often a worker measures its queue for the gauges (exported every 30 s).
MEASURE_SECONDS = 15.0

_durations = _meter.create_histogram(
    "qlvb.jobs.duration",
    unit="s",
    description="Duration of background jobs, by queue, function and outcome: ok or error.",
)
_depth = Readings()
_meter.create_observable_gauge(
    "qlvb.jobs.depth",
    callbacks=[_depth.observe],
    unit="{job}",
    description="Jobs of a queue by state: queued (due, waiting for a worker), active, "
    "scheduled (not due yet).",
)
_wait = Readings()
_meter.create_observable_gauge(
    "qlvb.jobs.wait",
    unit="s",
    callbacks=[_wait.observe],
    description="How long the oldest due job of a queue has waited for a worker.",
)

JobFunction = Callable[..., Coroutine[Any, Any, Any]]


def queue_name(service: str) -> str:
    return f"qlvb-{service}"


def make_queue(settings: ServiceSettings) -> Queue:
    return Queue.from_url(settings.redis_url, name=queue_name(settings.service))


async def enqueue(queue: Queue, function: str, **kwargs: Any) -> Any:
    """Enqueue with the platform's defaults and the caller's trace; explicit keyword arguments
    win. A job refused as a duplicate of a queued one (same key) keeps that one's trace."""
    carrier = trace_carrier()
    if carrier:
        kwargs["meta"] = {**kwargs.get("meta", {}), TRACE_META: carrier}
    return await queue.enqueue(function, **{**JOB_DEFAULTS, **kwargs})


def traced_job(function: JobFunction, queue: str) -> JobFunction:
    """`function` in a span under the trace its job carries, timed; saq still knows it by its
    own name (`functools.wraps` keeps `__qualname__`)."""
    name = function.__qualname__

    @functools.wraps(function)
    async def run(ctx: dict[str, Any], **kwargs: Any) -> Any:
        job = ctx.get("job")
        meta = job.meta if job is not None else {}
        carrier = meta.get(TRACE_META) if isinstance(meta, dict) else None
        started = time.perf_counter()
        outcome = "error"
        # `continued` also lifts the worker's `untraced()`: the job's own calls are traced.
        with (
            continued(carrier if isinstance(carrier, dict) else None),
            _tracer.start_as_current_span(
                f"job {name}",
                kind=trace.SpanKind.CONSUMER,
                attributes={
                    "messaging.system": "saq",
                    "messaging.operation.type": "process",
                    "messaging.destination.name": queue,
                    "messaging.message.id": str(getattr(job, "key", "")),
                    "code.function.name": name,
                },
            ),
        ):
            try:
                result = await function(ctx, **kwargs)
                outcome = "ok"
                return result
            finally:
                seconds = time.perf_counter() - started
                _durations.record(seconds, {"queue": queue, "function": name, "outcome": outcome})
                logger.info(
                    "job_finished",
                    extra={"job": name, "outcome": outcome, "seconds": round(seconds, 3)},
                )

    return run


async def measure_queue(queue: Queue) -> dict[str, float]:
    """The queue's jobs by state and the wait of the oldest due one, in seconds."""
    queued = await queue.count("queued")
    active = await queue.count("active")
    incomplete = await queue.count("incomplete")
    waited = 0.0
    if queued and isinstance(queue, RedisQueue):
        # saq appends due jobs to the `queued` list and workers take from its head.
        oldest = await queue.redis.lindex(queue.namespace("queued"), 0)
        payload = await queue.redis.get(oldest) if oldest else None
        if payload:
            job = queue.deserialize(payload)
            if job is not None:
                due_ms = max(job.queued, job.scheduled * 1000)
                waited = max(time.time() - due_ms / 1000, 0.0)
    figures = {
        "queued": float(queued),
        "active": float(active),
        "scheduled": float(max(incomplete - queued - active, 0)),
    }
    for state, value in figures.items():
        _depth.set(value, {"queue": queue.name, "state": state})
    _wait.set(waited, {"queue": queue.name})
    return {**figures, "wait": waited}


async def _measure_quietly(queue: Queue) -> None:
    try:
        await measure_queue(queue)
    except Exception:
        logger.exception("queue_measure_failed", extra={"queue": queue.name})


async def _measure_forever(queue: Queue) -> None:
    # The worker's heartbeat: its event loop turns and reaches Redis (saq's own loops are saq's).
    while True:
        heartbeat.beat(f"worker {queue.name}")
        await _measure_quietly(queue)
        await asyncio.sleep(MEASURE_SECONDS)


def make_worker(
    settings: ServiceSettings,
    functions: Sequence[Any],
    cron_jobs: Collection[CronJob[Any]] = (),
    *,
    concurrency: int = 10,
    burst: bool = False,
) -> Worker[Any]:
    db = Database.from_url(
        settings.database_url,
        pool_size=concurrency,
        application_name=f"qlvb-{settings.service}-worker",
    )
    instrument_engine(db.engine)  # SQL spans only inside sampled jobs
    queue = make_queue(settings)
    # One wrapper per function, shared by its cron job, so saq registers each name once.
    traced: dict[Any, JobFunction] = {}

    def wrapped(function: JobFunction) -> JobFunction:
        if function not in traced:
            traced[function] = traced_job(function, queue.name)
        return traced[function]

    def registered(entry: Any) -> Any:
        if isinstance(entry, tuple):  # saq's (name, function) form
            return (entry[0], wrapped(entry[1]))
        return wrapped(entry)

    measuring: list[asyncio.Task[None]] = []
    stopping = asyncio.Event()

    async def startup(ctx: dict[str, Any]) -> None:
        ctx["db"] = db
        ctx["settings"] = settings
        measuring.append(asyncio.create_task(_measure_forever(queue)))
        if not burst:  # a one-off run has no probe to answer
            measuring.append(asyncio.create_task(heartbeat.keep(stopping)))

    async def shutdown(ctx: dict[str, Any]) -> None:
        stopping.set()
        for task in measuring:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await _measure_quietly(queue)  # what the last export before the exit reports
        await db.dispose()

    return Worker(
        queue,
        functions=[registered(f) for f in functions],
        cron_jobs=[dataclasses.replace(c, function=wrapped(c.function)) for c in cron_jobs],
        concurrency=concurrency,
        startup=startup,
        shutdown=shutdown,
        burst=burst,
        # Burst mode (tests, one-off runs) needs a bounded wait to notice the queue is empty.
        dequeue_timeout=1.0 if burst else 0.0,
    )


async def run_worker(worker: Worker[Any]) -> None:
    """Run until SIGINT/SIGTERM, then let running jobs finish. saq's own polling of Redis
    (dequeue, schedule, sweep, abort, every second) starts no trace; each job's span is its
    own."""
    with untraced():
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, lambda: asyncio.ensure_future(worker.stop()))
        await worker.start()
