"""Background jobs of the docs service, run by `qlvb worker docs`."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from saq import CronJob

from services.common.auth.service_tokens import ServiceTokens
from services.common.db import Database
from services.docs.deadlines.reminders import send_reminders
from services.docs.dossiers.reminders import send_transfer_reminders
from services.docs.files.ocr import ocr_document
from services.docs.files.storage_client import StorageClient
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


async def dossier_transfer_reminders(ctx: dict[str, Any]) -> int:
    return await send_transfer_reminders(_maintenance(ctx), today())


def _storage(ctx: dict[str, Any]) -> StorageClient:
    if "storage" not in ctx:
        settings: DocsSettings = ctx["settings"]
        http = httpx.AsyncClient(timeout=httpx.Timeout(120.0, connect=5.0))
        tokens = ServiceTokens(settings.oidc, settings.client_id, settings.client_secret, http)
        ctx["storage"] = StorageClient(settings.storage_url, http, tokens)
    client: StorageClient = ctx["storage"]
    return client


async def ocr(ctx: dict[str, Any], *, tenant: str, document_id: str) -> bool:
    db: Database = ctx["db"]
    return await ocr_document(db, _storage(ctx), uuid.UUID(tenant), uuid.UUID(document_id))


FUNCTIONS: list[Any] = [deadline_reminders, dossier_transfer_reminders, ocr]
CRON_JOBS: list[CronJob[Any]] = [
    CronJob(deadline_reminders, cron="*/15 * * * *"),
    # Daily at 06:00 in Vietnam (23:00 UTC, the workers' clock).
    CronJob(dossier_transfer_reminders, cron="0 23 * * *"),
]
