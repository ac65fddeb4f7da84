"""The push into the real Keycloak of the local stack: a generated province of 300 people in four
fresh agencies (the full 20,000 are pushed by bench/identity_sync, which takes minutes), the
realm's tokens, what a second push sends (nothing), drift found by a deep push, the changes of
an import, and the account-state consumer ending a disabled person's sessions.

Every account made here has a username prefix of its own; the module removes its accounts and
groups from the realm, and its rows from the database, when it ends."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest
from redis.asyncio import Redis
from sqlalchemy import delete, insert, select, update

from services.common.auth.principal import Membership, Role, principal_from_claims
from services.common.db import Database
from services.common.outbox import Event, EventConsumer, encode_event, stream_name
from services.identity.imports.apply import apply_agencies, apply_people
from services.identity.imports.parsing import parse_agencies, parse_people
from services.identity.jobs import reconcile_keycloak
from services.identity.keycloak_sync.accounts import ACCOUNT_STATE_TOPICS, account_state_handler
from services.identity.keycloak_sync.client import KeycloakGateway
from services.identity.keycloak_sync.desired import Scope, membership_value, split_name
from services.identity.keycloak_sync.reconcile import Drift, SyncReport, reconcile
from services.identity.keycloak_sync.tables import keycloak_account, person_platform_role
from services.identity.settings import load
from services.identity.tables import outbox, person, processed_event
from tests.identity.conftest import Api, new_code
from tests.identity.test_import_apply import (
    ACTOR,
    AGENCY_HEADER,
    PEOPLE_HEADER,
    agency_ids,
    csv_bytes,
    person_cells,
    purge,
)

PEOPLE = 300
PASSWORD = "Thu-nghiem-2026"
FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi")
MIDDLE = ("Văn", "Thị", "Đức", "Minh", "Thu")
GIVEN = ("An", "Bình", "Chi", "Dũng", "Hà", "Hùng", "Lan", "Mai", "Nam", "Yến", "Khánh")
ROLES = ("chuyên viên", "văn thư", "trưởng phòng, chuyên viên", "lãnh đạo")


class Province:
    """Four agencies, 300 people (five of them with a second position), one operator."""

    def __init__(self) -> None:
        self.prefix = f"kc{uuid.uuid4().hex[:6]}."
        self.codes = [new_code() for _ in range(4)]
        self.ids: dict[str, uuid.UUID] = {}
        self.rows: list[list[object]] = []
        for i in range(PEOPLE):
            username = self.username(i)
            name = f"{FAMILY[i % 8]} {MIDDLE[i % 5]} {GIVEN[i % 11]}"
            email = f"{username}@kc.test.qlvb.vn"
            code = self.codes[i % 4]
            self.rows.append([username, name, email, "", "Chuyên viên", code, "", "", ROLES[i % 4]])
            if i < 5:  # kiêm nhiệm: a second position in the next agency
                other = self.codes[(i + 1) % 4]
                self.rows.append(
                    [username, name, email, "", "Chuyên viên", other, "", "", "văn thư"]
                )

    def username(self, i: int) -> str:
        return f"{self.prefix}{i:03d}"

    @property
    def usernames(self) -> list[str]:
        return [self.username(i) for i in range(PEOPLE)]

    @property
    def scope(self) -> Scope:
        return Scope(username_prefix=self.prefix, agency_ids=frozenset(self.ids.values()))

    def agencies_csv(self) -> bytes:
        root, *children = self.codes
        rows = [[root, "Ủy ban nhân dân tỉnh Thử đồng bộ", "UBND", "tỉnh", "", "", "", ""]]
        rows += [
            [c, f"Sở Thử đồng bộ {n}", f"S{n}", "sở", root, "", "", ""]
            for n, c in enumerate(children)
        ]
        return csv_bytes([AGENCY_HEADER, *rows])

    def people_csv(self, rows: list[list[object]] | None = None) -> bytes:
        return csv_bytes([PEOPLE_HEADER, *(rows if rows is not None else self.rows)])


async def remove_from_realm(gateway: KeycloakGateway, prefix: str, groups: set[uuid.UUID]) -> None:
    accounts = await gateway.list_users(prefix)
    limit = asyncio.Semaphore(4)

    async def remove(account_id: str) -> None:
        async with limit:
            await gateway.delete_user(account_id)

    await asyncio.gather(*(remove(a.id) for a in accounts))
    for group in await gateway.list_groups():
        if any(str(g) in group.attributes.get("qlvb_agency_id", []) for g in groups):
            await gateway.delete_group(group.id)


@pytest.fixture(scope="module")
async def gateway() -> AsyncIterator[KeycloakGateway]:
    client = KeycloakGateway.from_settings(load())
    yield client
    await client.close()


@pytest.fixture(scope="module")
async def province(gateway: KeycloakGateway) -> AsyncIterator[Province]:
    db = Database.from_url(os.environ["QLVB_IDENTITY_DATABASE_URL"], pool_size=2)
    made = Province()
    try:
        agencies = await apply_agencies(db, parse_agencies(made.agencies_csv(), "a.csv"), ACTOR)
        people = await apply_people(db, parse_people(made.people_csv(), "p.csv"), ACTOR)
        assert agencies.applied, agencies.errors
        assert people.applied, people.errors
        made.ids = await agency_ids(db, made.codes)
        async with db.transaction(None) as conn:
            operator = (
                await conn.execute(
                    select(person.c.id).where(person.c.username == made.username(42))
                )
            ).scalar_one()
            await conn.execute(
                insert(person_platform_role).values(person_id=operator, role="platform-operator")
            )
        yield made
    finally:
        await remove_from_realm(gateway, made.prefix, set(made.ids.values()))
        await purge(db, made.codes, made.usernames)
        await db.dispose()


@pytest.fixture(scope="module")
async def first_push(province: Province, gateway: KeycloakGateway) -> SyncReport:
    db = Database.from_url(os.environ["QLVB_IDENTITY_DATABASE_URL"], pool_size=2)
    try:
        return await reconcile(db, gateway, scope=province.scope)
    finally:
        await db.dispose()


async def push(db: Database, gateway: KeycloakGateway, province: Province, **kw: Any) -> SyncReport:
    return await reconcile(db, gateway, scope=province.scope, **kw)


async def account_id(db: Database, username: str) -> str:
    async with db.transaction(None, read_only=True) as conn:
        found = (
            await conn.execute(select(person.c.keycloak_id).where(person.c.username == username))
        ).scalar_one()
    assert found is not None
    return str(found)


async def test_the_first_push_creates_accounts_groups_and_the_operator_role(
    first_push: SyncReport, province: Province, gateway: KeycloakGateway, identity_db: Database
) -> None:
    counts = first_push.counts
    assert (counts.users_created, counts.groups_created, counts.roles_granted) == (PEOPLE, 4, 1)
    assert counts.failed == 0
    # One POST per account (attributes and groups in it), per group, and the one role.
    assert first_push.admin_calls.get("POST") == PEOPLE + 4 + 1
    assert "PUT" not in first_push.admin_calls
    async with identity_db.transaction(None, read_only=True) as conn:
        linked = (
            await conn.execute(
                select(person.c.keycloak_id).where(person.c.username.in_(province.usernames))
            )
        ).scalars()
    assert None not in set(linked)
    account = await gateway.get_user(await account_id(identity_db, province.username(0)))
    assert account is not None
    root, first = province.ids[province.codes[0]], province.ids[province.codes[1]]
    assert (account.first_name, account.last_name) == ("An", "Nguyễn Văn")
    assert sorted(account.attributes["membership"]) == sorted(
        [
            membership_value(root, province.codes[0], ["specialist"]),
            membership_value(first, province.codes[1], ["clerk"]),
        ]
    )
    assert province.username(42) in await gateway.role_member_names("platform-operator")


async def test_each_agency_group_holds_the_people_working_there(
    first_push: SyncReport, province: Province, gateway: KeycloakGateway
) -> None:
    groups = {g.name: g for g in await gateway.list_groups()}

    members = await gateway.group_member_names(groups[province.codes[1]].id)

    # Every fourth person, and people 0 and 4 in a second position there.
    expected = {province.username(i) for i in (*range(1, PEOPLE, 4), 0, 4)}
    assert members == expected
    assert groups[province.codes[1]].attributes["qlvb_agency_name"] == ["Sở Thử đồng bộ 0"]


async def test_the_token_carries_the_memberships_the_principal_is_built_from(
    first_push: SyncReport,
    province: Province,
    gateway: KeycloakGateway,
    identity_db: Database,
    keycloak: Any,
) -> None:
    username = province.username(1)
    await gateway.admin.a_set_user_password(
        await account_id(identity_db, username), PASSWORD, temporary=False
    )

    tokens = await password_grant(keycloak.issuer, username)

    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    principal = principal_from_claims(claims)
    assert principal.username == username
    assert set(principal.memberships) == {
        Membership(province.ids[province.codes[1]], province.codes[1], frozenset({Role.CLERK})),
        Membership(province.ids[province.codes[2]], province.codes[2], frozenset({Role.CLERK})),
    }
    assert claims["name"] == "Bình Trần Thị"  # Keycloak's full-name mapper: first last
    assert principal.name == "Trần Thị Bình"  # as Vietnamese writes it: family name first


async def test_a_second_push_sends_nothing(
    first_push: SyncReport, province: Province, gateway: KeycloakGateway, identity_db: Database
) -> None:
    await push(identity_db, gateway, province, deep=True)  # what other tests left to put right

    quick = await push(identity_db, gateway, province)
    deep = await push(identity_db, gateway, province, deep=True)

    # Quick: the realm's id, its groups and the operators; no account read.
    assert quick.admin_calls == {"GET": 3}
    assert (quick.drift_count, quick.counts.accounts_trusted) == (0, PEOPLE)
    # Deep: every account read, in pages, and each agency group's members.
    assert set(deep.admin_calls) == {"GET"}
    assert (deep.drift_count, deep.counts.users_unchanged) == (0, PEOPLE)


async def test_a_deep_dry_run_reports_drift_made_in_keycloak_and_sends_nothing(
    first_push: SyncReport, province: Province, gateway: KeycloakGateway, identity_db: Database
) -> None:
    await push(identity_db, gateway, province, deep=True)
    username = province.username(7)
    user_id = await account_id(identity_db, username)
    stranger_group = {g.name: g for g in await gateway.list_groups()}[province.codes[0]]
    # Changed by hand in the admin console: a name, and a membership of another agency's group.
    await gateway.admin.a_update_user(user_id, {"username": username, "firstName": "Sửa tay"})
    await gateway.add_to_group(user_id, stranger_group.id)

    quick = await push(identity_db, gateway, province)
    preview = await push(identity_db, gateway, province, deep=True, dry_run=True)
    applied = await push(identity_db, gateway, province, deep=True)

    assert quick.drift == []  # a change made in Keycloak is for the deep push to find
    assert preview.writes == 0
    assert preview.drift == [Drift("user", username, ("firstName", "groups"))]
    assert applied.drift == preview.drift
    assert applied.admin_calls.get("PUT") == 1  # the account
    assert applied.admin_calls.get("DELETE") == 1  # out of the group
    account = await gateway.get_user(user_id)
    assert account is not None
    assert account.first_name == split_name(str(province.rows[7 + 5][1]))[0]


async def test_only_the_changes_of_an_import_are_sent(
    first_push: SyncReport, province: Province, gateway: KeycloakGateway, identity_db: Database
) -> None:
    await push(identity_db, gateway, province)
    parsed = parse_people(province.people_csv(), "p.csv").rows
    renamed = {province.username(i) for i in range(100, 110)}
    promoted = {province.username(i) for i in range(110, 120)}
    retitled = {province.username(i) for i in range(120, 130)}  # not in Keycloak: no request
    second = province.username(130)
    rows = []
    for row in parsed:
        if row.username in renamed:
            rows.append(person_cells(row, full_name=row.full_name + " Hai"))
        elif row.username in promoted:
            rows.append(person_cells(row, roles="phó lãnh đạo"))
        elif row.username in retitled:
            rows.append(person_cells(row, title="Chuyên viên chính"))
        else:
            rows.append(person_cells(row))
        if row.username == second:  # a new concurrent position: attribute and group
            rows.append(person_cells(row, agency_code=province.codes[3], roles="văn thư"))
    imported = await apply_people(
        identity_db, parse_people(province.people_csv(rows), "p.csv"), ACTOR
    )
    assert imported.updated == {"person": 20, "membership": 10}

    report = await push(identity_db, gateway, province)

    assert {d.key for d in report.drift} == renamed | promoted | {second}
    assert report.counts.users_updated == 21
    # One PUT per changed account, and one for the new group membership.
    assert report.admin_calls.get("PUT") == 22
    assert report.writes == 22


async def test_disabling_a_person_ends_their_keycloak_sessions(
    first_push: SyncReport,
    province: Province,
    gateway: KeycloakGateway,
    identity_db: Database,
    api: Api,
    keycloak: Any,
) -> None:
    await push(identity_db, gateway, province)
    username = province.username(3)
    user_id = await account_id(identity_db, username)
    await gateway.admin.a_set_user_password(user_id, PASSWORD, temporary=False)
    tokens = await password_grant(keycloak.issuer, username)
    assert await gateway.user_sessions(user_id)
    async with identity_db.transaction(None, read_only=True) as conn:
        person_id = (
            await conn.execute(select(person.c.id).where(person.c.username == username))
        ).scalar_one()
    root = province.ids[province.codes[0]]

    response = await api.post("vanhanh", f"/api/v1/people/{person_id}/disable", agency_id=str(root))
    assert response.status_code == 200, response.text
    handled = await deliver(identity_db, gateway, root, person_id)

    assert handled >= 1  # ours, and any other test run published meanwhile
    account = await gateway.get_user(user_id)
    assert account is not None
    assert not account.enabled
    assert account.attributes["membership"]  # a partial update keeps the attributes
    assert await gateway.user_sessions(user_id) == []
    async with httpx.AsyncClient(timeout=30) as client:
        refused = await client.post(
            f"{keycloak.issuer}/protocol/openid-connect/token",
            data={
                "grant_type": "refresh_token",
                "client_id": "qlvb-dev-cli",
                "refresh_token": tokens["refresh_token"],
            },
        )
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_grant"

    response = await api.post("vanhanh", f"/api/v1/people/{person_id}/enable", agency_id=str(root))
    assert response.status_code == 200, response.text
    assert await deliver(identity_db, gateway, root, person_id) >= 1
    account = await gateway.get_user(user_id)
    assert account is not None
    assert account.enabled
    assert (await password_grant(keycloak.issuer, username))["access_token"]


async def test_a_missed_disable_is_put_right_by_the_reconciliation(
    first_push: SyncReport, province: Province, gateway: KeycloakGateway, identity_db: Database
) -> None:
    await push(identity_db, gateway, province)
    username = province.username(5)
    async with identity_db.transaction(None) as conn:  # no event: as if it were lost
        await conn.execute(
            update(person).where(person.c.username == username).values(enabled=False)
        )

    disabled = await push(identity_db, gateway, province)
    async with identity_db.transaction(None) as conn:
        await conn.execute(update(person).where(person.c.username == username).values(enabled=True))
    enabled = await push(identity_db, gateway, province)

    assert disabled.drift == [Drift("user", username, ("enabled",))]
    assert (disabled.counts.users_disabled, disabled.counts.sessions_ended) == (1, 1)
    assert disabled.admin_calls.get("PUT") == 1
    assert disabled.admin_calls.get("POST") == 1  # the logout
    assert enabled.counts.users_enabled == 1
    assert enabled.writes == 1


async def test_an_account_unknown_to_the_database_is_reported_and_left_alone(
    first_push: SyncReport, province: Province, gateway: KeycloakGateway, identity_db: Database
) -> None:
    await push(identity_db, gateway, province)
    stranger = province.prefix + "nguoi-la"
    stranger_id = await gateway.create_user({"username": stranger, "enabled": True})
    try:
        report = await push(identity_db, gateway, province, deep=True)
    finally:
        await gateway.delete_user(str(stranger_id))

    assert report.drift == [Drift("user", stranger, ("unmanaged",))]
    assert report.counts.unmanaged_accounts == 1
    assert report.writes == 0


async def test_the_operator_role_follows_the_database(
    first_push: SyncReport, province: Province, gateway: KeycloakGateway, identity_db: Database
) -> None:
    await push(identity_db, gateway, province)
    username = province.username(8)
    async with identity_db.transaction(None) as conn:
        person_id = (
            await conn.execute(select(person.c.id).where(person.c.username == username))
        ).scalar_one()
        await conn.execute(
            insert(person_platform_role).values(person_id=person_id, role="platform-operator")
        )
    granted = await push(identity_db, gateway, province)
    holders = await gateway.role_member_names("platform-operator")
    async with identity_db.transaction(None) as conn:
        await conn.execute(
            delete(person_platform_role).where(person_platform_role.c.person_id == person_id)
        )
    revoked = await push(identity_db, gateway, province)

    assert username in holders
    assert (granted.counts.roles_granted, granted.admin_calls.get("POST")) == (1, 1)
    assert (revoked.counts.roles_revoked, revoked.admin_calls.get("DELETE")) == (1, 1)
    assert username not in await gateway.role_member_names("platform-operator")


async def test_an_account_deleted_in_keycloak_is_created_again_and_relinked(
    first_push: SyncReport, province: Province, gateway: KeycloakGateway, identity_db: Database
) -> None:
    await push(identity_db, gateway, province)
    username = province.username(9)
    old_id = await account_id(identity_db, username)
    await gateway.delete_user(old_id)

    quick = await push(identity_db, gateway, province)
    deep = await push(identity_db, gateway, province, deep=True)

    assert quick.writes == 0  # the quick push trusts what it last sent
    assert Drift("user", username, ("missing",)) in deep.drift
    assert deep.counts.users_created == 1
    new_id = await account_id(identity_db, username)
    assert new_id != old_id
    assert await gateway.get_user(new_id) is not None


async def test_a_reimported_realm_makes_the_quick_push_read_every_account(
    first_push: SyncReport, province: Province, gateway: KeycloakGateway, identity_db: Database
) -> None:
    await push(identity_db, gateway, province, deep=True)
    async with identity_db.transaction(None) as conn:  # as if pushed to the realm before
        await conn.execute(
            update(keycloak_account)
            .where(
                keycloak_account.c.person_id.in_(
                    select(person.c.id).where(person.c.username.in_(province.usernames))
                )
            )
            .values(realm_id="a-realm-since-deleted")
        )

    verified = await push(identity_db, gateway, province)
    trusted = await push(identity_db, gateway, province)

    assert (verified.counts.users_unchanged, verified.writes) == (PEOPLE, 0)
    assert (trusted.counts.accounts_trusted, trusted.admin_calls) == (PEOPLE, {"GET": 3})


# --- helpers ---------------------------------------------------------------------------------


async def password_grant(issuer: str, username: str) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.post(
            f"{issuer}/protocol/openid-connect/token",
            data={
                "grant_type": "password",
                "client_id": "qlvb-dev-cli",
                "username": username,
                "password": PASSWORD,
            },
        )
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


async def deliver(
    db: Database, gateway: KeycloakGateway, tenant: uuid.UUID, person_id: uuid.UUID
) -> int:
    """What the relay and `qlvb consume identity` do for the person's newest account event:
    it goes to its stream, and a consumer of its own group applies it."""
    async with db.transaction(tenant, read_only=True) as conn:
        row = (
            await conn.execute(
                select(outbox)
                .where(
                    outbox.c.topic.in_(ACCOUNT_STATE_TOPICS),
                    outbox.c.payload["person_id"].astext == str(person_id),
                )
                .order_by(outbox.c.occurred_at.desc())
                .limit(1)
            )
        ).one()
    event = Event(
        id=row.id,
        topic=row.topic,
        tenant_id=row.tenant_id,
        occurred_at=row.occurred_at or dt.datetime.now(dt.UTC),
        payload=row.payload,
        headers=row.headers or {},
    )
    redis = Redis.from_url(os.environ["QLVB_REDIS_URL"])
    group = f"test-accounts-{uuid.uuid4().hex[:8]}"
    try:
        # The group starts at the stream's end: earlier tests' events are not ours to apply.
        for topic in ACCOUNT_STATE_TOPICS:
            await redis.xgroup_create(stream_name(topic), group, id="$", mkstream=True)
        await redis.xadd(stream_name(event.topic), encode_event(event))
        consumer = EventConsumer(
            redis=redis,
            db=db,
            processed=processed_event,
            group=group,
            topics=ACCOUNT_STATE_TOPICS,
            handler=account_state_handler(gateway),
        )
        return await consumer.consume_once(block_ms=100)
    finally:
        for topic in ACCOUNT_STATE_TOPICS:
            await redis.xgroup_destroy(stream_name(topic), group)
        await redis.aclose()


async def test_the_periodic_job_runs_a_push_and_returns_its_counts(
    first_push: SyncReport, province: Province, identity_db: Database
) -> None:
    ctx = {"settings": load(), "db": identity_db}

    # A dry run: the job's scope is every agency of the test database, not ours only.
    result = await reconcile_keycloak(ctx, dry_run=True, username_prefix=province.prefix)

    assert result["people"] == PEOPLE
    assert set(result["admin_calls"]) == {"GET"}
