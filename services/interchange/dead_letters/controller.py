"""HTTP API of the dead-letter list: an agency's clerks and admins see and replay their own;
operators see every agency's."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.status_codes import HTTP_200_OK

from services.common.auth.guards import requires_operator, requires_role, tenant_of
from services.common.auth.principal import Principal, Role
from services.common.problems import DependencyUnavailable
from services.interchange.dead_letters import service
from services.interchange.dead_letters.service import DeadLetterView, State
from services.interchange.runtime import Interchange

Listing = Literal["open", "replayed", "all"]
KEEPERS = (Role.AGENCY_ADMIN, Role.CLERK)


def _state(listing: Listing) -> State | None:
    return None if listing == "all" else listing


class DeadLetterController(Controller):
    path = "/api/v1"
    tags = ("dead letters",)

    @get(
        "/dead-letters",
        guards=[requires_role(*KEEPERS)],
        summary="Văn bản, gói tin không chuyển được hoặc bị từ chối, kèm lý do",
    )
    async def list_own(
        self,
        interchange: NamedDependency[Interchange],
        request: Request[Principal, Any, Any],
        listing: Annotated[Listing, QueryParameter(name="state")] = "open",
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
        before: Annotated[dt.datetime | None, QueryParameter()] = None,
    ) -> list[DeadLetterView]:
        tenant_id = tenant_of(request)
        async with interchange.ctx.db.transaction(tenant_id, read_only=True) as conn:
            return await service.list_letters(
                conn, state=_state(listing), limit=limit, before=before
            )

    @post(
        "/dead-letters/{letter_id:uuid}/replay",
        guards=[requires_role(*KEEPERS)],
        status_code=HTTP_200_OK,
        summary="Chạy lại một thư hỏng",
    )
    async def replay_own(
        self,
        interchange: NamedDependency[Interchange],
        request: Request[Principal, Any, Any],
        letter_id: FromPath[uuid.UUID],
    ) -> DeadLetterView:
        tenant_id = tenant_of(request)
        return await interchange.replay(tenant_id, letter_id)

    @get(
        "/operator/dead-letters",
        guards=[requires_operator],
        summary="Thư hỏng của mọi cơ quan (người vận hành)",
    )
    async def list_all(
        self,
        interchange: NamedDependency[Interchange],
        agency_id: Annotated[uuid.UUID | None, QueryParameter()] = None,
        listing: Annotated[Listing, QueryParameter(name="state")] = "open",
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
        before: Annotated[dt.datetime | None, QueryParameter()] = None,
    ) -> list[DeadLetterView]:
        if interchange.ctx.platform_db is None:
            raise DependencyUnavailable(
                "Chưa cấu hình quyền đọc toàn nền tảng.", "No platform reader is configured."
            )
        return await service.list_all(
            interchange.ctx.platform_db,
            tenant_id=agency_id,
            state=_state(listing),
            limit=limit,
            before=before,
        )

    @post(
        "/operator/dead-letters/{agency_id:uuid}/{letter_id:uuid}/replay",
        guards=[requires_operator],
        status_code=HTTP_200_OK,
        summary="Chạy lại một thư hỏng của một cơ quan (người vận hành)",
    )
    async def replay_any(
        self,
        interchange: NamedDependency[Interchange],
        agency_id: FromPath[uuid.UUID],
        letter_id: FromPath[uuid.UUID],
    ) -> DeadLetterView:
        return await interchange.replay(agency_id, letter_id)
