"""bench/identity_sync: the push of a province into Keycloak against python-keycloak's bare create
loop, and a push with nothing to change against the full one.

A province of `QLVB_BENCH_SYNC_PEOPLE` people (20,000 by default) in 200 agencies is imported
into the test database (`qlvb_test`, never the development one: a full push of the development
database is what `qlvb worker identity` does every quarter of an hour). Each side then gets a
realm of its own, imported from devstack/keycloak/qlvb-realm.json, so both start from an empty
realm and the cleanup is one realm deletion each:

- full push: `reconcile` of the province (read the realm, read the database, create 200 groups,
  one POST per account with its attributes and groups, store the Keycloak ids, log the run);
- bare loop: `KeycloakAdmin.a_create_user` for the same representations, no reading, no
  database, at the push's concurrency (its requests in flight at once), so the ratio is the
  push's own overhead, not a difference in parallelism; half of it runs before the push and
  half after;
- re-push without changes (reads only), then a push of 1,000 changes made by an import.

Both realms, the bench's agencies and people are removed at the end."""

from __future__ import annotations

import asyncio
import functools
import json
import os
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from keycloak import KeycloakAdmin
from sqlalchemy import delete, func, select, update

from bench.common import BenchError, Result, detail, report
from devstack.bootstrap_keycloak import REALM_FILE
from devstack.environment import TEST_DATABASE, service_environment, stack_values
from services.common.db import Database
from services.common.migrations import upgrade
from services.common.settings import load_settings
from services.identity.audit.service import Actor
from services.identity.imports.apply import apply_agencies, apply_people
from services.identity.imports.parsing import parse_agencies, parse_people
from services.identity.keycloak_sync.client import KeycloakGateway
from services.identity.keycloak_sync.desired import Scope, read_desired
from services.identity.keycloak_sync.reconcile import SyncReport, reconcile
from services.identity.keycloak_sync.tables import keycloak_account
from services.identity.settings import IdentitySettings
from services.identity.tables import (
    agency,
    agency_version,
    audit_event,
    department,
    membership,
    person,
)
from services.identity.tenancy import enter_tenant, today

NAME = "identity_sync"
PEOPLE = int(os.environ.get("QLVB_BENCH_SYNC_PEOPLE", "20000"))
AGENCIES = 200
CHANGES = 1_000
SYNC_TARGET = 1 / 1.2  # the push may take at most 1.2 times the bare loop
RESYNC_TARGET = 20.0  # a push without changes: under 5% of the full push
WARM_UP_USERS = 200
ACTOR = Actor(subject="bench", username="bench:identity_sync")

FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ")
MIDDLE = ("Văn", "Thị", "Hữu", "Đức", "Minh", "Ngọc", "Thu", "Quốc", "Xuân", "Thanh")
GIVEN = ("An", "Bình", "Chi", "Dũng", "Giang", "Hà", "Hùng", "Lan", "Long", "Mai", "Nam", "Yến")
ROLES = ("chuyên viên", "chuyên viên", "chuyên viên", "văn thư", "trưởng phòng", "lãnh đạo")


def settings() -> IdentitySettings:
    # The test database wins over anything exported in the shell (a development URL there
    # would put 20,000 people into the realm the development worker pushes).
    env = {**os.environ, **service_environment(TEST_DATABASE)}
    return load_settings(IdentitySettings, "identity", env)


# --------------------------------------------------------------------------- the province


class Province:
    def __init__(self, people: int, level1: str) -> None:
        rng = random.Random(20260101)
        self.prefix = f"bsync{uuid.uuid4().hex[:6]}."
        self.level1 = level1
        self.codes = [f"000.{i // 100:02d}.{i % 100:02d}.{self.level1}" for i in range(AGENCIES)]
        self.people: list[list[str]] = []
        for i in range(people):
            name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
            username = f"{self.prefix}{i:05d}"
            self.people.append(
                [username, name, f"{username}@bench.qlvb.vn", self.codes[i % AGENCIES],
                 rng.choice(ROLES)]
            )  # fmt: skip

    def agencies_csv(self) -> bytes:
        rows = ["code,name,short_name,level,parent_code"]
        for i, code in enumerate(self.codes):
            parent = "" if i == 0 else self.codes[0]
            rows.append(f"{code},Cơ quan thử tải {i:03d},CQ{i:03d},other,{parent}")
        return ("\r\n".join(rows) + "\r\n").encode()

    def people_csv(self, changed: Callable[[int, list[str]], list[str]] | None = None) -> bytes:
        rows = ["username,full_name,email,agency_code,roles"]
        for i, row in enumerate(self.people):
            cells = changed(i, row) if changed is not None else row
            rows.append(",".join(f'"{c}"' for c in cells))
        return ("\r\n".join(rows) + "\r\n").encode()


async def unused_level1(db: Database) -> str:
    """Level-1 letter X, which no test uses, and two digits no agency in the database has
    (test runs make agencies of their own codes): the run's 200 codes are its own."""
    async with db.transaction(None, read_only=True) as conn:
        used = set(
            (await conn.execute(select(func.right(agency.c.code102, 3)).distinct())).scalars()
        )
    free = [f"X{n:02d}" for n in range(100) if f"X{n:02d}" not in used]
    if not free:
        raise BenchError("every X level-1 code is taken in the test database")
    return random.SystemRandom().choice(free)


