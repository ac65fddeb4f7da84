"""`GET /api/v1/whoami`: the caller as the service sees them (for clients and diagnostics)."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from litestar import Request, get

from services.common.auth.principal import Principal


class MembershipView(msgspec.Struct):
    agency_id: uuid.UUID
    agency_code: str
    roles: list[str]


class WhoAmI(msgspec.Struct):
    subject: str
    username: str
    name: str
    service_account: bool
    active_agency_id: uuid.UUID | None
    memberships: list[MembershipView]
    platform_roles: list[str]


@get("/api/v1/whoami", tags=["identity"], summary="The authenticated caller")
async def whoami(request: Request[Principal, Any, Any]) -> WhoAmI:
    p = request.user
    return WhoAmI(
        subject=p.subject,
        username=p.username,
        name=p.name,
        service_account=p.is_service,
        active_agency_id=p.active_agency_id,
        memberships=[
            MembershipView(m.agency_id, m.agency_code, sorted(r.value for r in m.roles))
            for m in p.memberships
        ],
        platform_roles=sorted(p.platform_roles),
    )
