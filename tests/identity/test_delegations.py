"""Delegation (ủy quyền): leaders delegate to people of their agency for a period, and what the
delegate does for them records both people.

The demo leaders are shared by every run, so each test uses its own far-future period (or the
present for at most a few minutes) and revokes what it made, even when it fails."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select, update

from services.common.db import Database
from services.identity.delegations.service import acting_for
from services.identity.tables import delegation, person
from tests.identity.conftest import PROVINCE, Api


async def person_id(db: Database, username: str) -> uuid.UUID:
    async with db.transaction(None, read_only=True) as conn:
        found = (
            await conn.execute(select(person.c.id).where(person.c.username == username))
        ).scalar_one()
    assert isinstance(found, uuid.UUID)
    return found


def far_future() -> dt.datetime:
    """A period start no other run is likely to pick: a random hour in a random distant year."""
    r = random.SystemRandom()
    return dt.datetime(r.randrange(2200, 9000), 1, 1, tzinfo=dt.UTC) + dt.timedelta(
        hours=r.randrange(24 * 300)
    )


class Delegations:
    def __init__(self, api: Api, db: Database) -> None:
        self.api = api
        self.db = db
        self.made: list[str] = []

    async def give(
        self, user: str, delegate: uuid.UUID | str, start: dt.datetime, hours: float, **extra: Any
    ) -> Any:
        response = await self.api.post(
            user,
            "/api/v1/delegations",
            {
                "delegate_id": str(delegate),
                "starts_at": start.isoformat(),
                "ends_at": (start + dt.timedelta(hours=hours)).isoformat(),
            }
            | extra,
        )
        if response.status_code == 201:
            self.made.append(response.json()["id"])
        return response

    async def revoke_all(self) -> None:
        if not self.made:
            return
        async with self.db.transaction(PROVINCE) as conn:
            await conn.execute(
                update(delegation)
                .where(delegation.c.id.in_(self.made), delegation.c.revoked_at.is_(None))
                .values(revoked_at=dt.datetime.now(dt.UTC))
            )


@pytest.fixture
async def delegations(api: Api, identity_db: Database) -> AsyncIterator[Delegations]:
    made = Delegations(api, identity_db)
    yield made
    await made.revoke_all()


async def test_delegating_to_oneself_is_refused(
    delegations: Delegations, identity_db: Database
) -> None:
    me = await person_id(identity_db, "chutich")
    response = await delegations.give("chutich", me, far_future(), 8)
    assert response.status_code == 400


async def test_delegation_must_end_after_it_starts(api: Api, delegations: Delegations) -> None:
    deputy = await api.person(PROVINCE, roles=["deputy_leader"])
    response = await delegations.give("chutich", deputy["id"], far_future(), 0)
    assert response.status_code == 400


async def test_overlapping_delegations_are_refused(api: Api, delegations: Delegations) -> None:
    first = await api.person(PROVINCE)
    second = await api.person(PROVINCE)
    start = far_future()
    made = await delegations.give("chutich", first["id"], start, 48, scope="Ký văn bản đi")
    assert made.status_code == 201, made.text
    overlapping = await delegations.give(
        "chutich", second["id"], start + dt.timedelta(hours=24), 48
    )
    assert overlapping.status_code == 409
    # Periods are half-open: the next one may start when the first ends.
    following = await delegations.give("chutich", second["id"], start + dt.timedelta(hours=48), 8)
    assert following.status_code == 201


async def test_a_revoked_delegation_no_longer_overlaps(api: Api, delegations: Delegations) -> None:
    deputy = await api.person(PROVINCE)
    start = far_future()
    made = await delegations.give("chutich", deputy["id"], start, 8)
    revoked = await api.post("chutich", f"/api/v1/delegations/{made.json()['id']}/revoke")
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    again = await delegations.give("chutich", deputy["id"], start, 8)
    assert again.status_code == 201


async def test_delegate_must_belong_to_the_agency(api: Api, delegations: Delegations) -> None:
    other = await api.agency()
    outsider = await api.person(uuid.UUID(other["id"]))
    response = await delegations.give("chutich", outsider["id"], far_future(), 8)
    assert response.status_code == 400


async def test_only_leaders_delegate(api: Api, delegations: Delegations) -> None:
    colleague = await api.person(PROVINCE)
    response = await delegations.give("vanthu", colleague["id"], far_future(), 8)
    assert response.status_code == 403


async def test_only_the_delegator_or_the_admin_revokes(api: Api, delegations: Delegations) -> None:
    deputy = await api.person(PROVINCE)
    made = await delegations.give("chutich", deputy["id"], far_future(), 8)
    path = f"/api/v1/delegations/{made.json()['id']}/revoke"
    assert (await api.post("vanthu", path)).status_code == 403
    assert (await api.post("quantri", path)).status_code == 200


async def test_delegation_is_audited(api: Api, delegations: Delegations) -> None:
    deputy = await api.person(PROVINCE)
    made = await delegations.give("chutich", deputy["id"], far_future(), 8, scope="Họp")
    records = (
        await api.get("quantri", "/api/v1/audit", entity="delegation", entity_id=made.json()["id"])
    ).json()["items"]
    assert [(r["action"], r["actor_username"]) for r in records] == [
        ("delegation.created", "chutich")
    ]
    assert records[0]["after"]["delegate_id"] == deputy["id"]
    assert records[0]["after"]["scope"] == "Họp"


async def test_acting_for_a_delegator_records_both_people(
    api: Api, delegations: Delegations, identity_db: Database
) -> None:
    deputy = await person_id(identity_db, "phochutich")
    admin = await person_id(identity_db, "quantri")
    now = dt.datetime.now(dt.UTC)
    made = await delegations.give("phochutich", admin, now - dt.timedelta(minutes=1), 0.25)
    assert made.status_code == 201, made.text

    active = (await api.get("quantri", "/api/v1/delegations/active")).json()
    assert made.json()["id"] in {d["id"] for d in active}
    given = (await api.get("phochutich", "/api/v1/delegations/active")).json()
    assert made.json()["id"] in {d["id"] for d in given}

    response = await api.post(
        "quantri",
        "/api/v1/departments",
        {"name": "Tổ công tác", "short_name": "TCT"},
        acting_for=deputy,
    )
    assert response.status_code == 201, response.text
    [record] = (
        await api.get(
            "quantri", "/api/v1/audit", entity="department", entity_id=response.json()["id"]
        )
    ).json()["items"]
    assert (record["actor_username"], record["actor_person_id"]) == ("quantri", str(admin))
    assert (record["acting_for_username"], record["acting_for_person_id"]) == (
        "phochutich",
        str(deputy),
    )


async def test_acting_for_without_a_delegation_is_forbidden(
    api: Api, identity_db: Database
) -> None:
    clerk = await person_id(identity_db, "vanthu")
    body = {"name": "Không được", "short_name": "KD"}
    response = await api.post("quantri", "/api/v1/departments", body, acting_for=clerk)
    assert response.status_code == 403
    malformed = await api.client.post(
        "/api/v1/departments",
        json=body,
        headers=api.headers("quantri") | {"X-Acting-For": "chutich"},
    )
    assert malformed.status_code == 400


async def test_acting_for_holds_only_within_the_period(
    api: Api, delegations: Delegations, identity_db: Database
) -> None:
    leader = await person_id(identity_db, "chutich")
    deputy = await api.person(PROVINCE)
    delegate = uuid.UUID(deputy["id"])
    start = far_future()
    made = await delegations.give("chutich", delegate, start, 8)
    assert made.status_code == 201
    async with identity_db.transaction(PROVINCE, read_only=True) as conn:
        during = await acting_for(conn, PROVINCE, delegate, leader, start + dt.timedelta(hours=1))
        before = await acting_for(conn, PROVINCE, delegate, leader, start - dt.timedelta(hours=1))
        at_end = await acting_for(conn, PROVINCE, delegate, leader, start + dt.timedelta(hours=8))
        reversed_ = await acting_for(
            conn, PROVINCE, leader, delegate, start + dt.timedelta(hours=1)
        )
    assert (during, before, at_end, reversed_) == (True, False, False, False)
    await api.post("chutich", f"/api/v1/delegations/{made.json()['id']}/revoke")
    async with identity_db.transaction(PROVINCE, read_only=True) as conn:
        revoked = await acting_for(conn, PROVINCE, delegate, leader, start + dt.timedelta(hours=1))
    assert revoked is False


async def test_naive_times_are_refused(api: Api, delegations: Delegations) -> None:
    deputy = await api.person(PROVINCE)
    response = await api.post(
        "chutich",
        "/api/v1/delegations",
        {
            "delegate_id": deputy["id"],
            "starts_at": "2300-01-01T08:00:00",
            "ends_at": "2300-01-01T17:00:00",
        },
    )
    assert response.status_code == 400