async def import_province(db: Database, province: Province) -> float:
    started = time.perf_counter()
    agencies = await apply_agencies(db, parse_agencies(province.agencies_csv(), "a.csv"), ACTOR)
    people = await apply_people(db, parse_people(province.people_csv(), "p.csv"), ACTOR)
    if not (agencies.applied and people.applied):
        raise BenchError(f"import failed: {agencies.errors[:3]} {people.errors[:3]}")
    return time.perf_counter() - started


async def purge(db: Database, province: Province) -> None:
    async with db.transaction(None) as conn:
        ids = list(
            (
                await conn.execute(select(agency.c.id).where(agency.c.code102.in_(province.codes)))
            ).scalars()
        )
        for tenant in ids:
            await enter_tenant(conn, tenant)
            for table in (membership, department, audit_event):
                await conn.execute(delete(table).where(table.c.tenant_id == tenant))
        mine = person.c.username.startswith(province.prefix, autoescape=True)
        await conn.execute(
            delete(keycloak_account).where(
                keycloak_account.c.person_id.in_(select(person.c.id).where(mine))
            )
        )
        await conn.execute(delete(person).where(mine))
        await conn.execute(update(agency).where(agency.c.id.in_(ids)).values(parent_id=None))
        await conn.execute(delete(agency_version).where(agency_version.c.agency_id.in_(ids)))
        await conn.execute(delete(agency).where(agency.c.id.in_(ids)))


# --------------------------------------------------------------------------- Keycloak


def master_admin(server_url: str) -> KeycloakAdmin:
    values = stack_values()
    return KeycloakAdmin(
        server_url=server_url,
        username=values["QLVB_KEYCLOAK_ADMIN"],
        password=values["QLVB_KEYCLOAK_ADMIN_PASSWORD"],
        realm_name="master",
        user_realm_name="master",
    )


async def fresh_realm(master: KeycloakAdmin, name: str) -> None:
    """The QLVB realm's configuration under another name, with nobody in it."""
    realms = {r["realm"] for r in await master.a_get_realms()}
    if name in realms:
        await master.a_delete_realm(name)
    payload: dict[str, Any] = json.loads(REALM_FILE.read_bytes())
    payload["realm"] = name
    await master.a_create_realm(payload, skip_exists=False)


def realm_admin(config: IdentitySettings, realm: str) -> KeycloakAdmin:
    return KeycloakAdmin(
        server_url=config.keycloak_server_url,
        realm_name=realm,
        client_id=config.client_id,
        client_secret_key=config.client_secret,
        timeout=60,
        pool_maxsize=config.keycloak_sync_concurrency * 2,
    )


async def bounded(calls: list[Callable[[], Awaitable[object]]], concurrency: int) -> None:
    limit = asyncio.Semaphore(concurrency)

    async def one(call: Callable[[], Awaitable[object]]) -> None:
        async with limit:
            await call()

    await asyncio.gather(*(one(c) for c in calls))


async def warm_up(kc: KeycloakAdmin, concurrency: int) -> None:
    """A few hundred throwaway accounts: the realm's caches and Keycloak's code paths warm,
    outside the timed part (the push reads its own prefix only and never sees them)."""
    await kc.connection.a_get_token()
    await bounded(
        [
            functools.partial(kc.a_create_user, {"username": f"warm.{i:04d}", "enabled": True})
            for i in range(WARM_UP_USERS)
        ],
        concurrency,
    )


async def bare_bodies(kc: KeycloakAdmin, db: Database, scope: Scope) -> list[dict[str, Any]]:
    """The representations the push sends for the province, with the groups they name."""
    desired = await read_desired(db, scope, today())
    paths: dict[uuid.UUID, str] = {}
    for group in desired.groups.values():
        if group.agency_id in {a for u in desired.users for a in u.agency_ids}:
            await kc.a_create_group({"name": group.name, "attributes": group.attributes()})
            paths[group.agency_id] = f"/{group.name}"
    return [
        {
            "username": u.username,
            "email": u.email,
            "emailVerified": True,
            "firstName": u.first_name,
            "lastName": u.last_name,
            "enabled": u.enabled,
            "attributes": {"membership": list(u.memberships)},
            "groups": sorted(paths[a] for a in u.agency_ids if a in paths),
        }
        for u in desired.users
    ]


async def bare_loop(kc: KeycloakAdmin, bodies: list[dict[str, Any]], concurrency: int) -> float:
    """The accounts sent by python-keycloak's create call and nothing else."""
    started = time.perf_counter()
    await bounded([functools.partial(kc.a_create_user, b) for b in bodies], concurrency)
    return time.perf_counter() - started


# --------------------------------------------------------------------------- run


def describe(label: str, sync: SyncReport) -> None:
    counts = {k: v for k, v in msgspec.to_builtins(sync.counts).items() if v}
    detail(
        NAME,
        f"{label}: {sync.seconds:.2f} s {sync.phases}, admin requests {sync.admin_calls}, "
        f"drift {sync.drift_count}, {counts}",
    )


