"""HTTP API of outgoing documents."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from services.common.auth.guards import requires_agency, tenant_of
from services.common.auth.principal import Principal
from services.docs.outgoing.schemas import (
    ChangeRequest,
    CompleteRequest,
    DraftRequest,
    IssueRequest,
    OpinionAnswer,
    OpinionReport,
    OpinionRequest,
    OutgoingCard,
    PinSignRequest,
    PreparedSignatureView,
    PrepareRequest,
    ReservationRequest,
    ReservedNumbers,
    ReturnRequest,
    StepDecision,
    SubmitRequest,
    UpdateRequest,
    VersionComparison,
    VersionRequest,
)
from services.docs.outgoing.service import OutgoingService

Id = FromPath[uuid.UUID]


class OutgoingController(Controller):
    path = "/api/v1/outgoing"
    tags = ("outgoing",)
    guards = (requires_agency,)

    @post("", status_code=HTTP_201_CREATED, summary="Soạn thảo văn bản đi")
    async def create(
        self,
        request: Request[Principal, Any, Any],
        outgoing: NamedDependency[OutgoingService],
        data: JSONBody[DraftRequest],
    ) -> OutgoingCard:
        tenant_id = tenant_of(request)
        return await outgoing.create_draft(tenant_id, request.user, data)

    @get("/{outgoing_id:uuid}", summary="Phiếu văn bản đi")
    async def card(
        self,
        outgoing: NamedDependency[OutgoingService],
        request: Request[Principal, Any, Any],
        outgoing_id: Id,
    ) -> OutgoingCard:
        tenant_id = tenant_of(request)
        return await outgoing.card(tenant_id, outgoing_id)

    @post("/{outgoing_id:uuid}/versions", status_code=HTTP_200_OK, summary="Thêm bản thảo mới")
    async def add_version(
        self,
        request: Request[Principal, Any, Any],
        outgoing: NamedDependency[OutgoingService],
        outgoing_id: Id,
        data: JSONBody[VersionRequest],
    ) -> OutgoingCard:
        tenant_id = tenant_of(request)
        return await outgoing.add_version(tenant_id, request.user, outgoing_id, data)

    @get("/{outgoing_id:uuid}/versions/compare", summary="So sánh hai bản thảo")
    async def compare(
        self,
        outgoing: NamedDependency[OutgoingService],
        request: Request[Principal, Any, Any],
        outgoing_id: Id,
        first: Annotated[int, QueryParameter(name="a", ge=1)],
        second: Annotated[int, QueryParameter(name="b", ge=1)],
    ) -> VersionComparison:
        tenant_id = tenant_of(request)
        return await outgoing.compare(tenant_id, outgoing_id, first, second)

    @post("/{outgoing_id:uuid}/opinions", status_code=HTTP_200_OK, summary="Lấy ý kiến")
    async def request_opinions(
        self,
        request: Request[Principal, Any, Any],
        outgoing: NamedDependency[OutgoingService],
        outgoing_id: Id,
        data: JSONBody[OpinionRequest],
    ) -> OutgoingCard:
        tenant_id = tenant_of(request)
        return await outgoing.request_opinions(
            tenant_id, request.user, outgoing_id, data.assignees, data.due_on
        )

    @get("/{outgoing_id:uuid}/opinions", summary="Tổng hợp ý kiến")
    async def opinion_report(
        self,
        outgoing: NamedDependency[OutgoingService],
        request: Request[Principal, Any, Any],
        outgoing_id: Id,
    ) -> OpinionReport:
        tenant_id = tenant_of(request)
        return await outgoing.opinion_report(tenant_id, outgoing_id)

    @post(
        "/{outgoing_id:uuid}/opinions/{step_id:uuid}",
        status_code=HTTP_200_OK,
        summary="Cho ý kiến về dự thảo",
    )
    async def answer_opinion(
        self,
        request: Request[Principal, Any, Any],
        outgoing: NamedDependency[OutgoingService],
        outgoing_id: Id,
        step_id: FromPath[uuid.UUID],
        data: JSONBody[OpinionAnswer],
    ) -> OutgoingCard:
        tenant_id = tenant_of(request)
        return await outgoing.answer_opinion(tenant_id, request.user, outgoing_id, step_id, data)

    @post("/{outgoing_id:uuid}/submit", status_code=HTTP_200_OK, summary="Trình duyệt")
    async def submit(
        self,
        request: Request[Principal, Any, Any],
        outgoing: NamedDependency[OutgoingService],
        outgoing_id: Id,
        data: JSONBody[SubmitRequest],
    ) -> OutgoingCard:
        tenant_id = tenant_of(request)
        return await outgoing.submit(tenant_id, request.user, outgoing_id, data)

    @post(
        "/{outgoing_id:uuid}/steps/{step_id:uuid}/approve",
        status_code=HTTP_200_OK,
        summary="Đồng ý (kiểm tra nội dung, thể thức, duyệt ký)",
    )
    async def approve(
        self,
        request: Request[Principal, Any, Any],
        outgoing: NamedDependency[OutgoingService],
        outgoing_id: Id,
        step_id: FromPath[uuid.UUID],
        data: JSONBody[StepDecision],
    ) -> OutgoingCard:
        tenant_id = tenant_of(request)
        return await outgoing.approve_step(
            tenant_id, request.user, outgoing_id, step_id, data.comment
        )

    @post(
        "/{outgoing_id:uuid}/steps/{step_id:uuid}/return",
        status_code=HTTP_200_OK,
        summary="Trả lại người soạn thảo",
    )
    async def return_step(
        self,
        request: Request[Principal, Any, Any],
        outgoing: NamedDependency[OutgoingService],
        outgoing_id: Id,
        step_id: FromPath[uuid.UUID],
        data: JSONBody[ReturnRequest],
    ) -> OutgoingCard:
        tenant_id = tenant_of(request)
        return await outgoing.return_step(
            tenant_id, request.user, outgoing_id, step_id, data.reason
        )

    @post("/{outgoing_id:uuid}/issue", status_code=HTTP_200_OK, summary="Cấp số và ban hành")
    async def issue(
        self,
        request: Request[Principal, Any, Any],
        outgoing: NamedDependency[OutgoingService],
        outgoing_id: Id,
        data: JSONBody[IssueRequest],
    ) -> OutgoingCard:
        tenant_id = tenant_of(request)
        return await outgoing.issue(tenant_id, request.user, outgoing_id, data)

    @post("/reservations", status_code=HTTP_201_CREATED, summary="Giữ số cho văn bản ký tay")
    async def reserve(
        self,
        request: Request[Principal, Any, Any],
        outgoing: NamedDependency[OutgoingService],
        data: JSONBody[ReservationRequest],
    ) -> ReservedNumbers:
        tenant_id = tenant_of(request)
        return await outgoing.reserve(tenant_id, request.user, data)

    @post(
        "/{outgoing_id:uuid}/initials",
        status_code=HTTP_200_OK,
        summary="Ký nháy bản thảo (người kiểm tra nội dung, thể thức)",
    )
    async def initial(
        self,
        request: Request[Principal, Any, Any],
        outgoing: NamedDependency[OutgoingService],
        outgoing_id: Id,
        data: JSONBody[PinSignRequest],
    ) -> OutgoingCard:
        tenant_id = tenant_of(request)
        return await outgoing.initial(tenant_id, request.user, outgoing_id, data)

    @post(
        "/{outgoing_id:uuid}/sign",
        status_code=HTTP_200_OK,
        summary="Người có thẩm quyền ký số văn bản (khóa do máy chủ giữ, mở bằng mã PIN)",
    )
    async def sign(
        self,
        request: Request[Principal, Any, Any],
        outgoing: NamedDependency[OutgoingService],
        outgoing_id: Id,
        data: JSONBody[PinSignRequest],
    ) -> OutgoingCard:
        tenant_id = tenant_of(request)
        return await outgoing.sign(tenant_id, request.user, outgoing_id, data)

    @post(
        "/{outgoing_id:uuid}/seal",
        status_code=HTTP_200_OK,
        summary="Văn thư cấp số vào tệp và ký số của cơ quan",
    )
    async def seal(
        self,
        request: Request[Principal, Any, Any],
        outgoing: NamedDependency[OutgoingService],
        outgoing_id: Id,
        data: JSONBody[PinSignRequest],
    ) -> OutgoingCard:
        tenant_id = tenant_of(request)
        return await outgoing.seal(tenant_id, request.user, outgoing_id, data)

    @post(
        "/{outgoing_id:uuid}/signatures/prepare",
        status_code=HTTP_201_CREATED,
        summary="Chuẩn bị chữ ký cho thiết bị ký số hoặc dịch vụ ký số từ xa",
    )
    async def prepare_signature(
        self,
        request: Request[Principal, Any, Any],
        outgoing: NamedDependency[OutgoingService],
        outgoing_id: Id,
        data: JSONBody[PrepareRequest],
    ) -> PreparedSignatureView:
        tenant_id = tenant_of(request)
        return await outgoing.prepare_signature(tenant_id, request.user, outgoing_id, data)

    @post(
        "/{outgoing_id:uuid}/signatures/{session_id:uuid}/complete",
        status_code=HTTP_200_OK,
        summary="Hoàn tất chữ ký với giá trị chữ ký (hoặc CMS) từ thiết bị ký số",
    )
    async def complete_signature(
        self,
        request: Request[Principal, Any, Any],
        outgoing: NamedDependency[OutgoingService],
        outgoing_id: Id,
        session_id: FromPath[uuid.UUID],
        data: JSONBody[CompleteRequest],
    ) -> OutgoingCard:
        tenant_id = tenant_of(request)
        return await outgoing.complete_signature(
            tenant_id, request.user, outgoing_id, session_id, data.signature
        )

    @post("/{outgoing_id:uuid}/revoke", status_code=HTTP_200_OK, summary="Thu hồi văn bản")
    async def revoke(
        self,
        request: Request[Principal, Any, Any],
        outgoing: NamedDependency[OutgoingService],
        outgoing_id: Id,
        data: JSONBody[ChangeRequest],
    ) -> OutgoingCard:
        tenant_id = tenant_of(request)
        return await outgoing.revoke(tenant_id, request.user, outgoing_id, data.reason)

    @post(
        "/{outgoing_id:uuid}/update",
        status_code=HTTP_200_OK,
        summary="Cập nhật thông tin văn bản đã ban hành",
    )
    async def update_issued(
        self,
        request: Request[Principal, Any, Any],
        outgoing: NamedDependency[OutgoingService],
        outgoing_id: Id,
        data: JSONBody[UpdateRequest],
    ) -> OutgoingCard:
        tenant_id = tenant_of(request)
        return await outgoing.update_issued(tenant_id, request.user, outgoing_id, data)

    @post(
        "/{outgoing_id:uuid}/replace",
        status_code=HTTP_201_CREATED,
        summary="Soạn văn bản thay thế văn bản đã ban hành",
    )
    async def replace(
        self,
        request: Request[Principal, Any, Any],
        outgoing: NamedDependency[OutgoingService],
        outgoing_id: Id,
        data: JSONBody[DraftRequest],
    ) -> OutgoingCard:
        tenant_id = tenant_of(request)
        return await outgoing.replace(tenant_id, request.user, outgoing_id, data)
