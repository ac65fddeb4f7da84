"""The reconciliation: make the realm hold what the identity database says, sending only what
differs, and report what differed (drift) and what was sent.

A run compares, for each person, the account Keycloak holds with the one it should hold, and
sends one request per difference: a new account is one POST (attributes and groups included), a
changed account one PUT, a group membership or the operator role one request each. A run with
nothing to change sends nothing. Two depths:

- **deep** reads the whole realm in bulk (paged account listing, the groups, each agency
  group's members, the holders of the operator role) and so finds any drift, whoever caused it:
  a change made by hand in the admin console, an account deleted, an account QLVB does not know
  (reported as unmanaged and left alone).
- **quick** (the default) trusts what the push itself last sent: each account's state is kept as
  a fingerprint (table keycloak_account, written after every push and verification), and only
  people whose wanted state no longer matches it are read and compared, one by one or, when
  many changed, by the bulk listing. The groups, the operator role's holders and the realm's id
  (a re-imported realm has a new one, and every fingerprint of the old one is void) are still
  read in bulk every time. Listing 20,000 full accounts costs Keycloak about as much as a tenth
  of creating them; the periodic job therefore runs quick often and deep nightly.

Race with the account-state consumer (accounts.py): an account's `enabled` is only sent when it
changes, and is compared with the database as read *after* the account, so a person disabled
while the run goes on is never re-enabled from a stale read. Accounts are matched to people by
username; the Keycloak id is then stored on the person (it changes when the realm is
re-imported). Service accounts are never listed nor touched."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dt
import functools
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Literal, TypeVar

import msgspec
from sqlalchemy import bindparam, delete, insert, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.common.auth.principal import PLATFORM_OPERATOR
from services.common.db import Database
from services.common.problems import Conflict
from services.identity.keycloak_sync.client import (
    KeycloakGateway,
    KeycloakGroup,
    KeycloakRefusal,
    KeycloakUser,
)
from services.identity.keycloak_sync.desired import (
    AGENCY_ID_ATTRIBUTE,
    MEMBERSHIP_ATTRIBUTE,
    DesiredGroup,
    DesiredUser,
    Scope,
    enabled_flags,
    membership_key,
    read_desired,
)
from services.identity.keycloak_sync.tables import keycloak_account, keycloak_sync_run
from services.identity.tables import person
from services.identity.tenancy import today as vietnam_today

logger = logging.getLogger("qlvb.identity.keycloak_sync")

# A report lists at most this many drift entries and errors (all are counted).
MAX_REPORTED = 1_000
# A quick run reads the accounts of changed people one by one (two requests each) up to this
# share of the people in scope; beyond it, the bulk listing is cheaper.
_ONE_BY_ONE_SHARE = 0.05

Job = Callable[[], Awaitable[object]]
T = TypeVar("T")


class Drift(msgspec.Struct, frozen=True):
    kind: Literal["user", "group"]
    # The username, or the agency code that names the group.
    key: str
    # What differed: "missing", "unmanaged", a field ("email", "firstName", "lastName",
    # "enabled", "emailVerified", "membership", "name", "qlvb_agency_name", ...), "groups",
    # "platform-operator".
    fields: tuple[str, ...]


class SyncError(msgspec.Struct, frozen=True):
    key: str
    operation: str
    status: int
    message: str


class SyncCounts(msgspec.Struct, kw_only=True):
    people: int = 0
    # Accounts read: listed in bulk (deep) or one by one (quick).
    accounts_read: int = 0
    # People a quick run did not read: their account was left as they still are.
    accounts_trusted: int = 0
    users_created: int = 0
    users_updated: int = 0
    users_disabled: int = 0
    users_enabled: int = 0
    sessions_ended: int = 0
    users_linked: int = 0
    users_unchanged: int = 0
    groups_created: int = 0
    groups_updated: int = 0
    group_members_added: int = 0
    group_members_removed: int = 0
    roles_granted: int = 0
    roles_revoked: int = 0
    unmanaged_accounts: int = 0
    failed: int = 0


class SyncReport(msgspec.Struct, kw_only=True):
    run_id: uuid.UUID
    dry_run: bool
    deep: bool
    scope: Scope
    counts: SyncCounts
    drift: list[Drift]
    drift_count: int
    errors: list[SyncError]
    # Admin API requests this run sent, by HTTP method (GET are the reads).
    admin_calls: dict[str, int]
    seconds: float
    # Seconds spent reading the realm and the database, and sending the changes.
    phases: dict[str, float] = {}

    @property
    def writes(self) -> int:
        return sum(n for method, n in self.admin_calls.items() if method != "GET")


class _Run:
    """The mutable state of one run: counts, drift, errors, what to store afterwards."""

    def __init__(self, dry_run: bool) -> None:
        self.dry_run = dry_run
        self.counts = SyncCounts()
        self.drift: list[Drift] = []
        self.drift_count = 0
        self.errors: list[SyncError] = []
        self.links: dict[uuid.UUID, uuid.UUID] = {}  # person id -> Keycloak id
        self.in_sync: list[DesiredUser] = []  # fingerprints to store
        self.out_of_sync: list[uuid.UUID] = []  # fingerprints to forget (a request failed)

    def differs(self, kind: Literal["user", "group"], key: str, fields: list[str]) -> None:
        self.drift_count += 1
        if len(self.drift) < MAX_REPORTED:
            self.drift.append(Drift(kind, key, tuple(fields)))

    def failed(self, key: str, operation: str, refusal: KeycloakRefusal) -> None:
        self.counts.failed += 1
        if len(self.errors) < MAX_REPORTED:
            self.errors.append(SyncError(key, operation, refusal.status, refusal.message))


async def _run_all(jobs: list[Job], concurrency: int) -> None:
    """Runs the jobs with at most `concurrency` in flight."""
    queue = collections.deque(jobs)

    async def worker() -> None:
        while queue:
            await queue.popleft()()

    await asyncio.gather(*(worker() for _ in range(max(1, min(concurrency, len(jobs))))))


async def _gather_bounded(calls: list[Awaitable[T]], concurrency: int) -> list[T]:
    limit = asyncio.Semaphore(concurrency)

    async def one(call: Awaitable[T]) -> T:
        async with limit:
            return await call

    return list(await asyncio.gather(*(one(c) for c in calls)))


@asynccontextmanager
async def _exclusive(db: Database, scope: Scope, wait_seconds: float) -> AsyncIterator[None]:
    """One pushing run per scope at a time (two would both create the same missing accounts).
    A session lock on a connection held for the run; the engine's autocommit keeps it outside
    any transaction. Runs of different username prefixes (tests, benchmarks) do not wait for
    each other."""
    key = f"identity.keycloak-sync:{scope.username_prefix}"
    deadline = time.monotonic() + wait_seconds
    async with db.engine.connect() as conn:
        lock = text("SELECT pg_try_advisory_lock(hashtext(:key))")
        while not (await conn.execute(lock, {"key": key})).scalar_one():
            if time.monotonic() >= deadline:
                raise Conflict(
                    "Một lượt đồng bộ Keycloak khác đang chạy.",
                    "Another Keycloak push is running.",
                )
            await asyncio.sleep(0.5)
        try:
            yield
        finally:
            await conn.execute(text("SELECT pg_advisory_unlock(hashtext(:key))"), {"key": key})


def _group_agency(group: KeycloakGroup) -> uuid.UUID | None:
    values = group.attributes.get(AGENCY_ID_ATTRIBUTE) or []
    try:
        return uuid.UUID(values[0]) if values else None
    except ValueError:
        return None


def _user_fields(want: DesiredUser, have: KeycloakUser) -> list[str]:
    fields = []
    if have.email != want.email:
        fields.append("email")
    if have.first_name != want.first_name:
        fields.append("firstName")
    if have.last_name != want.last_name:
        fields.append("lastName")
    if have.enabled != want.enabled:
        fields.append("enabled")
    if not have.email_verified:
        fields.append("emailVerified")
    held = have.attributes.get(MEMBERSHIP_ATTRIBUTE, [])
    if sorted(map(membership_key, held), key=repr) != sorted(
        map(membership_key, want.memberships), key=repr
    ):
        fields.append("membership")
    return fields


def _new_user(want: DesiredUser, group_paths: list[str]) -> dict[str, object]:
    representation: dict[str, object] = {
        "username": want.username,
        "email": want.email,
        # The province vouches for its officials' addresses; Keycloak sends no verification.
        "emailVerified": True,
        "firstName": want.first_name,
        "lastName": want.last_name,
        "enabled": want.enabled,
        "attributes": {MEMBERSHIP_ATTRIBUTE: list(want.memberships)},
    }
    if group_paths:
        representation["groups"] = group_paths
    return representation


def _changed_user(want: DesiredUser, have: KeycloakUser) -> dict[str, object]:
    """The full representation a PUT needs. Keycloak replaces the whole attribute map when one
    is sent, so the account's other attributes (its locale) are sent back as they are; and
    `enabled` only goes out when it changes (see the module's docstring)."""
    representation = _new_user(want, [])
    representation["attributes"] = have.attributes | {MEMBERSHIP_ATTRIBUTE: list(want.memberships)}
    if have.enabled == want.enabled:
        del representation["enabled"]
    return representation


class _Reconciler:
    def __init__(self, gateway: KeycloakGateway, scope: Scope, run: _Run) -> None:
        self.gateway = gateway
        self.scope = scope
        self.run = run
        self.dry_run = run.dry_run
        self.realm_id = ""
        self.accounts: dict[str, KeycloakUser] = {}
        self.operators: set[str] = set()
        self.groups: list[KeycloakGroup] = []
        self.managed_groups: dict[uuid.UUID, KeycloakGroup] = {}
        # Group of each agency in scope (existing or created by this run), and its members
        # (whole groups when listed in bulk; the accounts read one by one otherwise).
        self.group_ids: dict[uuid.UUID, str] = {}
        self.group_paths: dict[uuid.UUID, str] = {}
        self.members: dict[uuid.UUID, set[str]] = {}

    async def read_realm(self) -> None:
        """What every run reads in bulk: the realm's id, its groups, the operators."""
        self.realm_id, self.groups, operators = await asyncio.gather(
            self.gateway.realm_id(),
            self.gateway.list_groups(),
            self.gateway.role_member_names(PLATFORM_OPERATOR),
        )
        self.operators = {name for name in operators if self.scope.covers_username(name)}
        self.managed_groups = {
            agency_id: g
            for g in self.groups
            if (agency_id := _group_agency(g)) is not None and self.scope.covers_agency(agency_id)
        }
        for agency_id, group in self.managed_groups.items():
            self.group_ids[agency_id] = group.id
            self.group_paths[agency_id] = group.path or f"/{group.name}"
            self.members[agency_id] = set()

    async def list_accounts(self) -> None:
        """Every account in scope and every agency group's members, in bulk."""
        accounts = await self.gateway.list_users(self.scope.username_prefix)
        self.accounts = {a.username: a for a in accounts}
        self.run.counts.accounts_read = len(accounts)
        managed = list(self.managed_groups.items())
        names = await _gather_bounded(
            [self.gateway.group_member_names(g.id) for _, g in managed], self.gateway.concurrency
        )
        for (agency_id, _), members in zip(managed, names, strict=True):
            self.members[agency_id] = {m for m in members if self.scope.covers_username(m)}

    async def read_accounts(self, users: list[DesiredUser]) -> None:
        """The accounts of these people and their groups, one by one."""
        by_group = {group_id: agency_id for agency_id, group_id in self.group_ids.items()}

        async def one(want: DesiredUser) -> None:
            account = None
            if want.keycloak_id is not None:
                account = await self.gateway.get_user(str(want.keycloak_id))
            if account is None or account.username != want.username:
                account = await self.gateway.find_user(want.username)
            if account is None:
                return
            self.accounts[want.username] = account
            for group_id in await self.gateway.user_group_ids(account.id):
                if group_id in by_group:
                    self.members[by_group[group_id]].add(want.username)

        await _gather_bounded([one(u) for u in users], self.gateway.concurrency)
        self.run.counts.accounts_read = len(self.accounts)

    async def groups_to_match(self, wanted: dict[uuid.UUID, DesiredGroup]) -> None:
        """Creates the missing agency groups and corrects the others, several at a time."""
        by_name = {g.name: g for g in self.groups if _group_agency(g) is None}
        jobs: list[Job] = []
        for agency_id, want in wanted.items():
            have = self.managed_groups.get(agency_id)
            if have is None and want.name in by_name:
                have = by_name[want.name]  # made by hand under the agency's code: adopt it
            if have is None:
                self.run.differs("group", want.name, ["missing"])
                self.run.counts.groups_created += 1
                self.group_paths[agency_id] = f"/{want.name}"
                self.members[agency_id] = set()
                if not self.dry_run:
                    jobs.append(functools.partial(self._create_group, agency_id, want))
                continue
            attributes = want.attributes()
            fields = [] if have.name == want.name else ["name"]
            fields += [n for n, v in attributes.items() if have.attributes.get(n) != v]
            self.group_ids.setdefault(agency_id, have.id)
            self.group_paths.setdefault(agency_id, f"/{want.name}")
            self.members.setdefault(agency_id, set())
            if not fields:
                continue
            self.run.differs("group", want.name, fields)
            self.run.counts.groups_updated += 1
            if not self.dry_run:
                representation = {"name": want.name, "attributes": have.attributes | attributes}
                jobs.append(
                    functools.partial(
                        self._attempt,
                        want.name,
                        "update-group",
                        self.gateway.update_group(have.id, representation),
                    )
                )
        await _run_all(jobs, self.gateway.concurrency)

    async def _create_group(self, agency_id: uuid.UUID, want: DesiredGroup) -> None:
        try:
            self.group_ids[agency_id] = await self.gateway.create_group(
                {"name": want.name, "attributes": want.attributes()}
            )
        except KeycloakRefusal as refusal:
            self.run.failed(want.name, "create-group", refusal)
            del self.group_paths[agency_id]

    def needs_reading(self, want: DesiredUser) -> bool:
        """For a quick run: whether the account may differ from what it should be. It may when
        the person changed since the push last left it (or it was left in another realm), when
        the operator role's holders say otherwise, or when one of its groups is missing."""
        return (
            want.synced_realm != self.realm_id
            or want.synced_fingerprint != want.fingerprint
            or want.operator != (want.username in self.operators)
            or any(a not in self.group_ids for a in want.agency_ids if self.scope.covers_agency(a))
        )

    def user_jobs(self, users: list[DesiredUser]) -> list[Job]:
        jobs: list[Job] = []
        for want in users:
            have = self.accounts.get(want.username)
            if have is None:
                jobs.append(functools.partial(self.create, want))
            else:
                jobs.append(functools.partial(self.update, want, have))
        return jobs

    def _wanted_groups(self, want: DesiredUser) -> set[uuid.UUID]:
        return {a for a in want.agency_ids if a in self.group_paths}

    def _settled(self, want: DesiredUser) -> None:
        """The account now holds what `want` says; its fingerprint may be kept, unless some
        of its agencies' groups are outside this run (or could not be made)."""
        if all(a in self.group_ids for a in want.agency_ids):
            self.run.in_sync.append(want)

    async def create(self, want: DesiredUser) -> None:
        run = self.run
        run.differs("user", want.username, ["missing"])
        run.counts.users_created += 1
        wanted = self._wanted_groups(want)
        run.counts.group_members_added += len(wanted)
        if want.operator:
            run.counts.roles_granted += 1
        if self.dry_run:
            return
        paths = sorted(self.group_paths[a] for a in wanted)
        try:
            user_id = await self.gateway.create_user(_new_user(want, paths))
        except KeycloakRefusal as refusal:
            run.failed(want.username, "create-user", refusal)
            run.out_of_sync.append(want.person_id)
            return
        run.links[want.person_id] = user_id
        if want.operator and not await self._attempt(
            want.username,
            "grant-role",
            self.gateway.grant_realm_role(str(user_id), PLATFORM_OPERATOR),
        ):
            run.out_of_sync.append(want.person_id)
            return
        self._settled(want)

    async def update(self, want: DesiredUser, have: KeycloakUser) -> None:
        run = self.run
        if want.keycloak_id is None or str(want.keycloak_id) != have.id:
            run.counts.users_linked += 1
            run.links[want.person_id] = uuid.UUID(have.id)
        fields = _user_fields(want, have)
        wanted = self._wanted_groups(want)
        held = {a for a, names in self.members.items() if want.username in names}
        to_add, to_remove = wanted - held, held - wanted
        operator_change = want.operator != (want.username in self.operators)
        drift = list(fields)
        if to_add or to_remove:
            drift.append("groups")
        if operator_change:
            drift.append("platform-operator")
        if not drift:
            run.counts.users_unchanged += 1
            self._settled(want)
            return
        run.differs("user", want.username, drift)
        if fields:
            run.counts.users_updated += 1
            if "enabled" in fields:
                if want.enabled:
                    run.counts.users_enabled += 1
                else:
                    run.counts.users_disabled += 1
                    run.counts.sessions_ended += 1
        run.counts.group_members_added += len(to_add)
        run.counts.group_members_removed += len(to_remove)
        if operator_change:
            if want.operator:
                run.counts.roles_granted += 1
            else:
                run.counts.roles_revoked += 1
        if self.dry_run:
            return
        if await self._send(want, have, fields, to_add, to_remove, operator_change):
            self._settled(want)
        else:
            run.out_of_sync.append(want.person_id)

    async def _send(
        self,
        want: DesiredUser,
        have: KeycloakUser,
        fields: list[str],
        to_add: set[uuid.UUID],
        to_remove: set[uuid.UUID],
        operator_change: bool,
    ) -> bool:
        key = want.username
        sent = True
        if fields:
            if not await self._attempt(
                key, "update-user", self.gateway.update_user(have.id, _changed_user(want, have))
            ):
                return False
            if "enabled" in fields and not want.enabled:
                sent &= await self._attempt(key, "logout", self.gateway.logout(have.id))
        for agency_id in sorted(to_add):
            group_id = self.group_ids[agency_id]
            sent &= await self._attempt(
                key, "join-group", self.gateway.add_to_group(have.id, group_id)
            )
        for agency_id in sorted(to_remove):
            group_id = self.group_ids[agency_id]
            sent &= await self._attempt(
                key, "leave-group", self.gateway.remove_from_group(have.id, group_id)
            )
        if operator_change:
            change = (
                self.gateway.grant_realm_role(have.id, PLATFORM_OPERATOR)
                if want.operator
                else self.gateway.revoke_realm_role(have.id, PLATFORM_OPERATOR)
            )
            sent &= await self._attempt(key, "platform-role", change)
        return sent

    async def _attempt(self, key: str, operation: str, call: Awaitable[None]) -> bool:
        try:
            await call
        except KeycloakRefusal as refusal:
            self.run.failed(key, operation, refusal)
            return False
        return True

    async def _leave(self, account: KeycloakUser, group_id: str) -> None:
        await self._attempt(
            account.username, "leave-group", self.gateway.remove_from_group(account.id, group_id)
        )

    def strangers(self, users: list[DesiredUser]) -> list[Job]:
        """Accounts the database does not know (a deep run's listing shows them): reported,
        and taken out of the agency groups (which list QLVB people only), never otherwise
        changed."""
        known = {u.username for u in users}
        jobs: list[Job] = []
        for username, account in self.accounts.items():
            if username in known:
                continue
            self.run.counts.unmanaged_accounts += 1
            self.run.differs("user", username, ["unmanaged"])
            for agency_id, names in self.members.items():
                if username in names and agency_id in self.group_ids:
                    self.run.counts.group_members_removed += 1
                    if not self.dry_run:
                        group = self.group_ids[agency_id]
                        jobs.append(functools.partial(self._leave, account, group))
        return jobs


async def _store(db: Database, run: _Run, realm_id: str) -> None:
    """The Keycloak ids of the accounts, and the fingerprints of those now in sync."""
    now = dt.datetime.now(dt.UTC)
    async with db.transaction(None) as conn:
        if run.links:
            # Another person may still hold an id Keycloak has since given anew (after a
            # realm re-import): ids that are moving are cleared first, so the unique key holds.
            await conn.execute(
                update(person)
                .where(person.c.keycloak_id.in_(list(run.links.values())))
                .values(keycloak_id=None)
            )
            await conn.execute(
                update(person)
                .where(person.c.id == bindparam("person"))
                .values(keycloak_id=bindparam("account")),
                [{"person": p, "account": a} for p, a in run.links.items()],
            )
        if run.out_of_sync:
            await conn.execute(
                delete(keycloak_account).where(keycloak_account.c.person_id.in_(run.out_of_sync))
            )
        changed = [
            u
            for u in run.in_sync
            if u.synced_realm != realm_id or u.synced_fingerprint != u.fingerprint
        ]
        if changed:
            statement = pg_insert(keycloak_account)
            await conn.execute(
                statement.on_conflict_do_update(
                    index_elements=[keycloak_account.c.person_id],
                    set_={
                        "realm_id": statement.excluded.realm_id,
                        "fingerprint": statement.excluded.fingerprint,
                        "synced_at": statement.excluded.synced_at,
                    },
                ),
                [
                    {
                        "person_id": u.person_id,
                        "realm_id": realm_id,
                        "fingerprint": u.fingerprint,
                        "synced_at": now,
                    }
                    for u in changed
                ],
            )


async def reconcile(
    db: Database,
    gateway: KeycloakGateway,
    *,
    scope: Scope | None = None,
    deep: bool = False,
    dry_run: bool = False,
    today: dt.date | None = None,
    wait_seconds: float = 0.0,
) -> SyncReport:
    """One run (see the module's docstring for `deep`). `dry_run` reads and compares only:
    the report says what would be sent. A run of the same scope already going on makes this
    one wait up to `wait_seconds`, then raise `Conflict`."""
    scope = scope or Scope()
    started_at = dt.datetime.now(dt.UTC)
    started = time.perf_counter()
    calls_before = collections.Counter(gateway.calls)
    run = _Run(dry_run)
    phases: dict[str, float] = {}

    def phase(name: str) -> None:
        phases[name] = round(time.perf_counter() - started - sum(phases.values()), 3)

    lock = contextlib.nullcontext() if dry_run else _exclusive(db, scope, wait_seconds)
    async with lock:
        reconciler = _Reconciler(gateway, scope, run)
        await reconciler.read_realm()
        if deep:
            await reconciler.list_accounts()
        phase("realm")
        desired = await read_desired(db, scope, today or vietnam_today())
        users = desired.users
        phase("database")
        if not deep:
            users = [u for u in users if reconciler.needs_reading(u)]
            if len(users) > _ONE_BY_ONE_SHARE * len(desired.users):
                await reconciler.list_accounts()
            else:
                await reconciler.read_accounts(users)
            if users:
                # `enabled` as it is now, read after the accounts (see the module docstring).
                now = await enabled_flags(db, [u.person_id for u in users])
                users = [
                    msgspec.structs.replace(u, enabled=now.get(u.person_id, u.enabled))
                    for u in users
                ]
            run.counts.accounts_trusted = len(desired.users) - len(users)
            phase("realm-changed")
        run.counts.people = len(desired.users)
        await reconciler.groups_to_match(desired.groups)
        jobs = reconciler.user_jobs(users)
        if deep:
            jobs += reconciler.strangers(desired.users)
        await _run_all(jobs, gateway.concurrency)
        if not dry_run:
            await _store(db, run, reconciler.realm_id)
        phase("changes")
    calls = collections.Counter(gateway.calls)
    calls.subtract(calls_before)
    report = SyncReport(
        run_id=uuid.uuid4(),
        dry_run=dry_run,
        deep=deep,
        scope=scope,
        counts=run.counts,
        drift=run.drift,
        drift_count=run.drift_count,
        errors=run.errors,
        admin_calls={method: n for method, n in sorted(calls.items()) if n},
        seconds=time.perf_counter() - started,
        phases=phases,
    )
    async with db.transaction(None) as conn:
        await conn.execute(
            insert(keycloak_sync_run).values(
                id=report.run_id,
                started_at=started_at,
                finished_at=dt.datetime.now(dt.UTC),
                dry_run=dry_run,
                deep=deep,
                scope=msgspec.to_builtins(scope),
                counts=msgspec.to_builtins(report.counts),
                drift=msgspec.to_builtins(report.drift),
                errors=msgspec.to_builtins(report.errors),
            )
        )
    logger.info(
        "keycloak_sync_finished",
        extra={
            "run_id": str(report.run_id),
            "deep": deep,
            "dry_run": dry_run,
            "drift": report.drift_count,
            "admin_calls": report.admin_calls,
            "seconds": round(report.seconds, 3),
            **msgspec.to_builtins(report.counts),
        },
    )
    return report
