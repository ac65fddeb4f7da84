"""Departments inside an agency: the agency admin builds the tree, nobody else changes it."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import insert

from services.common.db import Database
from services.identity.tables import department
from tests.identity.conftest import PROVINCE, Api


async def new_department(api: Api, **body: Any) -> dict[str, Any]:
    response = await api.post(
        "quantri",
        "/api/v1/departments",
        {"name": f"Phòng thử {uuid.uuid4().hex[:6]}", "short_name": "PT"} | body,
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_admin_creates_renames_and_moves_a_department(api: Api) -> None:
    parent = await new_department(api)
    child = await new_department(api, parent_id=parent["id"])
    other = await new_department(api)
    renamed = await api.patch(
        "quantri", f"/api/v1/departments/{child['id']}", {"name": "Phòng Pháp chế"}
    )
    assert renamed.status_code == 200
    moved = await api.patch(
        "quantri", f"/api/v1/departments/{child['id']}", {"parent_id": other["id"]}
    )
    assert moved.status_code == 200
    listed = (await api.get("vanthu", "/api/v1/departments")).json()
    stored = next(d for d in listed if d["id"] == child["id"])
    assert (stored["name"], stored["parent_id"]) == ("Phòng Pháp chế", other["id"])
    moved_up = await api.patch("quantri", f"/api/v1/departments/{child['id']}", {"parent_id": None})
    assert moved_up.json()["parent_id"] is None


async def test_moving_a_department_under_its_sub_department_is_a_cycle(api: Api) -> None:
    top = await new_department(api)
    middle = await new_department(api, parent_id=top["id"])
    bottom = await new_department(api, parent_id=middle["id"])
    for parent in (bottom, top):
        response = await api.patch(
            "quantri", f"/api/v1/departments/{top['id']}", {"parent_id": parent["id"]}
        )
        assert response.status_code == 400


async def test_parent_department_must_be_in_the_same_agency(
    api: Api, identity_db: Database, tenant: uuid.UUID
) -> None:
    elsewhere = uuid.uuid4()
    async with identity_db.transaction(tenant) as conn:
        await conn.execute(
            insert(department).values(
                tenant_id=tenant, id=elsewhere, name="Phòng của cơ quan khác", short_name="K"
            )
        )
    for parent in (elsewhere, uuid.uuid4()):
        response = await api.post(
            "quantri",
            "/api/v1/departments",
            {"name": "Lạc chỗ", "short_name": "LC", "parent_id": str(parent)},
        )
        assert response.status_code == 400


async def test_deactivation_waits_for_sub_departments(api: Api) -> None:
    parent = await new_department(api)
    child = await new_department(api, parent_id=parent["id"])
    refused = await api.post("quantri", f"/api/v1/departments/{parent['id']}/deactivate")
    assert refused.status_code == 409
    for unit in (child, parent):
        response = await api.post("quantri", f"/api/v1/departments/{unit['id']}/deactivate")
        assert response.status_code == 200
        assert response.json()["active"] is False
    listed = (await api.get("vanthu", "/api/v1/departments")).json()
    assert parent["id"] not in {d["id"] for d in listed}
    everything = await api.get("vanthu", "/api/v1/departments", include_inactive="true")
    assert parent["id"] in {d["id"] for d in everything.json()}


async def test_deactivation_waits_for_members(api: Api) -> None:
    unit = await new_department(api)
    await api.person(PROVINCE, department_id=unit["id"])
    response = await api.post("quantri", f"/api/v1/departments/{unit['id']}/deactivate")
    assert response.status_code == 409


async def test_only_the_agency_admin_changes_departments(api: Api) -> None:
    response = await api.post(
        "chutich", "/api/v1/departments", {"name": "Phòng X", "short_name": "X"}
    )
    assert response.status_code == 403


async def test_department_changes_are_audited(api: Api) -> None:
    unit = await new_department(api, name="Phòng Nội chính")
    await api.patch("quantri", f"/api/v1/departments/{unit['id']}", {"name": "Phòng Nội vụ"})
    response = await api.get("quantri", "/api/v1/audit", entity="department", entity_id=unit["id"])
    assert response.status_code == 200
    renamed, created = response.json()["items"]
    assert (created["action"], created["before"]) == ("department.created", None)
    assert created["after"]["name"] == "Phòng Nội chính"
    assert renamed["action"] == "department.renamed"
    assert (renamed["before"]["name"], renamed["after"]["name"]) == (
        "Phòng Nội chính",
        "Phòng Nội vụ",
    )
    assert renamed["actor_username"] == "quantri"
    assert renamed["acting_for_person_id"] is None
