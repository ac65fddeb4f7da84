"""HTTP API of the agency registry and of reorganisations.

Any authenticated caller reads the registry (names and codes are public); platform operators
change it."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from litestar import Controller, Request, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from services.common.auth.guards import requires_operator
from services.common.auth.principal import Principal
from services.common.db import Database
from services.identity.actors import ActingFor, acting
from services.identity.agencies import reorganisation, service
from services.identity.agencies.schemas import (
    AgencyCreate,
    AgencyTree,
    AgencyUpdate,
    AgencyVersionView,
    AgencyView,
    DissolveRequest,
    Lineage,
    MergeRequest,
    MoveRequest,
    RenameRequest,
    ReorganisationView,
    SplitRequest,
)
from services.identity.tenancy import today

Status = Annotated[str | None, QueryParameter(pattern="^(active|inactive)$")]


class AgencyController(Controller):
    path = "/api/v1/agencies"
    tags = ("agencies",)

    @get("", summary="Danh sách cơ quan")
    async def list_agencies(
        self, db: NamedDependency[Database], status: Status = None
    ) -> list[AgencyView]:
        async with db.transaction(None, read_only=True) as conn:
            return await service.list_all(conn, status=status)

    @get("/tree", summary="Cây cơ quan tại một ngày (mặc định: hôm nay)")
    async def tree(
        self,
        db: NamedDependency[Database],
        as_of: FromQuery[dt.date | None] = None,
        include_inactive: FromQuery[bool] = False,
        root: FromQuery[uuid.UUID | None] = None,
    ) -> AgencyTree:
        async with db.transaction(None, read_only=True) as conn:
            return await service.tree(
                conn, as_of or today(), include_inactive=include_inactive, root=root
            )

    @get("/{agency_id:uuid}", summary="Thông tin một cơ quan")
    async def get_agency(
        self, db: NamedDependency[Database], agency_id: FromPath[uuid.UUID]
    ) -> AgencyView:
        async with db.transaction(None, read_only=True) as conn:
            return service.view(await service.fetch(conn, agency_id))

    @get("/{agency_id:uuid}/history", summary="Lịch sử tên, cấp trên, trạng thái của cơ quan")
    async def history(
        self, db: NamedDependency[Database], agency_id: FromPath[uuid.UUID]
    ) -> list[AgencyVersionView]:
        async with db.transaction(None, read_only=True) as conn:
            return await service.history(conn, agency_id)

    @get(
        "/{agency_id:uuid}/lineage",
        summary="Các cơ quan tiền thân (được kế thừa văn bản), theo mọi cấp",
    )
    async def lineage(
        self, db: NamedDependency[Database], agency_id: FromPath[uuid.UUID]
    ) -> Lineage:
        async with db.transaction(None, read_only=True) as conn:
            return await service.lineage(conn, agency_id)

    @post("", guards=[requires_operator], summary="Thêm cơ quan (người vận hành)")
    async def create_agency(
        self,
        request: Request[Principal, Any, Any],
        db: NamedDependency[Database],
        data: JSONBody[AgencyCreate],
        acting_for: ActingFor = None,
    ) -> AgencyView:
        async with acting(db, None, request.user, acting_for) as (conn, actor):
            return await service.create(conn, actor, data)

    @patch(
        "/{agency_id:uuid}",
        guards=[requires_operator],
        summary="Sửa thông tin cơ quan (đính chính; người vận hành)",
    )
    async def correct_agency(
        self,
        request: Request[Principal, Any, Any],
        db: NamedDependency[Database],
        agency_id: FromPath[uuid.UUID],
        data: JSONBody[AgencyUpdate],
        acting_for: ActingFor = None,
    ) -> AgencyView:
        async with acting(db, None, request.user, acting_for) as (conn, actor):
            return await service.correct(conn, actor, agency_id, data)


class ReorganisationController(Controller):
    path = "/api/v1/reorganisations"
    tags = ("agencies",)
    guards = [requires_operator]  # noqa: RUF012 (Litestar's declared attribute)

    @post("/merge", summary="Sáp nhập cơ quan (người vận hành)")
    async def merge(
        self,
        request: Request[Principal, Any, Any],
        db: NamedDependency[Database],
        data: JSONBody[MergeRequest],
        acting_for: ActingFor = None,
    ) -> ReorganisationView:
        async with acting(db, None, request.user, acting_for) as (conn, actor):
            return await reorganisation.merge(conn, actor, data)

    @post("/split", summary="Chia tách cơ quan (người vận hành)")
    async def split(
        self,
        request: Request[Principal, Any, Any],
        db: NamedDependency[Database],
        data: JSONBody[SplitRequest],
        acting_for: ActingFor = None,
    ) -> ReorganisationView:
        async with acting(db, None, request.user, acting_for) as (conn, actor):
            return await reorganisation.split(conn, actor, data)

    @post("/rename", summary="Đổi tên cơ quan từ một ngày (người vận hành)")
    async def rename(
        self,
        request: Request[Principal, Any, Any],
        db: NamedDependency[Database],
        data: JSONBody[RenameRequest],
        acting_for: ActingFor = None,
    ) -> ReorganisationView:
        async with acting(db, None, request.user, acting_for) as (conn, actor):
            return await reorganisation.rename(conn, actor, data)

    @post("/move", summary="Chuyển cơ quan sang cơ quan cấp trên khác (người vận hành)")
    async def move(
        self,
        request: Request[Principal, Any, Any],
        db: NamedDependency[Database],
        data: JSONBody[MoveRequest],
        acting_for: ActingFor = None,
    ) -> ReorganisationView:
        async with acting(db, None, request.user, acting_for) as (conn, actor):
            return await reorganisation.move(conn, actor, data)

    @post("/dissolve", summary="Giải thể cơ quan (người vận hành)")
    async def dissolve(
        self,
        request: Request[Principal, Any, Any],
        db: NamedDependency[Database],
        data: JSONBody[DissolveRequest],
        acting_for: ActingFor = None,
    ) -> ReorganisationView:
        async with acting(db, None, request.user, acting_for) as (conn, actor):
            return await reorganisation.dissolve(conn, actor, data)
