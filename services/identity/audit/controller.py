"""HTTP API of the audit trail of one agency: its admin reads it, an operator names the agency."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, get
from litestar.di import NamedDependency, Provide
from litestar.params import FromQuery, QueryParameter

from services.common.db import Database
from services.identity.access import provide_managed_agency, requires_agency_admin_or_operator
from services.identity.audit import service
from services.identity.audit.schemas import AuditPage

Limit = Annotated[int, QueryParameter(ge=1, le=500)]
Offset = Annotated[int, QueryParameter(ge=0)]
Name = Annotated[str | None, QueryParameter(max_length=60)]


class AuditController(Controller):
    path = "/api/v1/audit"
    tags = ("audit",)
    guards = [requires_agency_admin_or_operator]  # noqa: RUF012
    dependencies = {"managed": Provide(provide_managed_agency)}  # noqa: RUF012

    @get("", summary="Nhật ký thay đổi của cơ quan (mới nhất trước)")
    async def list_audit(
        self,
        db: NamedDependency[Database],
        managed: NamedDependency[uuid.UUID],
        entity: Name = None,
        entity_id: FromQuery[uuid.UUID | None] = None,
        action: Name = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> AuditPage:
        async with db.transaction(managed, read_only=True) as conn:
            return await service.list_events(
                conn,
                entity=entity,
                entity_id=entity_id,
                action=action,
                limit=limit,
                offset=offset,
            )
