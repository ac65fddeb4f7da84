"""Background jobs of the identity service, run by `qlvb worker identity`."""

from __future__ import annotations

from typing import Any

import msgspec
from saq import CronJob

from services.common.db import Database
from services.common.problems import Conflict
from services.identity.keycloak_sync.client import KeycloakGateway
from services.identity.keycloak_sync.desired import Scope
from services.identity.keycloak_sync.reconcile import reconcile
from services.identity.settings import IdentitySettings

# A first push of a whole province creates thousands of accounts: minutes, not seconds.
RECONCILE_TIMEOUT_SECONDS = 3600


async def reconcile_keycloak(
    ctx: dict[str, Any], *, deep: bool = False, dry_run: bool = False, username_prefix: str = ""
) -> dict[str, Any]:
    """Push the identity database into Keycloak (periodically, and on demand with
    `enqueue(queue, "reconcile_keycloak", deep=..., dry_run=...)`); its counts are the job's
    result. A run already going on makes this one a no-op."""
    settings: IdentitySettings = ctx["settings"]
    db: Database = ctx["db"]
    gateway = KeycloakGateway.from_settings(settings)
    try:
        report = await reconcile(
            db, gateway, scope=Scope(username_prefix=username_prefix), deep=deep, dry_run=dry_run
        )
    except Conflict:
        return {"skipped": "another push is running"}
    finally:
        await gateway.close()
    counts: dict[str, Any] = msgspec.to_builtins(report.counts)
    return counts | {"drift": report.drift_count, "admin_calls": report.admin_calls}


async def reconcile_keycloak_deep(ctx: dict[str, Any]) -> dict[str, Any]:
    """The nightly run that reads every account. A function of its own: saq keys a periodic
    job by its function, so two schedules of one function would suppress each other."""
    return await reconcile_keycloak(ctx, deep=True)


FUNCTIONS: list[Any] = [reconcile_keycloak, reconcile_keycloak_deep]
CRON_JOBS: list[CronJob[Any]] = [
    # What changed in QLVB (a missed event, a membership that starts or ends by date, a group
    # or an operator role changed in Keycloak) is put right within a quarter of an hour; a run
    # without changes reads the groups and the operators only.
    CronJob(reconcile_keycloak, cron="*/15 * * * *", timeout=RECONCILE_TIMEOUT_SECONDS),
    # Every account read, once a night: drift made by hand in Keycloak's admin console.
    CronJob(reconcile_keycloak_deep, cron="40 2 * * *", timeout=RECONCILE_TIMEOUT_SECONDS),
]
