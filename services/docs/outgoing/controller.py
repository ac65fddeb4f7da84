"""HTTP API of outgoing documents."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from services.common.auth.guards import requires_agency
from services.common.auth.principal import Principal
from services.docs.outgoing.schemas import (
    DraftRequest,
    IssueRequest,
    OpinionAnswer,
    OpinionReport,
    OpinionRequest,
    OutgoingCard,
    ReservationRequest,
    ReservedNumbers,
    ReturnRequest,
    StepDecision,
    SubmitRequest,
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
        tenant_id: NamedDependency[uuid.UUID],
        data: JSONBody[DraftRequest],
    ) -> OutgoingCard:
        return await outgoing.create_draft(tenant_id, request.user, data)

    @get("/{outgoing_id:uuid}", summary="Phiếu văn bản đi")
    async def card(
        self,
        outgoing: NamedDependency[OutgoingService],
        tenant_id: NamedDependency[uuid.UUID],
        outgoing_id: Id,
    ) -> OutgoingCard:
        return await outgoing.card(tenant_id, outgoing_id)

    @post("/{outgoing_id:uuid}/versions", status_code=HTTP_200_OK, summary="Thêm bản thảo mới")
    async def add_version(
        self,
        request: Request[Principal, Any, Any],
        outgoing: NamedDependency[OutgoingService],
        tenant_id: NamedDependency[uuid.UUID],
        outgoing_id: Id,
        data: JSONBody[VersionRequest],
    ) -> OutgoingCard:
        return await outgoing.add_version(tenant_id, request.user, outgoing_id, data)

    @get("/{outgoing_id:uuid}/versions/compare", summary="So sánh hai bản thảo")
    async def compare(
        self,
        outgoing: NamedDependency[OutgoingService],
        tenant_id: NamedDependency[uuid.UUID],
        outgoing_id: Id,
        first: Annotated[int, QueryParameter(name="a", ge=1)],
        second: Annotated[int, QueryParameter(name="b", ge=1)],
    ) -> VersionComparison:
        return await outgoing.compare(tenant_id, outgoing_id, first, second)

    @post("/{outgoing_id:uuid}/opinions", status_code=HTTP_200_OK, summary="Lấy ý kiến")
    async def request_opinions(
        self,
        request: Request[Principal, Any, Any],
        outgoing: NamedDependency[OutgoingService],
        tenant_id: NamedDependency[uuid.UUID],
        outgoing_id: Id,
        data: JSONBody[OpinionRequest],
    ) -> OutgoingCard:
        return await outgoing.request_opinions(
            tenant_id, request.user, outgoing_id, data.assignees, data.due_on
        )

    @get("/{outgoing_id:uuid}/opinions", summary="Tổng hợp ý kiến")
    async def opinion_report(
        self,
        outgoing: NamedDependency[OutgoingService],
        tenant_id: NamedDependency[uuid.UUID],
        outgoing_id: Id,
    ) -> OpinionReport:
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
        tenant_id: NamedDependency[uuid.UUID],
        outgoing_id: Id,
        step_id: FromPath[uuid.UUID],
        data: JSONBody[OpinionAnswer],
    ) -> OutgoingCard:
        return await outgoing.answer_opinion(tenant_id, request.user, outgoing_id, step_id, data)

    @post("/{outgoing_id:uuid}/submit", status_code=HTTP_200_OK, summary="Trình duyệt")
    async def submit(
        self,
        request: Request[Principal, Any, Any],
        outgoing: NamedDependency[OutgoingService],
        tenant_id: NamedDependency[uuid.UUID],
        outgoing_id: Id,
        data: JSONBody[SubmitRequest],
    ) -> OutgoingCard:
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
        tenant_id: NamedDependency[uuid.UUID],
        outgoing_id: Id,
        step_id: FromPath[uuid.UUID],
        data: JSONBody[StepDecision],
    ) -> OutgoingCard:
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
        tenant_id: NamedDependency[uuid.UUID],
        outgoing_id: Id,
        step_id: FromPath[uuid.UUID],
        data: JSONBody[ReturnRequest],
    ) -> OutgoingCard:
        return await outgoing.return_step(
            tenant_id, request.user, outgoing_id, step_id, data.reason
        )

    @post("/{outgoing_id:uuid}/issue", status_code=HTTP_200_OK, summary="Cấp số và ban hành")
    async def issue(
        self,
        request: Request[Principal, Any, Any],
        outgoing: NamedDependency[OutgoingService],
        tenant_id: NamedDependency[uuid.UUID],
        outgoing_id: Id,
        data: JSONBody[IssueRequest],
    ) -> OutgoingCard:
        return await outgoing.issue(tenant_id, request.user, outgoing_id, data)

    @post("/reservations", status_code=HTTP_201_CREATED, summary="Giữ số cho văn bản ký tay")
    async def reserve(
        self,
        request: Request[Principal, Any, Any],
        outgoing: NamedDependency[OutgoingService],
        tenant_id: NamedDependency[uuid.UUID],
        data: JSONBody[ReservationRequest],
    ) -> ReservedNumbers:
        return await outgoing.reserve(tenant_id, request.user, data)
