"""Background jobs of the storage service, run by `qlvb worker storage`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Observation
from saq import CronJob

from services.common.db import Database
from services.storage.objects import maintenance
from services.storage.objects.s3 import ObjectStore
from services.storage.settings import StorageSettings

# Usage per tenant, refreshed by `report_usage` and read by the gauges at export time.
_usage: dict[str, tuple[int, int]] = {}


def _bytes(options: CallbackOptions) -> list[Observation]:
    return [Observation(b, {"tenant_id": t}) for t, (b, _) in _usage.items()]


def _objects(options: CallbackOptions) -> list[Observation]:
    return [Observation(n, {"tenant_id": t}) for t, (_, n) in _usage.items()]


_meter = metrics.get_meter("qlvb.storage")
_meter.create_observable_gauge(
    "qlvb.storage.tenant.bytes", callbacks=[_bytes], unit="By", description="Bytes stored."
)
_meter.create_observable_gauge(
    "qlvb.storage.tenant.objects", callbacks=[_objects], unit="{object}", description="Files."
)


def _parts(ctx: dict[str, Any]) -> tuple[Database, ObjectStore, StorageSettings]:
    settings: StorageSettings = ctx["settings"]
    if "maintenance" not in ctx:
        ctx["maintenance"] = Database.from_url(
            settings.relay_database_url or settings.database_url,
            pool_size=2,
            application_name="qlvb-storage-maintenance",
        )
        ctx["store"] = ObjectStore(settings)
    return ctx["maintenance"], ctx["store"], settings


async def sweep_pending(ctx: dict[str, Any]) -> int:
    db, store, settings = _parts(ctx)
    return await maintenance.sweep_pending(db, store, settings, now=dt.datetime.now(dt.UTC))


async def purge_deleted(ctx: dict[str, Any]) -> int:
    db, store, settings = _parts(ctx)
    return await maintenance.purge_deleted(db, store, settings, now=dt.datetime.now(dt.UTC))


async def scrub(ctx: dict[str, Any]) -> int:
    db, store, settings = _parts(ctx)
    checked, _ = await maintenance.scrub(db, store, settings)
    return checked


async def report_usage(ctx: dict[str, Any]) -> int:
    db, _, _ = _parts(ctx)
    _usage.clear()
    _usage.update(await maintenance.usage_by_tenant(db))
    return len(_usage)


FUNCTIONS: list[Any] = [sweep_pending, purge_deleted, scrub, report_usage]
CRON_JOBS: list[CronJob[Any]] = [
    CronJob(sweep_pending, cron="*/5 * * * *"),
    CronJob(purge_deleted, cron="17 2 * * *"),
    CronJob(scrub, cron="*/10 * * * *"),
    CronJob(report_usage, cron="* * * * *"),
]
