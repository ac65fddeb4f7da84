"""Background jobs of the docs service, run by `qlvb worker docs`."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from saq import CronJob, Queue

from services.common.auth.service_tokens import ServiceTokens
from services.common.db import Database
from services.docs.deadlines.reminders import send_reminders
from services.docs.dossiers.reminders import send_transfer_reminders
from services.docs.files.ocr import ocr_document
from services.docs.files.storage_client import StorageClient
from services.docs.incoming.service import today
from services.docs.settings import DocsSettings
from services.docs.signatures.desk import signers_from_settings
from services.docs.signatures.reports import SignatureReports, enqueue_check, unchecked


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


def _signature_reports(ctx: dict[str, Any]) -> SignatureReports:
    if "signature_reports" not in ctx:
        settings: DocsSettings = ctx["settings"]
        ctx["signature_reports"] = SignatureReports(
            ctx["db"], _storage(ctx), signers_from_settings(settings)
        )
    reports: SignatureReports = ctx["signature_reports"]
    return reports


async def check_incoming_signatures(ctx: dict[str, Any], *, tenant: str, target: str) -> int:
    return await _signature_reports(ctx).check_incoming(uuid.UUID(tenant), uuid.UUID(target))


async def check_outgoing_signatures(ctx: dict[str, Any], *, tenant: str, target: str) -> int:
    return await _signature_reports(ctx).check_outgoing(uuid.UUID(tenant), uuid.UUID(target))


async def signature_sweep(ctx: dict[str, Any]) -> int:
    """Files of recent documents that still have no report: their job was lost (asked for
    after the commit) or failed every retry; ask again."""
    found = await unchecked(_maintenance(ctx))
    queue: Queue = ctx["worker"].queue
    for job, tenant_id, target_id in found:
        await enqueue_check(queue, job, tenant_id, target_id)
    return len(found)


FUNCTIONS: list[Any] = [
    deadline_reminders,
    dossier_transfer_reminders,
    ocr,
    check_incoming_signatures,
    check_outgoing_signatures,
    signature_sweep,
]
CRON_JOBS: list[CronJob[Any]] = [
    CronJob(deadline_reminders, cron="*/15 * * * *"),
    CronJob(signature_sweep, cron="*/5 * * * *"),
    # Daily at 06:00 in Vietnam (23:00 UTC, the workers' clock).
    CronJob(dossier_transfer_reminders, cron="0 23 * * *"),
]
