"""Background jobs on saq: one queue per service on Redis, one worker entry point.

A service lists its job functions in its `jobs.py` (`FUNCTIONS`, `CRON_JOBS`); `qlvb worker
<service>` runs them. Jobs receive saq's context dict with the service's `Database` under
`"db"`, so they open tenant transactions exactly like request handlers do."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Collection, Sequence
from typing import Any

from saq import CronJob, Queue, Worker

from services.common.db import Database
from services.common.settings import ServiceSettings

# saq's sweeper can abort a job that was dequeued a moment earlier but not yet marked active
# (the status is written after the list move). Retries turn that rare abort into a re-run, so
# every job must be idempotent; the timeout bounds a hung job so it is swept and retried.
JOB_DEFAULTS: dict[str, Any] = {"retries": 3, "timeout": 600}


def queue_name(service: str) -> str:
    return f"qlvb-{service}"


def make_queue(settings: ServiceSettings) -> Queue:
    return Queue.from_url(settings.redis_url, name=queue_name(settings.service))


async def enqueue(queue: Queue, function: str, **kwargs: Any) -> Any:
    """Enqueue with the platform's defaults; explicit keyword arguments win."""
    return await queue.enqueue(function, **{**JOB_DEFAULTS, **kwargs})


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

    async def startup(ctx: dict[str, Any]) -> None:
        ctx["db"] = db
        ctx["settings"] = settings

    async def shutdown(ctx: dict[str, Any]) -> None:
        await db.dispose()

    return Worker(
        make_queue(settings),
        functions=list(functions),
        cron_jobs=list(cron_jobs),
        concurrency=concurrency,
        startup=startup,
        shutdown=shutdown,
        burst=burst,
        # Burst mode (tests, one-off runs) needs a bounded wait to notice the queue is empty.
        dequeue_timeout=1.0 if burst else 0.0,
    )


async def run_worker(worker: Worker[Any]) -> None:
    """Run until SIGINT/SIGTERM, then let running jobs finish."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, lambda: asyncio.ensure_future(worker.stop()))
    await worker.start()
