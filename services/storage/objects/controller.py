"""HTTP API of stored files."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from litestar import Controller, Request, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_206_PARTIAL_CONTENT

from services.common.auth.guards import requires_agency, requires_operator, tenant_of
from services.common.auth.principal import Principal, Role
from services.common.problems import Forbidden, InvalidInput
from services.storage.objects import records
from services.storage.objects.inspection import content_disposition
from services.storage.objects.ranges import parse_range
from services.storage.objects.schemas import (
    DownloadLink,
    LockRequest,
    QuotaRequest,
    StoredObject,
    Usage,
    Verification,
)
from services.storage.objects.service import ObjectService
from services.storage.objects.streaming import BufferStream

# Who may put an issued file under retention: the clerk who issues it, or the docs service
# doing so on their behalf.
_LOCKERS = frozenset({"qlvb-docs", "qlvb-interchange"})


def _content_length(request: Request[Any, Any, Any]) -> int | None:
    value = request.headers.get("content-length")
    if value is None:
        return None
    if not value.isdigit():
        raise InvalidInput("Content-Length không hợp lệ.", "Invalid Content-Length.")
    return int(value)


async def _body(request: Request[Any, Any, Any]) -> AsyncIterator[bytes]:
    async for chunk in request.stream():
        if chunk:
            yield chunk


class ObjectController(Controller):
    path = "/api/v1/objects"
    tags = ("objects",)
    guards = (requires_agency,)

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        summary="Tải tệp lên (upload a file)",
        description=(
            "Nội dung tệp là thân yêu cầu (không dùng multipart); tên tệp ở tham số `name`. "
            "Loại tệp được xác định từ nội dung; Content-Type hoặc đuôi tệp phải khớp."
        ),
        # The service enforces its own, per-type and per-tenant limits while streaming.
        request_max_body_size=None,
    )
    async def upload(
        self,
        request: Request[Principal, Any, Any],
        objects: NamedDependency[ObjectService],
        name: Annotated[str, QueryParameter(min_length=1, max_length=1000)],
    ) -> StoredObject:
        tenant_id = tenant_of(request)
        return await objects.upload(
            tenant_id=tenant_id,
            principal=request.user,
            file_name=name,
            content_type=request.headers.get("content-type"),
            content_length=_content_length(request),
            body=_body(request),
        )

    @get("/{object_id:uuid}", summary="Thông tin tệp (file metadata)")
    async def metadata(
        self,
        objects: NamedDependency[ObjectService],
        request: Request[Principal, Any, Any],
        object_id: FromPath[uuid.UUID],
    ) -> StoredObject:
        tenant_id = tenant_of(request)
        return records.view(await objects.get(tenant_id, object_id))

    @get("/{object_id:uuid}/content", summary="Tải tệp về (download, ranges supported)")
    async def content(
        self,
        request: Request[Principal, Any, Any],
        objects: NamedDependency[ObjectService],
        object_id: FromPath[uuid.UUID],
        verify: FromQuery[bool] = False,
        inline: FromQuery[bool] = False,
    ) -> BufferStream:
        tenant_id = tenant_of(request)
        row = await objects.get(tenant_id, object_id)
        size = int(row.size)
        headers = {
            "Content-Disposition": content_disposition(row.file_name, inline=inline),
            "Accept-Ranges": "bytes",
            "ETag": f'"{row.sha256}"',
            "X-Content-SHA256": row.sha256,
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        }
        chosen = parse_range(request.headers.get("range"), size)
        if chosen is None:
            headers["Content-Length"] = str(size)
            return BufferStream(
                objects.content(row, verify=verify),
                status_code=HTTP_200_OK,
                media_type=row.content_type,
                headers=headers,
            )
        first, last = chosen
        headers["Content-Range"] = f"bytes {first}-{last}/{size}"
        headers["Content-Length"] = str(last - first + 1)
        return BufferStream(
            objects.content(row, first, last - first + 1),
            status_code=HTTP_206_PARTIAL_CONTENT,
            media_type=row.content_type,
            headers=headers,
        )

    @get("/{object_id:uuid}/link", summary="Liên kết tải về có thời hạn (presigned link)")
    async def link(
        self,
        objects: NamedDependency[ObjectService],
        request: Request[Principal, Any, Any],
        object_id: FromPath[uuid.UUID],
        inline: FromQuery[bool] = False,
    ) -> DownloadLink:
        tenant_id = tenant_of(request)
        row = await objects.get(tenant_id, object_id)
        url = objects.store.presign(
            row.bucket, row.key, content_disposition(row.file_name, inline=inline), row.content_type
        )
        expires = records.now() + dt.timedelta(seconds=objects.settings.presign_seconds)
        return DownloadLink(url=url, expires_at=expires)

    @post("/{object_id:uuid}/verify", status_code=HTTP_200_OK, summary="Kiểm tra toàn vẹn tệp")
    async def verify(
        self,
        objects: NamedDependency[ObjectService],
        request: Request[Principal, Any, Any],
        object_id: FromPath[uuid.UUID],
    ) -> Verification:
        tenant_id = tenant_of(request)
        return await objects.verify(tenant_id, object_id)

    @delete("/{object_id:uuid}", status_code=HTTP_200_OK, summary="Xóa tệp (xóa mềm)")
    async def remove(
        self,
        objects: NamedDependency[ObjectService],
        request: Request[Principal, Any, Any],
        object_id: FromPath[uuid.UUID],
    ) -> StoredObject:
        tenant_id = tenant_of(request)
        return await objects.soft_delete(tenant_id, object_id)

    @post("/{object_id:uuid}/restore", status_code=HTTP_200_OK, summary="Khôi phục tệp đã xóa")
    async def restore(
        self,
        objects: NamedDependency[ObjectService],
        request: Request[Principal, Any, Any],
        object_id: FromPath[uuid.UUID],
    ) -> StoredObject:
        tenant_id = tenant_of(request)
        return await objects.restore(tenant_id, object_id)

    @post(
        "/{object_id:uuid}/lock",
        status_code=HTTP_200_OK,
        summary="Khóa lưu trữ tệp văn bản đã ban hành (object lock)",
    )
    async def lock(
        self,
        request: Request[Principal, Any, Any],
        objects: NamedDependency[ObjectService],
        object_id: FromPath[uuid.UUID],
        data: JSONBody[LockRequest],
    ) -> StoredObject:
        tenant_id = tenant_of(request)
        principal = request.user
        allowed = (principal.is_service and principal.client_id in _LOCKERS) or (
            principal.has_role(Role.CLERK)
        )
        if not allowed:
            raise Forbidden(
                "Chỉ văn thư (hoặc dịch vụ văn bản) được khóa lưu trữ tệp.",
                "Only clerks (or the documents service) may lock files.",
            )
        return await objects.lock(tenant_id, object_id, data.retain_until)


class UsageController(Controller):
    path = "/api/v1"
    tags = ("usage",)

    @get(
        "/usage",
        # Anyone working in the agency may see it: uploaders are the ones who hit the quota.
        guards=[requires_agency],
        summary="Dung lượng đã dùng và hạn mức của cơ quan",
    )
    async def usage(
        self, objects: NamedDependency[ObjectService], request: Request[Principal, Any, Any]
    ) -> Usage:
        tenant_id = tenant_of(request)
        return await usage_of(objects, tenant_id)

    @put(
        "/tenants/{agency_id:uuid}/quota",
        guards=[requires_operator],
        summary="Đặt hạn mức lưu trữ cho cơ quan (người vận hành)",
    )
    async def set_quota(
        self,
        objects: NamedDependency[ObjectService],
        agency_id: FromPath[uuid.UUID],
        data: JSONBody[QuotaRequest],
    ) -> Usage:
        if data.quota_bytes < 0:
            raise InvalidInput("Hạn mức không được âm.", "The quota cannot be negative.")
        # An explicit, operator-only path into one tenant: the transaction carries that tenant.
        async with objects.db.transaction(agency_id) as conn:
            await records.set_quota(conn, agency_id, data.quota_bytes)
        return await usage_of(objects, agency_id)


async def usage_of(objects: ObjectService, tenant_id: uuid.UUID) -> Usage:
    async with objects.db.transaction(tenant_id, read_only=True) as conn:
        used, count, quota = await records.usage(
            conn, tenant_id, objects.settings.default_quota_bytes
        )
    return Usage(tenant_id=tenant_id, bytes=used, objects=count, quota_bytes=quota)
