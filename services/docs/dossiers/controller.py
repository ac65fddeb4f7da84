"""HTTP API of dossiers: the catalogue, documents, closing, the archive package, transfer and
disposal."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.response import Stream
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from services.common.auth.guards import requires_agency, tenant_of
from services.common.auth.principal import Principal
from services.docs.dossiers.archive import ArchiveService
from services.docs.dossiers.disposition import attachment
from services.docs.dossiers.package import PackageBuilder, stream_zip
from services.docs.dossiers.schemas import (
    Acceptance,
    AddDocuments,
    CloseRequest,
    DisposalDecision,
    DisposalEntry,
    DisposalListing,
    DossierCard,
    DossierCreate,
    DossierState,
    DossierSummary,
    DossierUpdate,
    OpenRequest,
    ReopenRequest,
)
from services.docs.dossiers.service import DossierService
from services.docs.incoming.service import today

Id = FromPath[uuid.UUID]
User = Request[Principal, Any, Any]


class DossierController(Controller):
    path = "/api/v1/dossiers"
    tags = ("dossiers",)
    guards = (requires_agency,)

    @get("", summary="Danh mục hồ sơ của cơ quan trong một năm")
    async def catalogue(
        self,
        dossiers: NamedDependency[DossierService],
        request: Request[Principal, Any, Any],
        year: Annotated[int | None, QueryParameter(ge=1945, le=2100)] = None,
        # `state` is a reserved keyword of Litestar handlers; the query parameter keeps the name.
        dossier_state: Annotated[DossierState | None, QueryParameter(name="state")] = None,
    ) -> list[DossierSummary]:
        tenant_id = tenant_of(request)
        return await dossiers.list(tenant_id, year or today().year, dossier_state)

    @post("", status_code=HTTP_201_CREATED, summary="Thêm hồ sơ vào danh mục hồ sơ")
    async def create(
        self,
        request: User,
        dossiers: NamedDependency[DossierService],
        data: JSONBody[DossierCreate],
    ) -> DossierCard:
        tenant_id = tenant_of(request)
        return await dossiers.create(tenant_id, request.user, data)

    @get("/transfer-due", summary="Hồ sơ đến hạn (hoặc quá hạn) nộp lưu vào Lưu trữ cơ quan")
    async def transfer_due(
        self,
        request: User,
        archive: NamedDependency[ArchiveService],
        within_days: Annotated[int, QueryParameter(ge=0, le=3650)] = 30,
    ) -> list[DossierSummary]:
        tenant_id = tenant_of(request)
        return await archive.transfer_due(tenant_id, request.user, within_days)

    @get("/retention-expired", summary="Hồ sơ hết thời hạn bảo quản (chờ xét tiêu hủy)")
    async def retention_expired(
        self,
        request: User,
        archive: NamedDependency[ArchiveService],
        as_of: Annotated[dt.date | None, QueryParameter()] = None,
        year: Annotated[int | None, QueryParameter(ge=1945, le=2100)] = None,
    ) -> list[DossierSummary]:
        tenant_id = tenant_of(request)
        return await archive.expired(tenant_id, request.user, as_of or today(), year)

    @get("/disposal", summary="Danh sách hồ sơ, tài liệu đề nghị tiêu hủy")
    async def disposal_list(
        self,
        request: User,
        archive: NamedDependency[ArchiveService],
        decided: Annotated[bool, QueryParameter()] = False,
    ) -> list[DisposalEntry]:
        tenant_id = tenant_of(request)
        return await archive.disposal_list(tenant_id, request.user, decided)

    @get("/{dossier_id:uuid}", summary="Phiếu hồ sơ: thông tin, văn bản, lịch sử")
    async def card(
        self,
        request: User,
        dossiers: NamedDependency[DossierService],
        dossier_id: Id,
    ) -> DossierCard:
        tenant_id = tenant_of(request)
        return await dossiers.card(tenant_id, request.user, dossier_id)

    @patch("/{dossier_id:uuid}", summary="Sửa thông tin hồ sơ (trước khi nộp lưu)")
    async def update(
        self,
        request: User,
        dossiers: NamedDependency[DossierService],
        dossier_id: Id,
        data: JSONBody[DossierUpdate],
    ) -> DossierCard:
        tenant_id = tenant_of(request)
        return await dossiers.update(tenant_id, request.user, dossier_id, data)

    @post("/{dossier_id:uuid}/open", status_code=HTTP_200_OK, summary="Mở hồ sơ")
    async def open_dossier(
        self,
        request: User,
        dossiers: NamedDependency[DossierService],
        dossier_id: Id,
        data: JSONBody[OpenRequest],
    ) -> DossierCard:
        tenant_id = tenant_of(request)
        return await dossiers.open(tenant_id, request.user, dossier_id, data)

    @post(
        "/{dossier_id:uuid}/documents",
        status_code=HTTP_200_OK,
        summary="Đưa văn bản đến, đi, nội bộ vào hồ sơ (số thứ tự tự động)",
    )
    async def add_documents(
        self,
        request: User,
        dossiers: NamedDependency[DossierService],
        dossier_id: Id,
        data: JSONBody[AddDocuments],
    ) -> DossierCard:
        tenant_id = tenant_of(request)
        return await dossiers.add_documents(tenant_id, request.user, dossier_id, data)

    @delete(
        "/{dossier_id:uuid}/documents/{ordinal:int}",
        status_code=HTTP_200_OK,
        summary="Bỏ văn bản khỏi hồ sơ (các số thứ tự sau lùi lên)",
    )
    async def remove_document(
        self,
        request: User,
        dossiers: NamedDependency[DossierService],
        dossier_id: Id,
        ordinal: FromPath[int],
    ) -> DossierCard:
        tenant_id = tenant_of(request)
        return await dossiers.remove_item(tenant_id, request.user, dossier_id, ordinal)

    @post("/{dossier_id:uuid}/close", status_code=HTTP_200_OK, summary="Kết thúc hồ sơ")
    async def close(
        self,
        request: User,
        dossiers: NamedDependency[DossierService],
        dossier_id: Id,
        data: JSONBody[CloseRequest],
    ) -> DossierCard:
        tenant_id = tenant_of(request)
        return await dossiers.close(tenant_id, request.user, dossier_id, data)

    @post("/{dossier_id:uuid}/reopen", status_code=HTTP_200_OK, summary="Mở lại hồ sơ (nêu lý do)")
    async def reopen(
        self,
        request: User,
        dossiers: NamedDependency[DossierService],
        dossier_id: Id,
        data: JSONBody[ReopenRequest],
    ) -> DossierCard:
        tenant_id = tenant_of(request)
        return await dossiers.reopen(tenant_id, request.user, dossier_id, data)

    @get(
        "/{dossier_id:uuid}/package",
        summary="Xuất gói hồ sơ nộp lưu (ZIP: PDF ghép, tệp gốc, siêu dữ liệu, mã băm)",
        media_type="application/zip",
    )
    async def package(
        self,
        request: User,
        packages: NamedDependency[PackageBuilder],
        dossier_id: Id,
    ) -> Stream:
        tenant_id = tenant_of(request)
        package = await packages.prepare(tenant_id, request.user, dossier_id)
        return Stream(
            stream_zip(package),
            media_type="application/zip",
            headers={
                "Content-Disposition": attachment(package.file_name),
                "X-Joined-PDF-SHA256": package.joined_sha256,
                "X-Manifest-SHA256": package.manifest_sha256,
                "Cache-Control": "private, no-store",
            },
        )

    @post(
        "/{dossier_id:uuid}/acceptance",
        status_code=HTTP_200_OK,
        summary="Lưu trữ cơ quan tiếp nhận hồ sơ nộp lưu (hồ sơ chỉ còn để đọc)",
    )
    async def accept(
        self,
        request: User,
        archive: NamedDependency[ArchiveService],
        dossier_id: Id,
        data: JSONBody[Acceptance],
    ) -> DossierCard:
        tenant_id = tenant_of(request)
        return await archive.accept(tenant_id, request.user, dossier_id, data)

    @post(
        "/{dossier_id:uuid}/disposal",
        status_code=HTTP_200_OK,
        summary="Đưa hồ sơ hết thời hạn bảo quản vào danh sách tiêu hủy",
    )
    async def list_for_disposal(
        self,
        request: User,
        archive: NamedDependency[ArchiveService],
        dossier_id: Id,
        data: JSONBody[DisposalListing],
    ) -> DossierCard:
        tenant_id = tenant_of(request)
        return await archive.list_for_disposal(tenant_id, request.user, dossier_id, data)

    @post(
        "/{dossier_id:uuid}/disposal/decision",
        status_code=HTTP_200_OK,
        summary="Quyết định tiêu hủy hồ sơ (người đứng đầu cơ quan)",
    )
    async def decide_disposal(
        self,
        request: User,
        archive: NamedDependency[ArchiveService],
        dossier_id: Id,
        data: JSONBody[DisposalDecision],
    ) -> DossierCard:
        tenant_id = tenant_of(request)
        return await archive.decide_disposal(tenant_id, request.user, dossier_id, data)
