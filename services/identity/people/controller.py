"""HTTP API of people and memberships: the agency admin manages their agency's; a platform
operator any agency's, naming it with `?agency_id=`."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, get, patch, post
from litestar.datastructures import ResponseHeader
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from services.common.auth.principal import Principal
from services.common.db import Database
from services.identity.access import (
    person_scope,
    provide_managed_agency,
    requires_agency_admin_or_operator,
)
from services.identity.actors import ActingFor, acting
from services.identity.keycloak_sync.client import KeycloakGateway
from services.identity.people import passwords, service
from services.identity.people.passwords import TemporaryPassword
from services.identity.people.schemas import (
    MembershipCreate,
    MembershipUpdate,
    MembershipView,
    PeoplePage,
    PersonCreate,
    PersonUpdate,
    PersonView,
)

Limit = Annotated[int, QueryParameter(ge=1, le=500)]
Offset = Annotated[int, QueryParameter(ge=0)]


class PeopleController(Controller):
    path = "/api/v1/people"
    tags = ("people",)
    guards = [requires_agency_admin_or_operator]  # noqa: RUF012
    dependencies = {"managed": Provide(provide_managed_agency)}  # noqa: RUF012

    @get("", summary="Cán bộ của cơ quan")
    async def list_people(
        self,
        db: NamedDependency[Database],
        managed: NamedDependency[uuid.UUID],
        limit: Limit = 100,
        offset: Offset = 0,
        include_inactive: FromQuery[bool] = False,
    ) -> PeoplePage:
        async with db.transaction(managed, read_only=True) as conn:
            return await service.list_people(
                conn, limit=limit, offset=offset, include_inactive=include_inactive
            )

    @get("/{person_id:uuid}", summary="Thông tin cán bộ trong cơ quan")
    async def get_person(
        self,
        db: NamedDependency[Database],
        managed: NamedDependency[uuid.UUID],
        person_id: FromPath[uuid.UUID],
    ) -> PersonView:
        async with db.transaction(managed, read_only=True) as conn:
            return await service.get_person(conn, person_id)

    @post(
        "",
        summary="Thêm cán bộ vào cơ quan (người đã có tài khoản ở cơ quan khác: thêm chức vụ)",
    )
    async def create_person(
        self,
        request: Request[Principal, Any, Any],
        db: NamedDependency[Database],
        managed: NamedDependency[uuid.UUID],
        data: JSONBody[PersonCreate],
        acting_for: ActingFor = None,
    ) -> PersonView:
        async with acting(db, managed, request.user, acting_for) as (conn, actor):
            return await service.create_person(conn, managed, actor, data)

    @patch("/{person_id:uuid}", summary="Sửa thông tin cán bộ")
    async def update_person(
        self,
        request: Request[Principal, Any, Any],
        db: NamedDependency[Database],
        person_id: FromPath[uuid.UUID],
        data: JSONBody[PersonUpdate],
        agency_id: FromQuery[uuid.UUID | None] = None,
        acting_for: ActingFor = None,
    ) -> PersonView:
        tenant, member_of = person_scope(request.user, agency_id)
        async with acting(db, tenant, request.user, acting_for) as (conn, actor):
            return await service.update_person(
                conn, tenant, actor, person_id, data, member_of=member_of
            )

    @post(
        "/{person_id:uuid}/disable",
        status_code=200,
        summary="Khóa tài khoản cán bộ (mọi cơ quan; kết thúc phiên đăng nhập)",
    )
    async def disable_person(
        self,
        request: Request[Principal, Any, Any],
        db: NamedDependency[Database],
        person_id: FromPath[uuid.UUID],
        agency_id: FromQuery[uuid.UUID | None] = None,
        acting_for: ActingFor = None,
    ) -> PersonView:
        tenant, member_of = person_scope(request.user, agency_id)
        async with acting(db, tenant, request.user, acting_for) as (conn, actor):
            return await service.set_enabled(
                conn, tenant, actor, person_id, False, member_of=member_of
            )

    @post("/{person_id:uuid}/enable", status_code=200, summary="Mở khóa tài khoản cán bộ")
    async def enable_person(
        self,
        request: Request[Principal, Any, Any],
        db: NamedDependency[Database],
        person_id: FromPath[uuid.UUID],
        agency_id: FromQuery[uuid.UUID | None] = None,
        acting_for: ActingFor = None,
    ) -> PersonView:
        tenant, member_of = person_scope(request.user, agency_id)
        async with acting(db, tenant, request.user, acting_for) as (conn, actor):
            return await service.set_enabled(
                conn, tenant, actor, person_id, True, member_of=member_of
            )

    @post(
        "/{person_id:uuid}/temporary-password",
        status_code=200,
        summary="Cấp mật khẩu tạm thời (đổi ở lần đăng nhập đầu; kết thúc phiên đăng nhập cũ)",
        response_headers=[ResponseHeader(name="Cache-Control", value="no-store")],
    )
    async def issue_temporary_password(
        self,
        request: Request[Principal, Any, Any],
        db: NamedDependency[Database],
        accounts: NamedDependency[KeycloakGateway],
        person_id: FromPath[uuid.UUID],
        agency_id: FromQuery[uuid.UUID | None] = None,
        acting_for: ActingFor = None,
    ) -> TemporaryPassword:
        tenant, member_of = person_scope(request.user, agency_id)
        async with acting(db, tenant, request.user, acting_for) as (conn, actor):
            return await passwords.issue(
                conn, tenant, actor, person_id, accounts, member_of=member_of
            )


class MembershipController(Controller):
    path = "/api/v1/memberships"
    tags = ("people",)
    guards = [requires_agency_admin_or_operator]  # noqa: RUF012
    dependencies = {"managed": Provide(provide_managed_agency)}  # noqa: RUF012

    @get("", summary="Chức vụ của cán bộ trong cơ quan")
    async def list_memberships(
        self,
        db: NamedDependency[Database],
        managed: NamedDependency[uuid.UUID],
        include_inactive: FromQuery[bool] = False,
    ) -> list[MembershipView]:
        async with db.transaction(managed, read_only=True) as conn:
            return await service.list_memberships(conn, include_inactive=include_inactive)

    @post("", summary="Giao chức vụ trong cơ quan cho một cán bộ đã có tài khoản")
    async def add_membership(
        self,
        request: Request[Principal, Any, Any],
        db: NamedDependency[Database],
        managed: NamedDependency[uuid.UUID],
        data: JSONBody[MembershipCreate],
        acting_for: ActingFor = None,
    ) -> MembershipView:
        async with acting(db, managed, request.user, acting_for) as (conn, actor):
            return await service.add_membership(conn, managed, actor, data)

    @patch("/{membership_id:uuid}", summary="Sửa phòng, ban, chức vụ, vai trò, thời hạn")
    async def update_membership(
        self,
        request: Request[Principal, Any, Any],
        db: NamedDependency[Database],
        managed: NamedDependency[uuid.UUID],
        membership_id: FromPath[uuid.UUID],
        data: JSONBody[MembershipUpdate],
        acting_for: ActingFor = None,
    ) -> MembershipView:
        async with acting(db, managed, request.user, acting_for) as (conn, actor):
            return await service.update_membership(conn, managed, actor, membership_id, data)

    @post("/{membership_id:uuid}/end", status_code=200, summary="Kết thúc chức vụ")
    async def end_membership(
        self,
        request: Request[Principal, Any, Any],
        db: NamedDependency[Database],
        managed: NamedDependency[uuid.UUID],
        membership_id: FromPath[uuid.UUID],
        acting_for: ActingFor = None,
    ) -> MembershipView:
        async with acting(db, managed, request.user, acting_for) as (conn, actor):
            return await service.end_membership(conn, managed, actor, membership_id)
