"""Delegation (ủy quyền) in the daily workflow: a deputy acting for the leader under a
delegation in force may do the leader's work, and every step records both people."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.docs.conftest import Docs, person_id
from tests.docs.test_incoming_workflow import paper


async def revoke_delegations_of(docs: Docs, delegator: str) -> None:
    assert docs.identity is not None
    headers = docs.as_(delegator)
    for earlier in (await docs.identity.get("/api/v1/delegations/active", headers=headers)).json():
        if earlier["delegator_username"] == delegator:
            await docs.identity.post(f"/api/v1/delegations/{earlier['id']}/revoke", headers=headers)


@pytest.fixture
async def delegated(docs: Docs) -> AsyncIterator[dict[str, Any]]:
    """The chairman lets the vice-chairman act for him for an hour."""
    assert docs.identity is not None
    await revoke_delegations_of(docs, "chutich")
    now = dt.datetime.now(dt.UTC)
    created = await docs.identity.post(
        "/api/v1/delegations",
        headers=docs.as_("chutich"),
        json={
            "delegate_id": str(await person_id("phochutich")),
            "starts_at": (now - dt.timedelta(minutes=1)).isoformat(),
            "ends_at": (now + dt.timedelta(hours=1)).isoformat(),
            "scope": "Điều hành công việc khi Chủ tịch đi công tác",
        },
    )
    assert created.status_code == 201, created.text
    assert "leader" in created.json()["delegator_roles"]
    yield created.json()
    await revoke_delegations_of(docs, "chutich")


async def test_a_delegate_does_the_leaders_work_and_both_are_recorded(
    docs: Docs, delegated: dict[str, Any]
) -> None:
    acting = {**docs.as_("phochutich"), "X-Acting-For": delegated["delegator_id"]}
    registered = await docs.call(
        "POST", "/api/v1/incoming", "vanthu", json=paper("Về việc phòng chống thiên tai")
    )
    assert registered.status_code == 201, registered.text
    document_id = registered.json()["id"]

    # The chairman assigned it himself before leaving; the head of department asks for time.
    assigned = await docs.call(
        "POST",
        f"/api/v1/incoming/{document_id}/assignments",
        "chutich",
        json={"assignments": [{"assignee": "truongphong", "role": "lead"}]},
    )
    assert assigned.status_code == 200, assigned.text
    lead = assigned.json()["assignments"][0]
    later = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    asked = await docs.call(
        "POST",
        f"/api/v1/assignments/{lead['id']}/extension",
        "truongphong",
        json={"deadline": later, "reason": "Chờ số liệu của các huyện"},
    )
    assert asked.status_code == 200, asked.text

    # Only the assigner decides an extension: the vice-chairman on his own may not...
    approve = f"/api/v1/assignments/{lead['id']}/extension/approve"
    alone = await docs.call("POST", approve, "phochutich")
    assert alone.status_code == 403, alone.text
    # ...but acting for the chairman under the delegation, he does the chairman's work.
    approved = await docs.client.post(approve, headers=acting)
    assert approved.status_code == 200, approved.text
    lead_now = next(a for a in approved.json()["assignments"] if a["id"] == lead["id"])
    assert lead_now["deadline"] == later

    history = approved.json()["history"]
    decided = history[-1]
    assert decided["action"].startswith("incoming.extension"), decided
    assert decided["acting_for"] == "chutich"
    assert decided["actor_name"] != "chutich"
    # Steps taken without the header record one person only.
    for step in history[:-1]:
        assert step["acting_for"] is None, step


async def test_acting_without_a_delegation_in_force_is_refused(docs: Docs) -> None:
    await revoke_delegations_of(docs, "chutich")
    registered = await docs.call(
        "POST", "/api/v1/incoming", "vanthu", json=paper("Về việc kiểm tra công vụ")
    )
    document_id = registered.json()["id"]
    leader = str(await person_id("chutich"))
    attempt = await docs.client.post(
        f"/api/v1/incoming/{document_id}/assignments",
        headers={**docs.as_("phochutich"), "X-Acting-For": leader},
        json={"assignments": [{"assignee": "truongphong", "role": "lead"}]},
    )
    assert attempt.status_code == 403, attempt.text
    assert "ủy quyền" in attempt.json()["detail"]
    garbled = await docs.client.post(
        f"/api/v1/incoming/{document_id}/assignments",
        headers={**docs.as_("phochutich"), "X-Acting-For": "chutich"},
        json={"assignments": [{"assignee": "truongphong", "role": "lead"}]},
    )
    assert garbled.status_code == 400, garbled.text
    # Nothing was assigned by either attempt.
    card = (await docs.call("GET", f"/api/v1/incoming/{document_id}", "vanthu")).json()
    assert card["assignments"] == []


async def test_a_delegate_may_not_act_for_someone_else(
    docs: Docs, delegated: dict[str, Any]
) -> None:
    # The delegation is the vice-chairman's; the specialist cannot use it.
    attempt = await docs.client.get(
        "/api/v1/incoming",
        headers={**docs.as_("chuyenvien"), "X-Acting-For": delegated["delegator_id"]},
    )
    assert attempt.status_code == 403, attempt.text
