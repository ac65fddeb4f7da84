"""HTTP API of the departments of the active agency; the agency admin changes them."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from services.common.auth.guards import requires_agency, requires_role, tenant_of
from services.common.auth.principal import Principal, Role
from services.common.db import Database
from services.identity.actors import ActingFor, acting
from services.identity.departments import service
from services.identity.departments.schemas import (
    DepartmentCreate,
    DepartmentUpdate,
    DepartmentView,
)

_admin = [requires_role(Role.AGENCY_ADMIN)]


class DepartmentController(Controller):
    path = "/api/v1/departments"
    tags = ("departments",)

    @get("", guards=[requires_agency], summary="Phòng, ban của cơ quan đang làm việc")
    async def list_departments(
        self,
        db: NamedDependency[Database],
        request: Request[Principal, Any, Any],
        include_inactive: FromQuery[bool] = False,
    ) -> list[DepartmentView]:
        tenant_id = tenant_of(request)
        async with db.transaction(tenant_id, read_only=True) as conn:
            return await service.list_departments(conn, include_inactive=include_inactive)

    @post("", guards=_admin, summary="Thêm phòng, ban (quản trị cơ quan)")
    async def create_department(
        self,
        request: Request[Principal, Any, Any],
        db: NamedDependency[Database],
        data: JSONBody[DepartmentCreate],
        acting_for: ActingFor = None,
    ) -> DepartmentView:
        tenant_id = tenant_of(request)
        async with acting(db, tenant_id, request.user, acting_for) as (conn, actor):
            return await service.create(conn, tenant_id, actor, data)

    @patch(
        "/{department_id:uuid}",
        guards=_admin,
        summary="Đổi tên hoặc chuyển phòng, ban (quản trị cơ quan)",
    )
    async def change_department(
        self,
        request: Request[Principal, Any, Any],
        db: NamedDependency[Database],
        department_id: FromPath[uuid.UUID],
        data: JSONBody[DepartmentUpdate],
        acting_for: ActingFor = None,
    ) -> DepartmentView:
        tenant_id = tenant_of(request)
        async with acting(db, tenant_id, request.user, acting_for) as (conn, actor):
            return await service.change(conn, tenant_id, actor, department_id, data)

    @post(
        "/{department_id:uuid}/deactivate",
        guards=_admin,
        status_code=200,
        summary="Ngừng hoạt động phòng, ban (quản trị cơ quan)",
    )
    async def deactivate_department(
        self,
        request: Request[Principal, Any, Any],
        db: NamedDependency[Database],
        department_id: FromPath[uuid.UUID],
        acting_for: ActingFor = None,
    ) -> DepartmentView:
        tenant_id = tenant_of(request)
        async with acting(db, tenant_id, request.user, acting_for) as (conn, actor):
            return await service.deactivate(conn, tenant_id, actor, department_id)
