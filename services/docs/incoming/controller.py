"""HTTP API of incoming documents and their processing."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from services.common.auth.guards import requires_agency, requires_role, tenant_of
from services.common.auth.principal import Principal, Role
from services.common.db import Database
from services.docs.deadlines.figures import OverdueFigure, overdue_figures
from services.docs.incoming.changes import IncomingChanges
from services.docs.incoming.schemas import (
    Assign,
    AssignmentRequest,
    ChangeRefusal,
    Completion,
    DocumentCard,
    ExtensionRequest,
    Opinion,
    Page,
    PaperDocument,
    Registration,
    Return,
)
from services.docs.incoming.service import IncomingService, today

DocumentState = Literal[
    "waiting",
    "registered",
    "assigned",
    "processing",
    "completed",
    "returned",
    "revoked",
    "replaced",
]


class IncomingController(Controller):
    path = "/api/v1/incoming"
    tags = ("incoming",)
    guards = (requires_agency,)

    @get("", summary="Danh sách văn bản đến (tìm kiếm, lọc, phân trang)")
    async def list_documents(
        self,
        request: Request[Principal, Any, Any],
        incoming: NamedDependency[IncomingService],
        # `state` is a reserved keyword of Litestar handlers; the query parameter keeps the name.
        document_state: Annotated[DocumentState | None, QueryParameter(name="state")] = None,
        q: Annotated[str | None, QueryParameter(max_length=200)] = None,
        mine: Annotated[bool, QueryParameter()] = False,
        overdue: Annotated[bool, QueryParameter()] = False,
        cursor: Annotated[str | None, QueryParameter(max_length=200)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> Page:
        tenant_id = tenant_of(request)
        return await incoming.list(
            tenant_id,
            request.user,
            state=document_state,
            query=q,
            assigned_to_me=mine,
            overdue=overdue,
            cursor=cursor,
            limit=limit,
        )

    @get(
        "/figures/overdue",
        guards=[requires_role(Role.LEADER, Role.DEPUTY_LEADER, Role.DEPARTMENT_HEAD, Role.CLERK)],
        summary="Số việc quá hạn theo phòng, ban và người xử lý, tại một ngày",
    )
    async def overdue(
        self,
        db: NamedDependency[Database],
        request: Request[Principal, Any, Any],
        as_of: Annotated[dt.date | None, QueryParameter()] = None,
    ) -> list[OverdueFigure]:
        tenant_id = tenant_of(request)
        async with db.transaction(tenant_id, read_only=True) as conn:
            return await overdue_figures(conn, tenant_id, as_of or today())

    @post("", status_code=HTTP_201_CREATED, summary="Tiếp nhận văn bản giấy (và vào sổ)")
    async def receive_paper(
        self,
        request: Request[Principal, Any, Any],
        incoming: NamedDependency[IncomingService],
        data: JSONBody[PaperDocument],
    ) -> DocumentCard:
        tenant_id = tenant_of(request)
        return await incoming.receive_paper(tenant_id, request.user, data)

    @get("/{document_id:uuid}", summary="Phiếu văn bản: thông tin, tệp, phân công, lịch sử")
    async def card(
        self,
        request: Request[Principal, Any, Any],
        incoming: NamedDependency[IncomingService],
        document_id: FromPath[uuid.UUID],
    ) -> DocumentCard:
        tenant_id = tenant_of(request)
        return await incoming.card(tenant_id, request.user, document_id)

    @post("/{document_id:uuid}/register", status_code=HTTP_200_OK, summary="Vào sổ văn bản đến")
    async def register(
        self,
        request: Request[Principal, Any, Any],
        incoming: NamedDependency[IncomingService],
        document_id: FromPath[uuid.UUID],
        data: JSONBody[Registration],
    ) -> DocumentCard:
        tenant_id = tenant_of(request)
        return await incoming.register(tenant_id, request.user, document_id, data)

    @post("/{document_id:uuid}/return", status_code=HTTP_200_OK, summary="Trả lại nơi gửi")
    async def return_to_sender(
        self,
        request: Request[Principal, Any, Any],
        incoming: NamedDependency[IncomingService],
        document_id: FromPath[uuid.UUID],
        data: JSONBody[Return],
    ) -> DocumentCard:
        tenant_id = tenant_of(request)
        return await incoming.return_to_sender(tenant_id, request.user, document_id, data.reason)

    @post("/{document_id:uuid}/assignments", status_code=HTTP_200_OK, summary="Phân công xử lý")
    async def assign(
        self,
        request: Request[Principal, Any, Any],
        incoming: NamedDependency[IncomingService],
        document_id: FromPath[uuid.UUID],
        data: JSONBody[Assign],
    ) -> DocumentCard:
        tenant_id = tenant_of(request)
        return await incoming.assign(tenant_id, request.user, document_id, data)

    @post("/{document_id:uuid}/opinions", status_code=HTTP_200_OK, summary="Cho ý kiến")
    async def opinion(
        self,
        request: Request[Principal, Any, Any],
        incoming: NamedDependency[IncomingService],
        document_id: FromPath[uuid.UUID],
        data: JSONBody[Opinion],
    ) -> DocumentCard:
        tenant_id = tenant_of(request)
        return await incoming.opinion(tenant_id, request.user, document_id, data.text)

    @post("/{document_id:uuid}/complete", status_code=HTTP_200_OK, summary="Hoàn thành xử lý")
    async def complete(
        self,
        request: Request[Principal, Any, Any],
        incoming: NamedDependency[IncomingService],
        document_id: FromPath[uuid.UUID],
        data: JSONBody[Completion],
    ) -> DocumentCard:
        tenant_id = tenant_of(request)
        return await incoming.complete(tenant_id, request.user, document_id, data)

    @post(
        "/{document_id:uuid}/changes/{change_id:uuid}/accept",
        status_code=HTTP_200_OK,
        summary="Đồng ý yêu cầu thu hồi, cập nhật hoặc thay thế của nơi gửi",
    )
    async def accept_change(
        self,
        request: Request[Principal, Any, Any],
        incoming: NamedDependency[IncomingService],
        document_id: FromPath[uuid.UUID],
        change_id: FromPath[uuid.UUID],
    ) -> DocumentCard:
        tenant_id = tenant_of(request)
        return await IncomingChanges(incoming).accept(
            tenant_id, request.user, document_id, change_id
        )

    @post(
        "/{document_id:uuid}/changes/{change_id:uuid}/refuse",
        status_code=HTTP_200_OK,
        summary="Từ chối yêu cầu thu hồi, cập nhật hoặc thay thế (nêu lý do)",
    )
    async def refuse_change(
        self,
        request: Request[Principal, Any, Any],
        incoming: NamedDependency[IncomingService],
        document_id: FromPath[uuid.UUID],
        change_id: FromPath[uuid.UUID],
        data: JSONBody[ChangeRefusal],
    ) -> DocumentCard:
        tenant_id = tenant_of(request)
        return await IncomingChanges(incoming).refuse(
            tenant_id, request.user, document_id, change_id, data.reason
        )


class AssignmentController(Controller):
    path = "/api/v1/assignments"
    tags = ("incoming",)
    guards = (requires_agency,)

    @post("/{assignment_id:uuid}/reassign", status_code=HTTP_200_OK, summary="Chuyển tiếp")
    async def reassign(
        self,
        request: Request[Principal, Any, Any],
        incoming: NamedDependency[IncomingService],
        assignment_id: FromPath[uuid.UUID],
        data: JSONBody[AssignmentRequest],
    ) -> DocumentCard:
        tenant_id = tenant_of(request)
        return await incoming.reassign(tenant_id, request.user, assignment_id, data)

    @post("/{assignment_id:uuid}/extension", status_code=HTTP_200_OK, summary="Xin gia hạn")
    async def request_extension(
        self,
        request: Request[Principal, Any, Any],
        incoming: NamedDependency[IncomingService],
        assignment_id: FromPath[uuid.UUID],
        data: JSONBody[ExtensionRequest],
    ) -> DocumentCard:
        tenant_id = tenant_of(request)
        return await incoming.request_extension(tenant_id, request.user, assignment_id, data)

    @post(
        "/{assignment_id:uuid}/extension/{decision:str}",
        status_code=HTTP_200_OK,
        summary="Đồng ý hoặc không đồng ý gia hạn (approve | refuse)",
    )
    async def decide_extension(
        self,
        request: Request[Principal, Any, Any],
        incoming: NamedDependency[IncomingService],
        assignment_id: FromPath[uuid.UUID],
        decision: FromPath[Literal["approve", "refuse"]],
    ) -> DocumentCard:
        tenant_id = tenant_of(request)
        return await incoming.decide_extension(
            tenant_id, request.user, assignment_id, decision == "approve"
        )
