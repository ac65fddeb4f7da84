"""Background jobs of the interchange service, run by `qlvb worker interchange` (in production
a worker Deployment of its own).

* `tick` (every 5 s): asks which agencies have work and enqueues their jobs.
* `report_backlog` (every minute): the per-agency backlog and open dead letters for the gauges
  (services/interchange/metrics.py).
* `purge_packets` (nightly): packet bytes past their retention are dropped, the delivery rows
  kept (services/interchange/deliveries/purge.py).
* `poll` / `send`: one agency's run, keyed `poll:<agency>` / `send:<agency>` so that an agency
  has at most one of each queued or running (saq refuses a duplicate key), each bounded by its
  own timeout: an agency whose axis hangs holds one worker slot until its timeout at most,
  then backs off, while the other agencies' jobs run in the other slots."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
from saq import CronJob, Queue

from services.common.db import Database
from services.common.worker import enqueue
from services.interchange import metrics
from services.interchange.runtime import Interchange, build_context
from services.interchange.settings import InterchangeSettings

# A kick lands a moment later: a job asked for inside a transaction (an event handler) then
# finds the rows that transaction commits.
KICK_DELAY_SECONDS = 1


class SaqJobs:
    """`Jobs` on a saq queue."""

    def __init__(self, queue: Queue, settings: InterchangeSettings) -> None:
        self._queue = queue
        self._timeout = settings.job_timeout_seconds

    async def _enqueue(self, function: str, tenant_id: uuid.UUID) -> None:
        await enqueue(
            self._queue,
            function,
            tenant=str(tenant_id),
            key=f"{function}:{tenant_id}",
            timeout=self._timeout,
            retries=1,
            scheduled=int(time.time()) + KICK_DELAY_SECONDS,
        )

    async def send(self, tenant_id: uuid.UUID) -> None:
        await self._enqueue("send", tenant_id)

    async def poll(self, tenant_id: uuid.UUID) -> None:
        await self._enqueue("poll", tenant_id)


def _runtime(ctx: dict[str, Any]) -> Interchange:
    if "interchange" not in ctx:
        settings: InterchangeSettings = ctx["settings"]
        queue: Queue = ctx["worker"].queue
        platform_db = Database.from_url(
            settings.relay_database_url or settings.database_url,
            pool_size=2,
            application_name="qlvb-interchange-scheduler",
        )
        http = httpx.AsyncClient(timeout=httpx.Timeout(120.0, connect=5.0))
        context = build_context(
            settings,
            db=ctx["db"],
            http=http,
            platform_db=platform_db,
            jobs=SaqJobs(queue, settings),
        )
        # Lives as long as the worker process; its pools close when the process ends.
        ctx["interchange"] = Interchange(context)
    runtime: Interchange = ctx["interchange"]
    return runtime


async def tick(ctx: dict[str, Any]) -> dict[str, int]:
    due = await _runtime(ctx).tick()
    return {"polls": len(due.polls), "sends": len(due.sends)}


async def poll(ctx: dict[str, Any], *, tenant: str) -> int:
    return await _runtime(ctx).poll(uuid.UUID(tenant))


async def send(ctx: dict[str, Any], *, tenant: str) -> int:
    return await _runtime(ctx).send(uuid.UUID(tenant))


async def report_backlog(ctx: dict[str, Any]) -> dict[str, int]:
    """Refresh the per-agency gauges: messages waiting to go, dead letters still open."""
    platform_db = _runtime(ctx).ctx.platform_db
    assert platform_db is not None  # `_runtime` always opens it
    figures = await metrics.report_backlog(platform_db)
    return {name: sum(values.values()) for name, values in figures.items()}


async def purge_packets(ctx: dict[str, Any]) -> dict[str, int]:
    return {"purged": await _runtime(ctx).purge()}


FUNCTIONS: list[Any] = [tick, poll, send, report_backlog, purge_packets]
CRON_JOBS: list[CronJob[Any]] = [
    CronJob(tick, cron="* * * * * */5", timeout=60, retries=0),
    CronJob(report_backlog, cron="* * * * *", timeout=60, retries=0),
    # Nightly, off the working day; a run that does not finish goes on the next night.
    CronJob(purge_packets, cron="17 2 * * *", timeout=1800, retries=0),
]
