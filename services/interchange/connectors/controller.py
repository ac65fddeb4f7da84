"""HTTP API of connectors: operators set them up and watch their health; an agency sees its own."""

from __future__ import annotations

import uuid

from litestar import Controller, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_202_ACCEPTED

from services.common.auth.guards import requires_operator, requires_role
from services.common.auth.principal import Role
from services.interchange.connectors import service
from services.interchange.connectors.schemas import ConnectorRequest, ConnectorView
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

    @post(
        "/connectors/{agency_id:uuid}/poll",
        guards=[requires_operator],
        status_code=HTTP_202_ACCEPTED,
        summary="Lấy văn bản từ trục ngay, không chờ lịch (người vận hành)",
    )
    async def poll_now(
        self, interchange: NamedDependency[Interchange], agency_id: FromPath[uuid.UUID]
    ) -> None:
        await interchange.ctx.jobs.poll(agency_id)

    @get(
        "/connector",
        guards=[requires_role(*MEMBERS)],
        summary="Kết nối trục liên thông của cơ quan đang làm việc và tình trạng của nó",
    )
    async def own_connector(
        self, interchange: NamedDependency[Interchange], tenant_id: NamedDependency[uuid.UUID]
    ) -> ConnectorView:
        return await service.read(interchange.ctx, tenant_id)
