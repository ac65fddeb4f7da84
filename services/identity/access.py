"""Who may manage an agency's people, memberships and audit trail, and which agency they mean.

An agency admin manages their active agency. A platform operator holds no membership, so they
name the agency with `?agency_id=` (they set up the first admin of a new agency, and they read
the trail of any agency: an explicit, audited cross-tenant path instead of turning RLS off)."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.params import FromQuery

from services.common.auth.guards import principal_of, requires_role
from services.common.auth.principal import Principal, Role
from services.common.problems import Forbidden, InvalidInput
from services.identity.tenancy import PLATFORM_TENANT

_requires_agency_admin = requires_role(Role.AGENCY_ADMIN)


async def requires_agency_admin_or_operator(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    if not principal_of(connection).is_operator:
        await _requires_agency_admin(connection, handler)


def managed_agency(principal: Principal, agency_id: uuid.UUID | None) -> uuid.UUID:
    active = principal.active_agency_id
    is_admin = principal.has_role(Role.AGENCY_ADMIN)
    if agency_id is not None:
        if principal.is_operator or (agency_id == active and is_admin):
            return agency_id
        raise Forbidden("Bạn không quản trị cơ quan này.", "You do not administer this agency.")
    if active is not None and is_admin:
        return active
    if principal.is_operator:
        raise InvalidInput(
            "Hãy chỉ rõ cơ quan (tham số agency_id).", "Name the agency (agency_id parameter)."
        )
    raise Forbidden(
        "Chức năng dành cho quản trị cơ quan.", "This action requires the agency_admin role."
    )


async def provide_managed_agency(
    request: Request[Principal, Any, Any], agency_id: FromQuery[uuid.UUID | None] = None
) -> uuid.UUID:
    return managed_agency(request.user, agency_id)


def person_scope(
    principal: Principal, agency_id: uuid.UUID | None
) -> tuple[uuid.UUID, uuid.UUID | None]:
    """For a change to a person's account (global): the agency whose trail records it, and the
    agency the person must belong to (None: an operator, who may change anyone's account;
    without `agency_id` their change is recorded under the platform tenant)."""
    if principal.is_operator:
        return (agency_id or PLATFORM_TENANT), None
    tenant = managed_agency(principal, agency_id)
    return tenant, tenant
