"""Background jobs of the docs service, run by `qlvb worker docs`."""

from __future__ import annotations

from typing import Any

from saq import CronJob

from services.common.db import Database
from services.docs.deadlines.reminders import send_reminders
from services.docs.incoming.service import today
from services.docs.settings import DocsSettings


def _maintenance(ctx: dict[str, Any]) -> Database:
    settings: DocsSettings = ctx["settings"]
    if "maintenance" not in ctx:
        # Reminders look at every agency: the relay role, granted only what they read.
        ctx["maintenance"] = Database.from_url(
            settings.relay_database_url or settings.database_url,
            pool_size=2,
            application_name="qlvb-docs-maintenance",
        )
    db: Database = ctx["maintenance"]
    return db


async def deadline_reminders(ctx: dict[str, Any]) -> int:
    return await send_reminders(_maintenance(ctx), today())


FUNCTIONS: list[Any] = [deadline_reminders]
CRON_JOBS: list[CronJob[Any]] = [CronJob(deadline_reminders, cron="*/15 * * * *")]
