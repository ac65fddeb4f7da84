"""What the realm should hold, read from the identity database (the source of truth): one account
per person, the `membership` attribute the token mappers turn into the `memberships` claim, one
group per active agency with its members, and the platform-operator realm role.

A membership counts when it is active, in force today (Vietnamese calendar) and its agency is
active; the periodic push therefore also carries memberships that start or end by date."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import msgspec
from sqlalchemy import Row, select

from services.common.auth.principal import PLATFORM_OPERATOR
from services.common.db import Database
from services.identity.keycloak_sync.tables import keycloak_account, person_platform_role
from services.identity.tables import agency, person
from services.identity.tenancy import enter_tenant

# The user attribute the realm's protocol mappers read (devstack/keycloak/qlvb-realm.json:
# mapper "memberships", multivalued, JSON), one JSON object per membership.
MEMBERSHIP_ATTRIBUTE = "membership"
# Group attributes that tie a group to its agency (names may be corrected, ids never change).
AGENCY_ID_ATTRIBUTE = "qlvb_agency_id"
AGENCY_NAME_ATTRIBUTE = "qlvb_agency_name"


class Scope(msgspec.Struct, frozen=True, kw_only=True):
    """The accounts and groups one push covers. The default is the whole realm; a username
    prefix (tests, benchmarks, a staged roll-out) and a set of agencies narrow it. Accounts and
    groups outside the scope are neither read for drift nor changed."""

    username_prefix: str = ""
    agency_ids: frozenset[uuid.UUID] | None = None

    def covers_username(self, username: str) -> bool:
        return username.startswith(self.username_prefix)

    def covers_agency(self, agency_id: uuid.UUID) -> bool:
        return self.agency_ids is None or agency_id in self.agency_ids


class DesiredGroup(msgspec.Struct, frozen=True, kw_only=True):
    agency_id: uuid.UUID
    # The agency code: unique and never reused, so it names the group for good.
    name: str
    agency_name: str

    def attributes(self) -> dict[str, list[str]]:
        return {
            AGENCY_ID_ATTRIBUTE: [str(self.agency_id)],
            AGENCY_NAME_ATTRIBUTE: [self.agency_name],
        }


class DesiredUser(msgspec.Struct, frozen=True, kw_only=True):
    person_id: uuid.UUID
    username: str
    email: str
    first_name: str
    last_name: str
    enabled: bool
    # The `membership` attribute values, canonical JSON, in agency code order.
    memberships: tuple[str, ...]
    # The agencies whose groups the account belongs to (its memberships in force).
    agency_ids: frozenset[uuid.UUID]
    operator: bool
    keycloak_id: uuid.UUID | None
    # What the push last left the account in (keycloak_account), if anything.
    synced_realm: str | None = None
    synced_fingerprint: str | None = None

    @property
    def fingerprint(self) -> str:
        """A digest of everything the push sends for this person: equal digests, nothing to
        send."""
        state = (
            self.username,
            self.email,
            self.first_name,
            self.last_name,
            self.enabled,
            self.memberships,
            sorted(str(a) for a in self.agency_ids),
            self.operator,
        )
        return hashlib.sha256(msgspec.json.encode(state)).hexdigest()


class DesiredState(msgspec.Struct, frozen=True, kw_only=True):
    users: list[DesiredUser]
    # The groups of the active agencies in scope, by agency id.
    groups: dict[uuid.UUID, DesiredGroup]


def split_name(full_name: str) -> tuple[str, str]:
    """(first name, last name) from a Vietnamese full name, written family name first: the
    given name is the last word ("Nguyễn Thị Lan" -> "Lan", "Nguyễn Thị"), as the demo accounts
    carry it and as Keycloak's "first name" means it."""
    words = full_name.split()
    if not words:
        return "", ""
    return words[-1], " ".join(words[:-1])


def membership_value(agency_id: uuid.UUID, agency_code: str, roles: Iterable[str]) -> str:
    """One membership as the token carries it; the same JSON as the demo accounts'
    (devstack/bootstrap_keycloak.py): keys in this order, no spaces, Vietnamese unescaped."""
    return json.dumps(
        {"agency_id": str(agency_id), "agency_code": agency_code, "roles": sorted(set(roles))},
        ensure_ascii=False,
        separators=(",", ":"),
    )


def membership_key(value: str) -> tuple[str, str, tuple[str, ...]] | None:
    """A membership value as data, for comparing what Keycloak holds with what it should (key
    order and spacing do not matter); None when the value is not a membership."""
    try:
        data = json.loads(value)
        return (
            str(uuid.UUID(str(data["agency_id"]))),
            str(data["agency_code"]),
            tuple(sorted({str(role) for role in data["roles"]})),
        )
    except (ValueError, KeyError, TypeError):
        return None


