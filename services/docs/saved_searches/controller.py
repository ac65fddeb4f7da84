"""HTTP API of saved searches, and the export of incoming search results (CSV, XLSX)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.response import Stream
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from services.common.auth.guards import requires_agency, tenant_of
from services.common.auth.principal import Principal
from services.docs.dossiers.disposition import attachment
from services.docs.incoming.controller import DocumentState
from services.docs.incoming.schemas import Page
from services.docs.incoming.service import IncomingService, today
from services.docs.saved_searches import export
from services.docs.saved_searches.schemas import (
    ExportFormat,
    SavedSearchCreate,
    SavedSearchView,
    SearchParams,
)
from services.docs.saved_searches.service import SavedSearchService

User = Request[Principal, Any, Any]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def _export(
    incoming: IncomingService,
    tenant_id: uuid.UUID,
    principal: Principal,
    params: SearchParams,
    file_format: ExportFormat,
) -> Stream:
    await export.check_size(incoming, tenant_id, principal, params)
    rows = export.pages(incoming, tenant_id, principal, params)
    name = f"van-ban-den-{today():%Y%m%d}.{file_format}"
    headers = {"Content-Disposition": attachment(name), "Cache-Control": "private, no-store"}
    if file_format == "csv":
        return Stream(
            export.csv_stream(rows), media_type="text/csv; charset=utf-8", headers=headers
        )
    directory = await export.xlsx_file(rows)
    return Stream(export.file_stream(directory), media_type=XLSX, headers=headers)


class SavedSearchController(Controller):
    path = "/api/v1/saved-searches"
    tags = ("saved-searches",)
    guards = (requires_agency,)

    @get("", summary="Các tìm kiếm đã lưu của tôi")
    async def list_searches(
        self,
        request: User,
        saved_searches: NamedDependency[SavedSearchService],
    ) -> list[SavedSearchView]:
        tenant_id = tenant_of(request)
        return await saved_searches.list(tenant_id, request.user)

    @post("", status_code=HTTP_201_CREATED, summary="Lưu một tìm kiếm văn bản đến")
    async def create(
        self,
        request: User,
        saved_searches: NamedDependency[SavedSearchService],
        data: JSONBody[SavedSearchCreate],
    ) -> SavedSearchView:
        tenant_id = tenant_of(request)
        return await saved_searches.create(tenant_id, request.user, data)

    @get("/{search_id:uuid}", summary="Một tìm kiếm đã lưu")
    async def get_search(
        self,
        request: User,
        saved_searches: NamedDependency[SavedSearchService],
        search_id: FromPath[uuid.UUID],
    ) -> SavedSearchView:
        tenant_id = tenant_of(request)
        return await saved_searches.get(tenant_id, request.user, search_id)

    @delete("/{search_id:uuid}", status_code=HTTP_204_NO_CONTENT, summary="Xóa tìm kiếm đã lưu")
    async def delete_search(
        self,
        request: User,
        saved_searches: NamedDependency[SavedSearchService],
        search_id: FromPath[uuid.UUID],
    ) -> None:
        tenant_id = tenant_of(request)
        await saved_searches.delete(tenant_id, request.user, search_id)

    @get("/{search_id:uuid}/results", summary="Chạy tìm kiếm đã lưu (phân trang như danh sách)")
    async def run(
        self,
        request: User,
        saved_searches: NamedDependency[SavedSearchService],
        search_id: FromPath[uuid.UUID],
        cursor: Annotated[str | None, QueryParameter(max_length=200)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> Page:
        tenant_id = tenant_of(request)
        return await saved_searches.run(
            tenant_id, request.user, search_id, cursor=cursor, limit=limit
        )

    @get("/{search_id:uuid}/export", summary="Xuất kết quả tìm kiếm đã lưu (CSV hoặc XLSX)")
    async def export_results(
        self,
        request: User,
        saved_searches: NamedDependency[SavedSearchService],
        incoming: NamedDependency[IncomingService],
        search_id: FromPath[uuid.UUID],
        file_format: Annotated[ExportFormat, QueryParameter(name="format")] = "csv",
    ) -> Stream:
        tenant_id = tenant_of(request)
        params = (await saved_searches.get(tenant_id, request.user, search_id)).params
        return await _export(incoming, tenant_id, request.user, params, file_format)


class IncomingExportController(Controller):
    path = "/api/v1/incoming"
    tags = ("incoming",)
    guards = (requires_agency,)

    @get("/export", summary="Xuất kết quả tìm kiếm văn bản đến (CSV hoặc XLSX)")
    async def export_results(
        self,
        request: User,
        incoming: NamedDependency[IncomingService],
        # The same conditions as `GET /api/v1/incoming`.
        document_state: Annotated[DocumentState | None, QueryParameter(name="state")] = None,
        q: Annotated[str | None, QueryParameter(max_length=200)] = None,
        mine: Annotated[bool, QueryParameter()] = False,
        overdue: Annotated[bool, QueryParameter()] = False,
        file_format: Annotated[ExportFormat, QueryParameter(name="format")] = "csv",
    ) -> Stream:
        tenant_id = tenant_of(request)
        params = SearchParams(state=document_state, q=q, mine=mine, overdue=overdue)
        return await _export(incoming, tenant_id, request.user, params, file_format)
