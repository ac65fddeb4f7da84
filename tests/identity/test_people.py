"""People and memberships: agency admins manage their own agency's, row-level security keeps
other agencies' out of sight, and an operator reaches any agency by naming it."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select

from services.common.db import Database
from services.identity.tables import membership
from services.identity.tenancy import PLATFORM_TENANT
from tests.identity.conftest import PROVINCE, Api, OutboxReader, new_username


def person_body(**fields: Any) -> dict[str, Any]:
    username = new_username()
    return {
        "username": username,
        "full_name": "Trần Thị Bích Ngọc",
        "email": f"{username}@test.qlvb.vn",
        "phone": "0912 345 678",
        "title": "Chuyên viên",
        "position": "Chuyên viên Phòng Tổng hợp",
        "roles": ["specialist", "clerk"],
    } | fields


async def test_admin_adds_a_person_to_their_agency(api: Api) -> None:
    body = person_body()
    response = await api.post("quantri", "/api/v1/people", body)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["phone"] == "0912345678"
    assert created["enabled"] is True
    assert created["membership"]["agency_id"] == str(PROVINCE)
    assert created["membership"]["roles"] == ["clerk", "specialist"]
    fetched = (await api.get("quantri", f"/api/v1/people/{created['id']}")).json()
    assert fetched["username"] == body["username"]
    assert fetched["membership"]["position"] == "Chuyên viên Phòng Tổng hợp"


async def test_person_working_elsewhere_gets_a_concurrent_membership(api: Api) -> None:
    elsewhere = await api.agency()
    official = await api.person(uuid.UUID(elsewhere["id"]))
    response = await api.post(
        "quantri",
        "/api/v1/people",
        person_body(username=official["username"], email=official["email"], roles=["leader"]),
    )
    assert response.status_code == 201, response.text
    assert response.json()["id"] == official["id"]
    there = (await api.get("vanhanh", "/api/v1/memberships", agency_id=elsewhere["id"])).json()
    here = (await api.get("quantri", "/api/v1/memberships")).json()
    assert [m["roles"] for m in there if m["person_id"] == official["id"]] == [["specialist"]]
    assert [m["roles"] for m in here if m["person_id"] == official["id"]] == [["leader"]]


async def test_email_of_another_person_is_a_conflict(api: Api) -> None:
    first = await api.person(PROVINCE)
    response = await api.post("quantri", "/api/v1/people", person_body(email=first["email"]))
    assert response.status_code == 409


async def test_second_active_membership_in_one_agency_is_a_conflict(api: Api) -> None:
    official = await api.person(PROVINCE)
    response = await api.post("quantri", "/api/v1/memberships", {"person_id": official["id"]})
    assert response.status_code == 409


async def test_membership_in_a_dissolved_agency_is_refused(api: Api) -> None:
    agency = await api.agency()
    official = await api.person(PROVINCE)
    dissolved = await api.post(
        "vanhanh",
        "/api/v1/reorganisations/dissolve",
        {"agency_id": agency["id"], "effective_date": "2025-07-01", "reference": "QĐ 9/QĐ-UBND"},
    )
    assert dissolved.status_code == 201
    response = await api.post("vanhanh", "/api/v1/people", person_body(), agency_id=agency["id"])
    assert response.status_code == 400
    response = await api.post(
        "vanhanh", "/api/v1/memberships", {"person_id": official["id"]}, agency_id=agency["id"]
    )
    assert response.status_code == 400
    listed = await api.get("vanhanh", "/api/v1/memberships", agency_id=agency["id"])
    assert listed.json() == []


@pytest.mark.parametrize(
    "fields",
    [
        {"roles": ["boss"]},
        {"username": "Viết Hoa"},
        {"username": "ab"},
        {"email": "not-an-address"},
        {"phone": "12345"},
        {"full_name": ""},
        {"valid_from": "2025-07-01", "valid_to": "2025-07-01"},
    ],
)
async def test_bad_person_data_is_refused(api: Api, fields: dict[str, Any]) -> None:
    response = await api.post("quantri", "/api/v1/people", person_body(**fields))
    assert response.status_code == 400


async def test_admin_sees_only_their_agency_memberships(api: Api) -> None:
    other = await api.agency()
    outsider = await api.person(uuid.UUID(other["id"]))
    mine = (await api.get("quantri", "/api/v1/memberships")).json()
    assert {m["agency_id"] for m in mine} == {str(PROVINCE)}
    assert outsider["id"] not in {m["person_id"] for m in mine}
    people = (await api.get("quantri", "/api/v1/people", limit=500)).json()["items"]
    assert outsider["id"] not in {p["id"] for p in people}
    assert (await api.get("quantri", f"/api/v1/people/{outsider['id']}")).status_code == 404
    # Neither naming the agency nor switching to it gets the admin in.
    assert (
        await api.get("quantri", "/api/v1/memberships", agency_id=other["id"])
    ).status_code == 403
    switched = await api.get("quantri", "/api/v1/memberships", agency=uuid.UUID(other["id"]))
    assert switched.status_code == 403


async def test_memberships_are_tenant_rows(api: Api, identity_db: Database) -> None:
    other = await api.agency()
    await api.person(uuid.UUID(other["id"]))
    await api.person(PROVINCE)
    async with identity_db.transaction(uuid.UUID(other["id"]), read_only=True) as conn:
        tenants = set((await conn.execute(select(membership.c.tenant_id))).scalars())
    assert tenants == {uuid.UUID(other["id"])}
    async with identity_db.transaction(None, read_only=True) as conn:
        assert (await conn.execute(select(membership.c.id))).first() is None


async def test_people_list_is_paginated(api: Api) -> None:
    await api.person(PROVINCE)
    await api.person(PROVINCE)
    first = (await api.get("quantri", "/api/v1/people", limit=1)).json()
    assert len(first["items"]) == 1
    assert first["next_offset"] == 1
    second = (await api.get("quantri", "/api/v1/people", limit=1, offset=1)).json()
    assert second["items"][0]["id"] != first["items"][0]["id"]


async def test_membership_changes_and_end_are_audited(api: Api) -> None:
    official = await api.person(PROVINCE)
    membership_id = official["membership"]["id"]
    changed = await api.patch(
        "quantri",
        f"/api/v1/memberships/{membership_id}",
        {"roles": ["department_head"], "position": "Trưởng phòng"},
    )
    assert changed.status_code == 200
    assert changed.json()["roles"] == ["department_head"]
    ended = await api.post("quantri", f"/api/v1/memberships/{membership_id}/end")
    assert ended.json()["active"] is False
    records = (
        await api.get("quantri", "/api/v1/audit", entity="membership", entity_id=membership_id)
    ).json()["items"]
    assert [r["action"] for r in records] == [
        "membership.ended",
        "membership.updated",
        "membership.created",
    ]
    assert records[1]["before"]["roles"] == ["specialist"]
    assert records[1]["after"]["roles"] == ["department_head"]
    assert (records[0]["before"]["active"], records[0]["after"]["active"]) == (True, False)


async def test_disabling_a_person_is_announced_and_audited(
    api: Api, outbox_events: OutboxReader
) -> None:
    official = await api.person(PROVINCE)
    response = await api.post("quantri", f"/api/v1/people/{official['id']}/disable")
    assert response.status_code == 200
    assert response.json()["enabled"] is False
    events = [
        e
        for e in await outbox_events(PROVINCE, "person.disabled")
        if e["person_id"] == official["id"]
    ]
    assert events == [
        {
            "person_id": official["id"],
            "username": official["username"],
            "keycloak_id": None,
            "_tenant": str(PROVINCE),
        }
    ]
    [record] = (
        await api.get(
            "quantri",
            "/api/v1/audit",
            entity="person",
            entity_id=official["id"],
            action="person.disabled",
        )
    ).json()["items"]
    assert (record["before"]["enabled"], record["after"]["enabled"]) == (True, False)
    again = await api.post("quantri", f"/api/v1/people/{official['id']}/disable")
    assert again.status_code == 200
    assert (
        len(
            [
                e
                for e in await outbox_events(PROVINCE, "person.disabled")
                if e["person_id"] == official["id"]
            ]
        )
        == 1
    )


async def test_admin_cannot_disable_someone_of_another_agency(api: Api) -> None:
    other = await api.agency()
    outsider = await api.person(uuid.UUID(other["id"]))
    response = await api.post("quantri", f"/api/v1/people/{outsider['id']}/disable")
    assert response.status_code == 404


async def test_operator_disables_anyone(api: Api, outbox_events: OutboxReader) -> None:
    other = await api.agency()
    official = await api.person(uuid.UUID(other["id"]))
    response = await api.post("vanhanh", f"/api/v1/people/{official['id']}/disable")
    assert response.status_code == 200
    events = await outbox_events(PLATFORM_TENANT, "person.disabled")
    assert official["id"] in {e["person_id"] for e in events}


async def test_admin_corrects_a_person(api: Api) -> None:
    official = await api.person(PROVINCE)
    response = await api.patch(
        "quantri", f"/api/v1/people/{official['id']}", {"full_name": "Nguyễn Văn Thủ"}
    )
    assert response.status_code == 200
    assert response.json()["full_name"] == "Nguyễn Văn Thủ"


async def test_only_admins_and_operators_manage_people(api: Api) -> None:
    assert (await api.get("chutich", "/api/v1/people")).status_code == 403
    assert (await api.post("vanthu", "/api/v1/people", person_body())).status_code == 403
    # An operator must say which agency.
    assert (await api.get("vanhanh", "/api/v1/people")).status_code == 400
