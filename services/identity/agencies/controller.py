"""HTTP API of the agency registry (read side; the full tree management comes with issue 3)."""

from __future__ import annotations

import uuid

import msgspec
from litestar import Controller, get
from litestar.di import NamedDependency
from sqlalchemy import select

from services.common.auth.guards import requires_agency
from services.common.db import Database
from services.identity.tables import agency, department


class AgencyView(msgspec.Struct):
    id: uuid.UUID
    code: str
    name: str
    short_name: str
    level: str
    parent_id: uuid.UUID | None
    status: str


class DepartmentView(msgspec.Struct):
    id: uuid.UUID
    name: str
    short_name: str
    parent_id: uuid.UUID | None


class AgencyController(Controller):
    path = "/api/v1"
    tags = ("agencies",)

    @get("/agencies", summary="Danh sách cơ quan (agencies)")
    async def list_agencies(self, db: NamedDependency[Database]) -> list[AgencyView]:
        async with db.transaction(None, read_only=True) as conn:
            rows = await conn.execute(select(agency).order_by(agency.c.code102))
            return [
                AgencyView(r.id, r.code102, r.name, r.short_name, r.level, r.parent_id, r.status)
                for r in rows
            ]

    @get("/departments", guards=[requires_agency], summary="Phòng, ban của cơ quan đang làm việc")
    async def list_departments(
        self, db: NamedDependency[Database], tenant_id: NamedDependency[uuid.UUID]
    ) -> list[DepartmentView]:
        async with db.transaction(tenant_id, read_only=True) as conn:
            rows = await conn.execute(select(department).order_by(department.c.short_name))
            return [DepartmentView(r.id, r.name, r.short_name, r.parent_id) for r in rows]
