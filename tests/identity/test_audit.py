"""The audit trail: one agency's records, newest first, in pages; no agency reads another's."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from services.common.db import Database
from services.identity.tables import audit_event
from tests.identity.conftest import Api


async def test_audit_is_paged_newest_first(api: Api) -> None:
    created = await api.post("quantri", "/api/v1/departments", {"name": "P0", "short_name": "P"})
    unit = created.json()["id"]
    for name in ("P1", "P2"):
        await api.patch("quantri", f"/api/v1/departments/{unit}", {"name": name})
    first = (await api.get("quantri", "/api/v1/audit", entity_id=unit, limit=2)).json()
    assert [r["after"]["name"] for r in first["items"]] == ["P2", "P1"]
    assert first["next_offset"] == 2
    last = (await api.get("quantri", "/api/v1/audit", entity_id=unit, limit=2, offset=2)).json()
    assert [r["after"]["name"] for r in last["items"]] == ["P0"]
    assert last["next_offset"] is None


async def test_admin_cannot_read_another_agency_trail(api: Api) -> None:
    other = await api.agency()
    assert await api.audit(uuid.UUID(other["id"]), other["id"])  # the operator sees it
    mine = await api.get("quantri", "/api/v1/audit", entity_id=other["id"])
    assert mine.status_code == 200
    assert mine.json()["items"] == []
    named = await api.get("quantri", "/api/v1/audit", agency_id=other["id"])
    assert named.status_code == 403


async def test_audit_records_are_tenant_rows(api: Api, identity_db: Database) -> None:
    a = await api.agency()
    b = await api.agency()
    async with identity_db.transaction(uuid.UUID(a["id"]), read_only=True) as conn:
        seen = set(
            (
                await conn.execute(
                    select(audit_event.c.entity_id).where(
                        audit_event.c.entity_id.in_([uuid.UUID(a["id"]), uuid.UUID(b["id"])])
                    )
                )
            ).scalars()
        )
    assert seen == {uuid.UUID(a["id"])}


async def test_only_admins_and_operators_read_the_trail(api: Api) -> None:
    assert (await api.get("chutich", "/api/v1/audit")).status_code == 403