# Memberships are read by this many transactions at once (each agency's as that agency).
_READERS = 4
# The memberships in force of one agency (row-level security also checks the tenant), as
# tables.membership defines them; the roles as one string, split in Python.
_IN_FORCE = (
    "SELECT person_id, array_to_string(roles, ',') FROM identity.membership "
    "WHERE tenant_id = $1 AND active AND (valid_from IS NULL OR valid_from <= $2) "
    "AND (valid_to IS NULL OR valid_to > $2)"
)


async def _memberships(
    db: Database, agency_ids: list[uuid.UUID], today: dt.date, people: Sequence[Row[Any]]
) -> dict[uuid.UUID, list[tuple[uuid.UUID, list[str]]]]:
    """The memberships in force of these people, by person. Memberships are tenant rows: each
    agency's are read as that agency, one query each, by a few read-only transactions at once
    (a province's thousand agencies are a thousand round trips)."""
    wanted = {p.id for p in people}
    held: dict[uuid.UUID, list[tuple[uuid.UUID, list[str]]]] = {}

    async def read(share: list[uuid.UUID]) -> None:
        async with db.transaction(None, read_only=True) as conn:
            # A thousand small queries: the driver's prepared statement, without SQLAlchemy's
            # per-statement work, which would cost more than the queries themselves.
            driver: Any = (await conn.get_raw_connection()).driver_connection
            statement = await driver.prepare(_IN_FORCE)
            for agency_id in share:
                await enter_tenant(conn, agency_id)
                for person_id, roles in await statement.fetch(agency_id, today):
                    if person_id in wanted:
                        held.setdefault(person_id, []).append(
                            (agency_id, roles.split(",") if roles else [])
                        )

    await asyncio.gather(*(read(agency_ids[i::_READERS]) for i in range(_READERS)))
    return held


async def read_desired(db: Database, scope: Scope, today: dt.date) -> DesiredState:
    in_scope = person.c.username.startswith(scope.username_prefix, autoescape=True)
    async with db.transaction(None, read_only=True) as conn:
        agencies = (
            await conn.execute(
                select(agency.c.id, agency.c.code102, agency.c.name, agency.c.status).order_by(
                    agency.c.code102
                )
            )
        ).all()
        operator = (
            select(person_platform_role.c.person_id)
            .where(
                person_platform_role.c.person_id == person.c.id,
                person_platform_role.c.role == PLATFORM_OPERATOR,
            )
            .exists()
        )
        people = (
            await conn.execute(
                select(
                    person.c.id,
                    person.c.username,
                    person.c.full_name,
                    person.c.email,
                    person.c.enabled,
                    person.c.keycloak_id,
                    operator.label("operator"),
                    keycloak_account.c.realm_id,
                    keycloak_account.c.fingerprint,
                )
                .outerjoin(keycloak_account, keycloak_account.c.person_id == person.c.id)
                .where(in_scope)
                .order_by(person.c.username)
            )
        ).all()
    held = await _memberships(db, [a.id for a in agencies if a.status == "active"], today, people)
    codes = {a.id: a.code102 for a in agencies}
    users = []
    for p in people:
        mine = sorted(held.get(p.id, []), key=lambda m: codes[m[0]])
        first_name, last_name = split_name(p.full_name)
        users.append(
            DesiredUser(
                person_id=p.id,
                username=p.username,
                email=p.email,
                first_name=first_name,
                last_name=last_name,
                enabled=p.enabled,
                memberships=tuple(membership_value(a, codes[a], roles) for a, roles in mine),
                agency_ids=frozenset(a for a, _ in mine),
                operator=p.operator,
                keycloak_id=p.keycloak_id,
                synced_realm=p.realm_id,
                synced_fingerprint=p.fingerprint,
            )
        )
    groups = {
        a.id: DesiredGroup(agency_id=a.id, name=a.code102, agency_name=a.name)
        for a in agencies
        if a.status == "active" and scope.covers_agency(a.id)
    }
    return DesiredState(users=users, groups=groups)


async def enabled_flags(db: Database, person_ids: list[uuid.UUID]) -> dict[uuid.UUID, bool]:
    """The people's `enabled` as it is now (see reconcile.py: read after their accounts)."""
    async with db.transaction(None, read_only=True) as conn:
        rows = await conn.execute(
            select(person.c.id, person.c.enabled).where(person.c.id.in_(person_ids))
        )
        return {row.id: row.enabled for row in rows}
