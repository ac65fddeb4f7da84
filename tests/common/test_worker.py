"""The saq worker entry point runs a service's jobs on the real Redis, with tenant transactions."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import Any

import msgspec
from saq import Queue
from sqlalchemy import func, insert, select

from services.common.db import Database
from services.common.worker import enqueue, make_queue, make_worker
from services.identity.settings import load
from services.identity.tables import department


async def add_department(ctx: dict[str, Any], *, tenant: str, name: str) -> int:
    db: Database = ctx["db"]
    tenant_id = uuid.UUID(tenant)
    async with db.transaction(tenant_id) as conn:
        await conn.execute(
            insert(department).values(
                tenant_id=tenant_id, id=uuid.uuid4(), name=name, short_name="JOB"
            )
        )
        return int((await conn.execute(select(func.count()).select_from(department))).scalar_one())


async def _initial_sweep_done(queue: Queue) -> None:
    # The worker's first sweep sets its lock key atomically with reading the active list; a job
    # enqueued after that cannot be caught by saq's dequeue/sweep race (see JOB_DEFAULTS).
    for _ in range(600):
        if await queue.redis.exists(queue.namespace("sweep")):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the worker never swept its queue")


async def test_worker_runs_an_enqueued_job_in_the_tenant(
    identity_db: Database, tenant: uuid.UUID
) -> None:
    # A queue of its own, so jobs of other runs are not picked up here.
    settings = msgspec.structs.replace(load(), service=f"test-{uuid.uuid4().hex[:8]}")
    queue = make_queue(settings)
    await queue.connect()
    worker = make_worker(settings, [add_department], concurrency=1)
    running = asyncio.create_task(worker.start())
    try:
        await _initial_sweep_done(queue)
        job = await enqueue(queue, "add_department", tenant=str(tenant), name="Phòng do tác vụ tạo")
        assert job is not None
        # Waits for the job's end; the limit only guards a hung worker, it asserts no speed.
        await job.refresh(until_complete=120)
    finally:
        await worker.stop()
        with contextlib.suppress(asyncio.CancelledError):
            running.cancel()
            await running
    assert job.status == "complete"
    assert job.result == 1
    await queue.disconnect()
