"""The agency registry over HTTP: operators create and correct agencies, anyone reads them."""

from __future__ import annotations

import random
import uuid

import pytest

from tests.identity.conftest import PROVINCE, Api, new_code


def new_code_qd20() -> str:
    r = random.SystemRandom()
    return f"K{r.randrange(100):02d}.{r.randrange(10000):04d}.{r.randrange(10000):04d}"


async def test_operator_creates_an_agency_with_contacts(api: Api) -> None:
    parent = await api.agency(level="province")
    qd20 = new_code_qd20()
    child = await api.agency(
        parent_id=parent["id"],
        code_qd20=qd20,
        address="Đường Trần Phú, phường Tân Dân, Việt Trì",
        phone="0210 384 6888",
        email="VanPhong@PhuTho.gov.vn",
        website="https://phutho.gov.vn",
    )
    response = await api.get("chutich", f"/api/v1/agencies/{child['id']}")
    assert response.status_code == 200
    stored = response.json()
    assert stored["parent_id"] == parent["id"]
    assert stored["code_qd20"] == qd20
    assert stored["phone"] == "02103846888"
    assert stored["email"] == "vanphong@phutho.gov.vn"
    assert stored["status"] == "active"
    assert stored["valid_from"] == "2020-01-01"


@pytest.mark.parametrize(
    "code",
    [
        "000.00.00.h44",  # lower-case level-1 letter
        "00.00.00.H44",  # too short
        "000.00.00.H444",  # too long
        "０００.00.00.H44",  # full-width digits
        "000-00-00-H44",
        "",
    ],
)
async def test_malformed_agency_code_is_refused(api: Api, code: str) -> None:
    response = await api.post(
        "vanhanh",
        "/api/v1/agencies",
        {"code": code, "name": "Cơ quan sai mã", "short_name": "SM", "level": "department"},
    )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_malformed_qd20_code_is_refused(api: Api) -> None:
    body = {"code": new_code(), "name": "X", "short_name": "X", "level": "x", "code_qd20": "Z01"}
    response = await api.post("vanhanh", "/api/v1/agencies", body)
    assert response.status_code == 400


async def test_duplicate_agency_code_is_a_conflict(api: Api) -> None:
    first = await api.agency()
    body = {"code": first["code"], "name": "Bản sao", "short_name": "BS", "level": "department"}
    response = await api.post("vanhanh", "/api/v1/agencies", body)
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"


async def test_duplicate_qd20_code_is_a_conflict(api: Api) -> None:
    qd20 = new_code_qd20()
    await api.agency(code_qd20=qd20)
    body = {"code": new_code(), "name": "X", "short_name": "X", "level": "x", "code_qd20": qd20}
    response = await api.post("vanhanh", "/api/v1/agencies", body)
    assert response.status_code == 409


async def test_parent_must_exist(api: Api) -> None:
    body = {
        "code": new_code(),
        "name": "Mồ côi",
        "short_name": "MC",
        "level": "department",
        "parent_id": str(uuid.uuid4()),
    }
    response = await api.post("vanhanh", "/api/v1/agencies", body)
    assert response.status_code == 400


async def test_parent_must_be_active(api: Api) -> None:
    parent = await api.agency()
    dissolved = await api.post(
        "vanhanh",
        "/api/v1/reorganisations/dissolve",
        {"agency_id": parent["id"], "effective_date": "2025-07-01", "reference": "QĐ 1/QĐ-UBND"},
    )
    assert dissolved.status_code == 201, dissolved.text
    body = {
        "code": new_code(),
        "name": "Dưới cơ quan đã giải thể",
        "short_name": "X",
        "level": "department",
        "parent_id": parent["id"],
    }
    response = await api.post("vanhanh", "/api/v1/agencies", body)
    assert response.status_code == 400


async def test_placing_an_agency_under_its_own_subordinate_is_a_cycle(api: Api) -> None:
    top = await api.agency()
    middle = await api.agency(parent_id=top["id"])
    bottom = await api.agency(parent_id=middle["id"])
    for parent in (bottom, middle, top):
        response = await api.patch(
            "vanhanh", f"/api/v1/agencies/{top['id']}", {"parent_id": parent["id"]}
        )
        assert response.status_code == 400, parent
    stored = (await api.get("vanhanh", f"/api/v1/agencies/{top['id']}")).json()
    assert stored["parent_id"] is None


async def test_only_operators_change_the_registry(api: Api) -> None:
    body = {"code": new_code(), "name": "X", "short_name": "X", "level": "department"}
    assert (await api.post("quantri", "/api/v1/agencies", body)).status_code == 403
    response = await api.patch("quantri", f"/api/v1/agencies/{PROVINCE}", {"name": "Đổi tên"})
    assert response.status_code == 403


async def test_anyone_authenticated_reads_the_registry(api: Api) -> None:
    response = await api.get("vanthu", "/api/v1/agencies", status="active")
    assert response.status_code == 200
    assert str(PROVINCE) in {a["id"] for a in response.json()}


async def test_creating_and_correcting_an_agency_is_audited(api: Api) -> None:
    created = await api.agency(name="Sở Thông tin và Truyền thông", short_name="STTTT")
    response = await api.patch(
        "vanhanh",
        f"/api/v1/agencies/{created['id']}",
        {"name": "Sở Thông tin và Truyền thông tỉnh", "phone": "+84 210 3846 888"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["phone"] == "+842103846888"
    updated, first = await api.audit(uuid.UUID(created["id"]), created["id"], entity="agency")
    assert first["action"] == "agency.created"
    assert first["before"] is None
    assert first["after"]["code102"] == created["code"]
    assert first["actor_username"] == "vanhanh"
    assert updated["action"] == "agency.updated"
    assert updated["before"]["name"] == "Sở Thông tin và Truyền thông"
    assert updated["after"]["name"] == "Sở Thông tin và Truyền thông tỉnh"


async def test_correction_changes_the_current_version_only(api: Api) -> None:
    created = await api.agency(name="Tên gõ sai")
    await api.patch("vanhanh", f"/api/v1/agencies/{created['id']}", {"name": "Tên đúng"})
    history = (await api.get("vanhanh", f"/api/v1/agencies/{created['id']}/history")).json()
    assert [(v["valid_from"], v["valid_to"], v["name"]) for v in history] == [
        ("2020-01-01", None, "Tên đúng")
    ]


async def test_acting_for_someone_is_refused_on_platform_operations(api: Api) -> None:
    body = {"code": new_code(), "name": "X", "short_name": "X", "level": "department"}
    response = await api.post("vanhanh", "/api/v1/agencies", body, acting_for=uuid.uuid4())
    assert response.status_code == 403


async def test_an_agency_registered_directly_has_a_history(api: Api, tenant: uuid.UUID) -> None:
    # The shared `tenant` fixture inserts the row itself; the trigger gives it its first version.
    history = (await api.get("vanhanh", f"/api/v1/agencies/{tenant}/history")).json()
    assert [(v["valid_from"], v["valid_to"], v["status"]) for v in history] == [
        (None, None, "active")
    ]
