"""HTTP API of connectors: operators set them up and watch their health; an agency sees its own."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_202_ACCEPTED

from services.common.auth.guards import requires_operator, requires_role, tenant_of
from services.common.auth.principal import Principal, Role
from services.interchange.connectors import service
from services.interchange.connectors.schemas import ConnectorRequest, ConnectorView
from services.interchange.connectors.signing import SigningRequest
from services.interchange.runtime import Interchange

MEMBERS = (Role.AGENCY_ADMIN, Role.CLERK, Role.LEADER, Role.DEPUTY_LEADER)


class ConnectorController(Controller):
    path = "/api/v1"
    tags = ("connectors",)

    @get(
        "/connectors",
        guards=[requires_operator],
        summary="Kết nối trục liên thông của mọi cơ quan, với tình trạng (người vận hành)",
    )
    async def list_connectors(
        self, interchange: NamedDependency[Interchange]
    ) -> list[ConnectorView]:
        return await service.list_all(interchange.ctx)

    @get(
        "/connectors/{agency_id:uuid}",
        guards=[requires_operator],
        summary="Kết nối trục liên thông của một cơ quan (người vận hành)",
    )
    async def read_connector(
        self, interchange: NamedDependency[Interchange], agency_id: FromPath[uuid.UUID]
    ) -> ConnectorView:
        return await service.read(interchange.ctx, agency_id)

    @put(
        "/connectors/{agency_id:uuid}",
        guards=[requires_operator],
        summary="Tạo hoặc sửa kết nối trục liên thông của một cơ quan (người vận hành)",
        description=(
            "Mật khẩu (`secret`) chỉ ghi, được mã hoá khi lưu và không bao giờ trả về. "
            "Tạo mới cần `endpoint`, `system_id`, `secret`; sửa chỉ cần trường thay đổi."
        ),
    )
    async def write_connector(
        self,
        interchange: NamedDependency[Interchange],
        agency_id: FromPath[uuid.UUID],
        data: JSONBody[ConnectorRequest],
    ) -> ConnectorView:
        view = await service.upsert(interchange.ctx, agency_id, data)
        await interchange.ctx.jobs.poll(agency_id)
        return view

    @put(
        "/connectors/{agency_id:uuid}/signing",
        guards=[requires_operator],
        summary="Đặt khoá và chứng thư số ký gói tin edXML của một cơ quan (người vận hành)",
        description=(
            "Gửi `pkcs12` (base64 của tệp .p12/.pfx) kèm `password`, hoặc `private_key_pem` "
            "cùng `certificate_chain_pem` (chứng thư của người ký đứng đầu). Khoá chỉ ghi, được "
            "mã hoá khi lưu; câu trả lời chỉ nêu chứng thư. Khoá không khớp chứng thư, chứng "
            "thư hết hoặc chưa có hiệu lực, không cho phép ký số, khoá không phải RSA, sai mật "
            "khẩu: bị từ chối và không thay đổi gì."
        ),
    )
    async def write_signing(
        self,
        interchange: NamedDependency[Interchange],
        agency_id: FromPath[uuid.UUID],
        data: JSONBody[SigningRequest],
    ) -> ConnectorView:
        return await service.set_signing(interchange.ctx, agency_id, data)

    @delete(
        "/connectors/{agency_id:uuid}/signing",
        guards=[requires_operator],
        status_code=HTTP_200_OK,
        summary="Thôi ký gói tin edXML của một cơ quan; khoá bị xoá (người vận hành)",
    )
    async def clear_signing(
        self, interchange: NamedDependency[Interchange], agency_id: FromPath[uuid.UUID]
    ) -> ConnectorView:
        return await service.clear_signing(interchange.ctx, agency_id)

    @post(
        "/connectors/{agency_id:uuid}/poll",
        guards=[requires_operator],
        status_code=HTTP_202_ACCEPTED,
        summary="Lấy văn bản từ trục ngay, không chờ lịch (người vận hành)",
    )
    async def poll_now(
        self, interchange: NamedDependency[Interchange], agency_id: FromPath[uuid.UUID]
    ) -> None:
        await service.poll_now(interchange.ctx, agency_id)

    @get(
        "/connector",
        guards=[requires_role(*MEMBERS)],
        summary="Kết nối trục liên thông của cơ quan đang làm việc và tình trạng của nó",
    )
    async def own_connector(
        self, interchange: NamedDependency[Interchange], request: Request[Principal, Any, Any]
    ) -> ConnectorView:
        tenant_id = tenant_of(request)
        return await service.read(interchange.ctx, tenant_id)