async def run() -> list[Result]:
    config = settings()
    db = Database.from_url(config.database_url, pool_size=4, application_name="qlvb-bench")
    master = master_admin(config.keycloak_server_url)
    province = Province(PEOPLE, await unused_level1(db))
    realm_sync, realm_bare = (
        f"qlvb-bench-sync-{province.level1}",
        f"qlvb-bench-bare-{province.level1}",
    )
    concurrency = config.keycloak_sync_concurrency
    gateway: KeycloakGateway | None = None
    bare: KeycloakAdmin | None = None
    try:
        imported = await import_province(db, province)
        detail(NAME, f"imported {PEOPLE:,} people in {AGENCIES} agencies in {imported:.1f} s")
        await fresh_realm(master, realm_bare)
        await fresh_realm(master, realm_sync)
        bare = realm_admin(config, realm_bare)
        await warm_up(bare, concurrency)
        gateway = KeycloakGateway(
            realm_admin(config, realm_sync),
            realm=realm_sync,
            page_size=config.keycloak_sync_page_size,
            concurrency=concurrency,
        )
        await warm_up(gateway.admin, concurrency)
        async with db.transaction(None, read_only=True) as conn:
            ids = (
                await conn.execute(select(agency.c.id).where(agency.c.code102.in_(province.codes)))
            ).scalars()
            # The bench's agencies only: the test database holds the agencies of every test run.
            scope = Scope(username_prefix=province.prefix, agency_ids=frozenset(ids))

        # The bare loop's halves run before and after the push: a machine whose speed drifts
        # over the minutes (other work, Keycloak's JIT) then favours neither side.
        bodies = await bare_bodies(bare, db, scope)
        half = len(bodies) // 2
        bare_seconds = await bare_loop(bare, bodies[:half], concurrency)
        full = await reconcile(db, gateway, scope=scope)
        bare_seconds += await bare_loop(bare, bodies[half:], concurrency)
        created = len(bodies)
        if full.counts.users_created != PEOPLE or full.counts.failed:
            raise BenchError(f"the push created {full.counts.users_created}: {full.errors[:3]}")
        again = await reconcile(db, gateway, scope=scope)
        deep = await reconcile(db, gateway, scope=scope, deep=True)
        for run_ in (again, deep):
            if run_.writes or run_.drift_count:
                raise BenchError(f"a push without changes sent {run_.admin_calls}")

        step = max(1, PEOPLE // CHANGES)

        def change(i: int, row: list[str]) -> list[str]:
            if i % step != 0 or i // step >= CHANGES:
                return row
            if (i // step) % 2:
                return [row[0], row[1] + " Mới", *row[2:]]
            return [*row[:4], "phó lãnh đạo"]

        changed = await apply_people(db, parse_people(province.people_csv(change), "p.csv"), ACTOR)
        changes = await reconcile(db, gateway, scope=scope)
        if changes.writes != changed.changes:
            raise BenchError(f"{changed.changes} changes were sent as {changes.admin_calls}")
    finally:
        if gateway is not None:
            await gateway.close()
        if bare is not None:
            await bare.connection.aclose()
        for realm in (realm_bare, realm_sync):
            try:
                started = time.perf_counter()
                await master.a_delete_realm(realm)
                detail(NAME, f"realm {realm} deleted in {time.perf_counter() - started:.1f} s")
            except Exception as exc:  # the realm may not exist yet; report, go on cleaning
                detail(NAME, f"realm {realm} not deleted: {exc}")
        await purge(db, province)
        await db.dispose()
        await master.connection.aclose()

    detail(
        NAME,
        f"bare loop: {created:,} accounts in {bare_seconds:.1f} s "
        f"({created / bare_seconds:.0f}/s), {concurrency} requests in flight",
    )
    describe("full push", full)
    describe("push without changes (quick)", again)
    describe("push without changes (deep: every account read)", deep)
    detail(NAME, f"import of {CHANGES:,} changes: updated {changed.updated}")
    describe(f"push of {CHANGES:,} changes", changes)
    detail(
        NAME,
        f"push/bare time ratio {full.seconds / bare_seconds:.3f} (target <= 1.2); "
        f"push without changes / full push {again.seconds / full.seconds:.1%} (target < 5%), "
        f"deep {deep.seconds / full.seconds:.1%}; "
        f"{CHANGES:,} changes sent as {changes.writes:,} writes",
    )
    results = [
        Result(NAME, PEOPLE / full.seconds, created / bare_seconds, "accounts/s", SYNC_TARGET),
        Result(
            f"{NAME}.resync", 3600 / again.seconds, 3600 / full.seconds, "runs/hour", RESYNC_TARGET
        ),
    ]
    for result in results:
        report(result)
    return results


def main() -> None:
    # Alembic runs its own event loop: the schema is brought up to date before ours starts.
    upgrade("identity", settings().migration_database_url)
    asyncio.run(run())


if __name__ == "__main__":
    main()
