"""Tenant scope inside one transaction, and the calendar the service reckons dates in.

A platform operation (one on the global agency tree) opens a platform transaction, yet it must
write tenant rows of the agencies it affects: their audit records, their events, the end of
their memberships. Row-level security still decides: `enter_tenant` only changes which agency
the transaction writes as (`SET LOCAL` semantics, gone at commit), so every row written must
still carry that agency's id. Doing it in one transaction keeps a reorganisation atomic."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.db import switch_tenant

# Events and audit records of platform actions that concern no agency (an operator disabling
# a person who holds no membership) are written under this id; no agency has it.
PLATFORM_TENANT = uuid.UUID(int=0)

# Effective dates of decisions and memberships are Vietnamese calendar dates.
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


def today() -> dt.date:
    return dt.datetime.now(VIETNAM).date()


async def enter_tenant(conn: AsyncConnection, tenant_id: uuid.UUID) -> None:
    """Write as `tenant_id` for the rest of this transaction (until the next call)."""
    await switch_tenant(conn, tenant_id)
