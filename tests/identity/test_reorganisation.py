"""Reorganisations of the agency tree, with the tree read as it stood before and after."""

from __future__ import annotations

import uuid
from typing import Any

from tests.identity.conftest import Api, OutboxReader, new_code

DECREE = "Nghị quyết 1656/NQ-UBTVQH15"


async def reorganise(api: Api, kind: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await api.post(
        "vanhanh",
        f"/api/v1/reorganisations/{kind}",
        {"effective_date": "2025-07-01", "reference": DECREE} | body,
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def tree(api: Api, root: str, as_of: str, *, inactive: bool = False) -> dict[str, Any]:
    """The subtree under `root` on `as_of`: {id: (name, status, parent_id)} of every node."""
    response = await api.get(
        "vanthu",
        "/api/v1/agencies/tree",
        root=root,
        as_of=as_of,
        include_inactive=str(inactive).lower(),
    )
    assert response.status_code == 200, response.text
    nodes: dict[str, Any] = {}

    def walk(node: dict[str, Any]) -> None:
        nodes[node["id"]] = (node["name"], node["status"], node["parent_id"])
        for child in node["children"]:
            walk(child)

    for root_node in response.json()["roots"]:
        walk(root_node)
    return nodes


async def agency(api: Api, agency_id: str) -> dict[str, Any]:
    response = await api.get("vanthu", f"/api/v1/agencies/{agency_id}")
    assert response.status_code == 200
    result: dict[str, Any] = response.json()
    return result


async def test_merge_into_a_new_agency(api: Api, outbox_events: OutboxReader) -> None:
    province = await api.agency(level="province")
    a = await api.agency(parent_id=province["id"], name="Sở Kế hoạch và Đầu tư")
    b = await api.agency(parent_id=province["id"], name="Sở Tài chính")
    commune = await api.agency(parent_id=a["id"], level="commune")
    change = await reorganise(
        api,
        "merge",
        {
            "agency_ids": [a["id"], b["id"]],
            "new_successor": {
                "code": new_code(),
                "name": "Sở Tài chính (mới)",
                "short_name": "STC",
                "level": "department",
            },
        },
    )
    [successor] = change["successors"]
    assert change["predecessors"] == [a["id"], b["id"]]

    before = await tree(api, province["id"], "2025-06-30")
    assert before[a["id"]] == ("Sở Kế hoạch và Đầu tư", "active", province["id"])
    assert before[b["id"]][1] == "active"
    assert before[commune["id"]][2] == a["id"]
    assert successor not in before

    after = await tree(api, province["id"], "2025-07-01")
    assert after[successor] == ("Sở Tài chính (mới)", "active", province["id"])
    assert a["id"] not in after
    assert b["id"] not in after
    # The subordinates of a merged agency move under its successor.
    assert after[commune["id"]][2] == successor

    with_inactive = await tree(api, province["id"], "2025-07-01", inactive=True)
    assert with_inactive[a["id"]][1] == "inactive"

    merged = await agency(api, a["id"])
    assert (merged["status"], merged["successor_id"], merged["valid_to"]) == (
        "inactive",
        successor,
        "2025-07-01",
    )
    assert (await agency(api, successor))["valid_from"] == "2025-07-01"

    [event] = await outbox_events(uuid.UUID(successor), "agency.reorganised")
    assert event["kind"] == "merge"
    assert event["effective_date"] == "2025-07-01"
    assert event["predecessors"] == [a["id"], b["id"]]
    assert event["successors"] == [successor]
    assert event["reference"] == DECREE


async def test_merge_into_an_existing_agency_is_audited_in_each(api: Api) -> None:
    a = await api.agency()
    b = await api.agency()
    successor = await api.agency()
    change = await reorganise(
        api, "merge", {"agency_ids": [a["id"], b["id"]], "successor_id": successor["id"]}
    )
    assert change["successors"] == [successor["id"]]
    assert (await agency(api, successor["id"]))["status"] == "active"
    [record] = await api.audit(uuid.UUID(a["id"]), a["id"], action="agency.merged")
    assert record["before"]["status"] == "active"
    assert record["after"]["status"] == "inactive"
    assert record["after"]["successor_id"] == successor["id"]
    assert record["after"]["change_id"] == change["id"]
    [record] = await api.audit(uuid.UUID(successor["id"]), successor["id"], action="agency.merged")
    assert record["after"]["change_id"] == change["id"]


async def test_merge_into_an_inactive_agency_is_refused(api: Api) -> None:
    a = await api.agency()
    gone = await api.agency()
    await reorganise(api, "dissolve", {"agency_id": gone["id"]})
    response = await api.post(
        "vanhanh",
        "/api/v1/reorganisations/merge",
        {
            "agency_ids": [a["id"]],
            "successor_id": gone["id"],
            "effective_date": "2025-08-01",
            "reference": DECREE,
        },
    )
    assert response.status_code == 400
    assert (await agency(api, a["id"]))["status"] == "active"


async def test_merging_an_inactive_agency_is_refused(api: Api) -> None:
    gone = await api.agency()
    successor = await api.agency()
    await reorganise(api, "dissolve", {"agency_id": gone["id"]})
    response = await api.post(
        "vanhanh",
        "/api/v1/reorganisations/merge",
        {
            "agency_ids": [gone["id"]],
            "successor_id": successor["id"],
            "effective_date": "2025-08-01",
            "reference": DECREE,
        },
    )
    assert response.status_code == 400


async def test_split_creates_successors_from_the_effective_date(
    api: Api, outbox_events: OutboxReader
) -> None:
    province = await api.agency(level="province")
    old = await api.agency(parent_id=province["id"], name="Sở Nông nghiệp và Môi trường")
    change = await reorganise(
        api,
        "split",
        {
            "agency_id": old["id"],
            "successors": [
                {"code": new_code(), "name": "Sở Nông nghiệp", "short_name": "SNN", "level": "d"},
                {"code": new_code(), "name": "Sở Môi trường", "short_name": "SMT", "level": "d"},
            ],
        },
    )
    first, second = change["successors"]
    before = await tree(api, province["id"], "2025-06-30")
    assert set(before) == {province["id"], old["id"]}
    after = await tree(api, province["id"], "2025-07-01")
    assert set(after) == {province["id"], first, second}
    assert after[second] == ("Sở Môi trường", "active", province["id"])
    assert (await agency(api, old["id"]))["successor_id"] == first
    for successor in (first, second):
        [event] = await outbox_events(uuid.UUID(successor), "agency.reorganised")
        assert (event["kind"], event["predecessors"]) == ("split", [old["id"]])
        assert event["successors"] == [first, second]
    lineage = (await api.get("vanthu", f"/api/v1/agencies/{second}/lineage")).json()
    assert [p["id"] for p in lineage["predecessors"]] == [old["id"]]


async def test_rename_keeps_the_old_name_in_history(api: Api) -> None:
    a = await api.agency(name="Sở Thông tin và Truyền thông", short_name="STTTT")
    await reorganise(
        api,
        "rename",
        {"agency_id": a["id"], "name": "Sở Khoa học và Công nghệ", "short_name": "SKHCN"},
    )
    assert (await tree(api, a["id"], "2025-06-30"))[a["id"]][0] == "Sở Thông tin và Truyền thông"
    assert (await tree(api, a["id"], "2025-07-01"))[a["id"]][0] == "Sở Khoa học và Công nghệ"
    current = await agency(api, a["id"])
    assert (current["name"], current["short_name"]) == ("Sở Khoa học và Công nghệ", "SKHCN")
    history = (await api.get("vanthu", f"/api/v1/agencies/{a['id']}/history")).json()
    assert [(v["valid_from"], v["valid_to"], v["short_name"]) for v in history] == [
        ("2020-01-01", "2025-07-01", "STTTT"),
        ("2025-07-01", None, "SKHCN"),
    ]


async def test_move_changes_the_parent_from_the_effective_date(api: Api) -> None:
    province = await api.agency(level="province")
    district = await api.agency(parent_id=province["id"], level="district")
    commune = await api.agency(parent_id=district["id"], level="commune")
    await reorganise(api, "move", {"agency_id": commune["id"], "parent_id": province["id"]})
    assert (await tree(api, province["id"], "2025-06-30"))[commune["id"]][2] == district["id"]
    assert (await tree(api, province["id"], "2025-07-01"))[commune["id"]][2] == province["id"]


async def test_moving_under_a_subordinate_is_a_cycle(api: Api) -> None:
    top = await api.agency()
    below = await api.agency(parent_id=top["id"])
    response = await api.post(
        "vanhanh",
        "/api/v1/reorganisations/move",
        {
            "agency_id": top["id"],
            "parent_id": below["id"],
            "effective_date": "2025-07-01",
            "reference": DECREE,
        },
    )
    assert response.status_code == 400
    assert (await agency(api, top["id"]))["parent_id"] is None


async def test_dissolving_an_agency_with_subordinates_needs_a_successor(
    api: Api, outbox_events: OutboxReader
) -> None:
    district = await api.agency(level="district")
    commune = await api.agency(parent_id=district["id"], level="commune")
    successor = await api.agency(level="province")
    body = {"agency_id": district["id"], "effective_date": "2025-07-01", "reference": DECREE}
    refused = await api.post("vanhanh", "/api/v1/reorganisations/dissolve", body)
    assert refused.status_code == 400
    await reorganise(api, "dissolve", body | {"successor_id": successor["id"]})
    assert (await agency(api, district["id"]))["status"] == "inactive"
    assert (await agency(api, commune["id"]))["parent_id"] == successor["id"]
    assert (await tree(api, district["id"], "2025-06-30"))[commune["id"]][2] == district["id"]
    [event] = await outbox_events(uuid.UUID(successor["id"]), "agency.reorganised")
    assert (event["kind"], event["successors"]) == ("dissolve", [successor["id"]])


async def test_dissolving_without_successor_announces_to_the_agency_itself(
    api: Api, outbox_events: OutboxReader
) -> None:
    a = await api.agency()
    await reorganise(api, "dissolve", {"agency_id": a["id"]})
    [event] = await outbox_events(uuid.UUID(a["id"]), "agency.reorganised")
    assert (event["predecessors"], event["successors"]) == ([a["id"]], [])


async def test_reorganisation_reusing_a_code_is_a_conflict(api: Api) -> None:
    old = await api.agency()
    await reorganise(api, "dissolve", {"agency_id": old["id"]})
    other = await api.agency()
    response = await api.post(
        "vanhanh",
        "/api/v1/reorganisations/split",
        {
            "agency_id": other["id"],
            "successors": [
                {"code": old["code"], "name": "Mã cũ", "short_name": "MC", "level": "d"},
                {"code": new_code(), "name": "Mã mới", "short_name": "MM", "level": "d"},
            ],
            "effective_date": "2025-08-01",
            "reference": DECREE,
        },
    )
    assert response.status_code == 409
    assert old["code"] in response.json()["detail"]
    assert (await agency(api, other["id"]))["status"] == "active"


async def test_one_code_for_two_new_agencies_is_a_conflict(api: Api) -> None:
    a = await api.agency()
    code = new_code()
    response = await api.post(
        "vanhanh",
        "/api/v1/reorganisations/split",
        {
            "agency_id": a["id"],
            "successors": [
                {"code": code, "name": "Một", "short_name": "M", "level": "d"},
                {"code": code, "name": "Hai", "short_name": "H", "level": "d"},
            ],
            "effective_date": "2025-08-01",
            "reference": DECREE,
        },
    )
    assert response.status_code == 409


async def test_effective_date_must_follow_the_latest_change(api: Api) -> None:
    a = await api.agency()
    await reorganise(api, "rename", {"agency_id": a["id"], "name": "Tên mới"})
    response = await api.post(
        "vanhanh",
        "/api/v1/reorganisations/rename",
        {
            "agency_id": a["id"],
            "name": "Tên cũ hơn",
            "effective_date": "2025-06-30",
            "reference": DECREE,
        },
    )
    assert response.status_code == 400
    assert (await agency(api, a["id"]))["name"] == "Tên mới"


async def test_lineage_follows_successions_recursively(api: Api) -> None:
    a = await api.agency()
    b = await api.agency()
    c = await api.agency()
    first = await reorganise(
        api,
        "merge",
        {"agency_ids": [a["id"], b["id"]], "successor_id": c["id"], "effective_date": "2024-01-01"},
    )
    d = await api.agency()
    second = await reorganise(
        api,
        "merge",
        {
            "agency_ids": [c["id"], d["id"]],
            "new_successor": {"code": new_code(), "name": "E", "short_name": "E", "level": "d"},
        },
    )
    [e] = second["successors"]
    lineage = (await api.get("vanthu", f"/api/v1/agencies/{e}/lineage")).json()
    steps = {(p["id"], p["successor_id"], p["depth"], p["kind"]) for p in lineage["predecessors"]}
    assert steps == {
        (c["id"], e, 1, "merge"),
        (d["id"], e, 1, "merge"),
        (a["id"], c["id"], 2, "merge"),
        (b["id"], c["id"], 2, "merge"),
    }
    assert set(lineage["agency_ids"]) == {e, a["id"], b["id"], c["id"], d["id"]}
    assert lineage["agency_ids"][0] == e
    assert first["effective_date"] == "2024-01-01"


async def test_memberships_in_a_merged_agency_end_on_the_effective_date(api: Api) -> None:
    a = await api.agency()
    successor = await api.agency()
    official = await api.person(uuid.UUID(a["id"]))
    await reorganise(api, "merge", {"agency_ids": [a["id"]], "successor_id": successor["id"]})
    response = await api.get("vanhanh", "/api/v1/memberships", agency_id=a["id"])
    [membership] = response.json()
    assert membership["person_id"] == official["id"]
    assert membership["valid_to"] == "2025-07-01"


async def test_only_operators_reorganise(api: Api) -> None:
    response = await api.post(
        "quantri",
        "/api/v1/reorganisations/dissolve",
        {"agency_id": str(uuid.uuid4()), "effective_date": "2025-07-01", "reference": DECREE},
    )
    assert response.status_code == 403


async def test_a_refused_reorganisation_changes_nothing(api: Api) -> None:
    a = await api.agency()
    b = await api.agency()
    response = await api.post(
        "vanhanh",
        "/api/v1/reorganisations/merge",
        {
            "agency_ids": [a["id"], b["id"]],
            "successor_id": str(uuid.uuid4()),
            "effective_date": "2025-07-01",
            "reference": DECREE,
        },
    )
    assert response.status_code == 400
    for agency_id in (a["id"], b["id"]):
        assert (await agency(api, agency_id))["status"] == "active"
        assert await api.audit(uuid.UUID(agency_id), agency_id, action="agency.merged") == []
