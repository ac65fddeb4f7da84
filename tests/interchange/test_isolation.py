"""One agency's failing axis never delays another's: each agency's poll and send run as saq
jobs of their own, with their own timeouts, and a failure backs off only that agency.

A real saq worker runs in this event loop on a queue of its own (never the queue `make run`'s
worker serves). Agency H's connector points at an axis that holds every request without an
answer; agency K's at a healthy one."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator
from typing import Any

import pytest
from saq import Queue, Worker
from saq.job import Status

from peers.axis_sim import AxisSimulator, Faults
from services.interchange import jobs
from services.interchange.connectors import service as connectors
from services.interchange.tables import inbox
from tests.interchange.conftest import ServedSimulator, simulator_config
from tests.interchange.foreign import document
from tests.interchange.provinces import Provinces, one_province


@pytest.fixture
async def hung_axis() -> AsyncIterator[ServedSimulator]:
    server = ServedSimulator(
        AxisSimulator(simulator_config(faults=Faults(hang_rate=1.0, hang_seconds=60)))
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def province(served: ServedSimulator) -> AsyncIterator[Provinces]:
    async with one_province(served.url, job_timeout_seconds=30) as opened:
        yield opened


async def _job_status(queue: Queue, key: str) -> str | None:
    job = await queue.job(key)
    return None if job is None else Status(job.status).value


async def test_a_hung_axis_holds_only_its_own_agencys_job(
    province: Provinces, hung_axis: ServedSimulator
) -> None:
    a = province.a
    hung, healthy = await province.agencies(a, "UBND huyện H", "UBND huyện K")
    system = province.systems["A"]
    # H's connector: the hung axis, a generous timeout (its job stays busy meanwhile).
    await a.connect(hung, hung_axis.url, system, timeout_seconds=8.0)
    foreign = await province.foreign()
    await foreign.send_document(document(foreign.code, [healthy.code], 7), [healthy.code])

    queue = Queue.from_url(
        os.environ["QLVB_REDIS_URL"], name=f"qlvb-interchange-test-{secrets.token_hex(4)}"
    )

    async def startup(ctx: dict[str, Any]) -> None:
        ctx["interchange"] = a.runtime  # this test's wiring instead of the worker's own

    worker = Worker(queue, functions=[jobs.poll, jobs.send], concurrency=4, startup=startup)
    running = asyncio.create_task(worker.start())
    kicks = jobs.SaqJobs(queue, a.settings)
    try:
        await kicks.poll(hung.id)
        await kicks.poll(healthy.id)
        for _ in range(300):  # bounded wait for K's job
            if await _job_status(queue, f"poll:{healthy.id}") == "complete":
                break
            await asyncio.sleep(0.1)
        # K's poll is done, its document taken, while H's is still held by its axis.
        (taken,) = await a.rows(healthy, inbox, inbox.c.kind == "edoc")
        assert taken.sender_code == foreign.code
        assert await _job_status(queue, f"poll:{hung.id}") == "active"
        for _ in range(300):  # H's job ends at its connector's timeout, with a backoff
            if await _job_status(queue, f"poll:{hung.id}") == "complete":
                break
            await asyncio.sleep(0.1)
        view = await connectors.read(a.runtime.ctx, hung.id)
        assert view.health.failures == 1
        assert "timeout" in (view.health.last_error or "")
        assert view.health.retry_at is not None
        assert (await connectors.read(a.runtime.ctx, healthy.id)).health.failures == 0
    finally:
        await worker.stop()
        running.cancel()
        # The queue was this test's alone: leave nothing of it in Redis.
        leftovers = [key async for key in queue.redis.scan_iter(match=f"*{queue.name}*")]
        if leftovers:
            await queue.redis.delete(*leftovers)
        await queue.disconnect()
