"""The agency's directory: members visible to everyone working there and to platform services
(the docs service checks assignees here). Management of people stays in `people/`."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from sqlalchemy import func, select

from services.common.auth.guards import requires_agency, tenant_of
from services.common.auth.principal import Principal
from services.common.db import Database
from services.common.problems import NotFound
from services.identity.tables import department, membership, person


class Member(msgspec.Struct, kw_only=True):
    # What delegations and other references to a person need; the username names them to people.
    person_id: uuid.UUID
    username: str
    full_name: str
    department: str
    position: str
    roles: list[str]


def _members(tenant_id: uuid.UUID):  # type: ignore[no-untyped-def]
    return (
        select(
            person.c.id.label("person_id"),
            person.c.username,
            person.c.full_name,
            func.coalesce(department.c.name, "").label("department"),
            membership.c.position,
            membership.c.roles,
        )
        .select_from(membership)
        .join(person, person.c.id == membership.c.person_id)
        .outerjoin(
            department,
            (department.c.tenant_id == membership.c.tenant_id)
            & (department.c.id == membership.c.department_id),
        )
        .where(
            membership.c.tenant_id == tenant_id,
            membership.c.active.is_(True),
            person.c.enabled.is_(True),
        )
    )


def _view(row: object) -> Member:
    return Member(
        person_id=row.person_id,  # type: ignore[attr-defined]
        username=row.username,  # type: ignore[attr-defined]
        full_name=row.full_name,  # type: ignore[attr-defined]
        department=row.department,  # type: ignore[attr-defined]
        position=row.position,  # type: ignore[attr-defined]
        roles=list(row.roles),  # type: ignore[attr-defined]
    )


class DirectoryController(Controller):
    path = "/api/v1/directory/members"
    tags = ("directory",)
    guards = (requires_agency,)

    @get("", summary="Cán bộ đang làm việc tại cơ quan (danh bạ)")
    async def list_members(
        self,
        db: NamedDependency[Database],
        request: Request[Principal, Any, Any],
        q: Annotated[str | None, QueryParameter(max_length=100)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> list[Member]:
        tenant_id = tenant_of(request)
        statement = _members(tenant_id)
        if q:
            pattern = f"%{q.lower()}%"
            statement = statement.where(
                func.lower(person.c.full_name).like(pattern) | person.c.username.like(pattern)
            )
        async with db.transaction(tenant_id, read_only=True) as conn:
            rows = await conn.execute(statement.order_by(person.c.full_name).limit(limit))
            return [_view(r) for r in rows]

    @get("/{username:str}", summary="Một cán bộ của cơ quan")
    async def member(
        self,
        db: NamedDependency[Database],
        request: Request[Principal, Any, Any],
        username: FromPath[str],
    ) -> Member:
        tenant_id = tenant_of(request)
        async with db.transaction(tenant_id, read_only=True) as conn:
            row = (
                await conn.execute(_members(tenant_id).where(person.c.username == username))
            ).first()
        if row is None:
            raise NotFound(
                f"“{username}” không làm việc tại cơ quan này.",
                f"{username!r} does not work in this agency.",
            )
        return _view(row)
