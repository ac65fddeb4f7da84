"""HTTP API of delegations in the active agency: leaders delegate, everyone sees their own."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from services.common.auth.guards import requires_agency, requires_role, tenant_of
from services.common.auth.principal import Principal, Role
from services.common.db import Database
from services.identity.actors import ActingFor, acting
from services.identity.delegations import service
from services.identity.delegations.schemas import DelegationCreate, DelegationView
from services.identity.people.service import person_for_principal


class DelegationController(Controller):
    path = "/api/v1/delegations"
    tags = ("delegations",)

    @post(
        "",
        guards=[requires_role(Role.LEADER, Role.DEPUTY_LEADER)],
        summary="Ủy quyền cho một cán bộ của cơ quan trong một khoảng thời gian (lãnh đạo)",
    )
    async def create_delegation(
        self,
        request: Request[Principal, Any, Any],
        db: NamedDependency[Database],
        data: JSONBody[DelegationCreate],
        acting_for: ActingFor = None,
    ) -> DelegationView:
        tenant_id = tenant_of(request)
        async with acting(db, tenant_id, request.user, acting_for) as (conn, actor):
            return await service.create(conn, tenant_id, actor, data)

    @get("", guards=[requires_agency], summary="Các ủy quyền tôi đã giao hoặc được nhận")
    async def my_delegations(
        self,
        request: Request[Principal, Any, Any],
        db: NamedDependency[Database],
    ) -> list[DelegationView]:
        tenant_id = tenant_of(request)
        async with db.transaction(tenant_id, read_only=True) as conn:
            me = await person_for_principal(conn, request.user)
            return [] if me is None else await service.involving(conn, me.id, at=None)

    @get(
        "/active",
        guards=[requires_agency],
        summary="Các ủy quyền đang hiệu lực của tôi (đã giao hoặc được nhận)",
    )
    async def active_delegations(
        self,
        request: Request[Principal, Any, Any],
        db: NamedDependency[Database],
    ) -> list[DelegationView]:
        tenant_id = tenant_of(request)
        async with db.transaction(tenant_id, read_only=True) as conn:
            me = await person_for_principal(conn, request.user)
            if me is None:
                return []
            return await service.involving(conn, me.id, at=dt.datetime.now(dt.UTC))

    @post(
        "/{delegation_id:uuid}/revoke",
        guards=[requires_agency],
        status_code=200,
        summary="Thu hồi ủy quyền (người ủy quyền hoặc quản trị cơ quan)",
    )
    async def revoke_delegation(
        self,
        request: Request[Principal, Any, Any],
        db: NamedDependency[Database],
        delegation_id: FromPath[uuid.UUID],
        acting_for: ActingFor = None,
    ) -> DelegationView:
        tenant_id = tenant_of(request)
        async with acting(db, tenant_id, request.user, acting_for) as (conn, actor):
            return await service.revoke(
                conn,
                tenant_id,
                actor,
                delegation_id,
                is_admin=request.user.has_role(Role.AGENCY_ADMIN),
            )
