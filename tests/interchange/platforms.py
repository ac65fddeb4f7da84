"""Instances of the platform for delivery tests: each one a province with its own database
(`qlvb_test` and `qlvb_test2`), its identity, storage, docs and interchange services in this
process, real Keycloak service tokens, and one simulated national axis between them.

Nothing here runs in the background. Events move when `Bus.pump` moves them (outbox rows of the
test's own agencies, read as each service's relay role, applied once through the processed-
event ledger exactly as the kernel's consumer does); jobs run when `settle` runs them (what the
scheduler finds due, plus what was kicked). Time is a `FakeClock` that `settle` moves forward,
so an hour of axis outage and its backoff take no real hour, and nothing asserts on wall time.
Redis streams and the saq queue of `make run` are never touched."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import os
import random
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
import msgspec
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from devstack.bootstrap_db import bootstrap_service_schemas, ensure_database
from devstack.environment import SERVICES, stack_values
from peers.axis_sim import System as SimSystem
from services.common.auth.principal import Membership, Principal, Role
from services.common.db import Database
from services.common.migrations import upgrade
from services.common.outbox import Event, publish
from services.docs.consumers import on_delivery
from services.docs.incoming.service import IncomingService, Member
from services.docs.tables import document, document_file
from services.docs.tables import outbox as docs_outbox
from services.docs.tables import processed_event as docs_processed
from services.identity.app import create_app as create_identity
from services.identity.tables import agency as agency_table
from services.interchange.connectors import service as connectors
from services.interchange.connectors.schemas import ConnectorRequest
from services.interchange.runtime import Interchange, build_context
from services.interchange.settings import InterchangeSettings
from services.interchange.settings import load as load_interchange
from services.interchange.tables import outbox as interchange_outbox
from services.interchange.tables import processed_event as interchange_processed
from services.storage.app import create_app as create_storage
from services.storage.settings import load as load_storage

SECOND_DATABASE = "qlvb_test2"
TEST_BUCKET = "qlvb-test-files"
TEST_LOCKED_BUCKET = "qlvb-test-issued"


def in_database(url: str, database: str) -> str:
    """The same role and server, another database."""
    base, _, _ = url.rpartition("/")
    return f"{base}/{database}"


def prepare_second_database() -> None:
    """Create `qlvb_test2` like devstack creates `qlvb_test` (as the PostgreSQL superuser,
    idempotent), then migrate every service into it. Synchronous: Alembic runs its own loop."""
    values = stack_values()
    server = (
        f"postgres://postgres:{values['QLVB_PG_SUPERPASSWORD']}@127.0.0.1:{values['QLVB_PG_PORT']}"
    )

    async def bootstrap() -> None:
        conn = await asyncpg.connect(server + "/postgres")
        try:
            await ensure_database(conn, SECOND_DATABASE)
        finally:
            await conn.close()
        await bootstrap_service_schemas(server, SECOND_DATABASE)

    asyncio.run(bootstrap())
    for service in SERVICES:
        url = os.environ[f"QLVB_{service.upper()}_MIGRATION_DATABASE_URL"]
        upgrade(service, in_database(url, SECOND_DATABASE))


def agency_code() -> str:
    """An unused QCVN 102 code in a range no real province uses (Y98)."""
    r = random.SystemRandom()
    return f"{r.randrange(1000):03d}.{r.randrange(100):02d}.{r.randrange(100):02d}.Y98"


def pdf(seed: str, size: int = 4000) -> bytes:
    head = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
    filler = hashlib.sha256(seed.encode()).digest() * (size // 32 + 1)
    return (head + filler)[:size]


class FakeClock:
    """Starts at the real time and only moves forward (by hand), so whatever runs on the real
    clock beside it (the command line) sees its own time as already due."""

    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, delta: dt.timedelta) -> None:
        self.now += delta


@dataclass
class InlineJobs:
    """Kicks are remembered; `settle` runs them."""

    sends: set[uuid.UUID] = field(default_factory=set)
    polls: set[uuid.UUID] = field(default_factory=set)

    async def send(self, tenant_id: uuid.UUID) -> None:
        self.sends.add(tenant_id)

    async def poll(self, tenant_id: uuid.UUID) -> None:
        self.polls.add(tenant_id)


class AnyoneWorksHere:
    """The docs service's directory: every username is a member (assignments need one)."""

    async def member(self, tenant_id: uuid.UUID, username: str) -> Member | None:
        return Member(username=username, name=username.title())


@dataclass(frozen=True)
class Tenant:
    id: uuid.UUID
    code: str
    name: str


def principal(tenant: Tenant, username: str = "vanthu") -> Principal:
    roles = frozenset({Role.CLERK, Role.LEADER, Role.SPECIALIST, Role.AGENCY_ADMIN})
    return Principal(
        subject=str(uuid.uuid5(uuid.NAMESPACE_URL, username)),
        username=username,
        name=username.title(),
        memberships=(Membership(agency_id=tenant.id, agency_code=tenant.code, roles=roles),),
        active_agency_id=tenant.id,
    )


@dataclass
class Instance:
    """One province: its databases, its in-process services, its agencies."""

    name: str
    database: str
    settings: InterchangeSettings
    clock: FakeClock
    jobs: InlineJobs
    runtime: Interchange
    identity_db: Database
    docs_db: Database
    docs: IncomingService
    interchange_relay: Database
    docs_relay: Database
    storage_http: httpx.AsyncClient
    closers: list[Callable[[], Awaitable[Any]]]
    tenants: list[Tenant] = field(default_factory=list)

    @property
    def ids(self) -> list[uuid.UUID]:
        return [tenant.id for tenant in self.tenants]

    async def add_agency(self, name: str) -> Tenant:
        tenant = Tenant(id=uuid.uuid4(), code=agency_code(), name=name)
        async with self.identity_db.transaction(None) as conn:
            await conn.execute(
                pg_insert(agency_table).values(
                    id=tenant.id,
                    code102=tenant.code,
                    name=name,
                    short_name=name[:20],
                    level="test",
                    address="Thành phố thử nghiệm",
                )
            )
        self.tenants.append(tenant)
        return tenant

    async def connect(
        self, tenant: Tenant, axis_url: str, system: SimSystem, **changes: Any
    ) -> None:
        body = ConnectorRequest(
            endpoint=axis_url,
            system_id=system.system_id,
            secret=system.secret,
            poll_seconds=changes.pop("poll_seconds", 10),
            timeout_seconds=changes.pop("timeout_seconds", 5.0),
            rate_per_minute=changes.pop("rate_per_minute", 10_000),
            **changes,
        )
        await connectors.upsert(self.runtime.ctx, tenant.id, body)

    async def upload(self, tenant: Tenant, name: str, content: bytes) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {await self._token()}", "X-Agency-Id": str(tenant.id)}
        response = await self.storage_http.post(
            "http://storage.test/api/v1/objects",
            params={"name": name},
            content=content,
            headers=headers,
        )
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    async def _token(self) -> str:
        tokens = self.runtime.ctx.storage._tokens  # the interchange's own service account
        return await tokens.token()

    async def issue(
        self,
        tenant: Tenant,
        recipients: Iterable[Tenant | str],
        *,
        number: int,
        files: list[dict[str, Any]] | None = None,
        **fields: Any,
    ) -> uuid.UUID:
        """What the docs service publishes when a clerk issues an outgoing document (issue 7):
        a `document.issued` row in the docs outbox of the sending agency."""
        outgoing_id = uuid.uuid4()
        payload = {
            "outgoing_id": str(outgoing_id),
            "business": "new",
            "target_id": None,
            "number_symbol": f"{number}/{fields.pop('notation', 'UBND-VP')}",
            "doc_type": "CV",
            "issued_on": (self.clock.now.date() - dt.timedelta(days=1)).isoformat(),
            "subject": f"V/v thử nghiệm liên thông văn bản số {number}",
            "signer": "Nguyễn Văn An",
            "authority": "KT.",
            "urgency": "normal",
            "reply_due_on": None,
            "recipients": [
                {"code": r.code, "name": r.name} if isinstance(r, Tenant) else {"code": r}
                for r in recipients
            ],
            "files": files or [],
            **fields,
        }
        async with self.docs_db.transaction(tenant.id) as conn:
            await publish(conn, docs_outbox, tenant.id, "document.issued", payload)
        return outgoing_id

    async def documents(self, tenant: Tenant) -> list[Any]:
        """What landed in the agency's docs service (electronic incoming documents)."""
        async with self.docs_db.transaction(tenant.id, read_only=True) as conn:
            rows = (
                await conn.execute(
                    select(document)
                    .where(document.c.source == "electronic")
                    .order_by(document.c.arrived_at, document.c.id)
                )
            ).all()
        return list(rows)

    async def document_files(self, tenant: Tenant, document_id: uuid.UUID) -> list[Any]:
        async with self.docs_db.transaction(tenant.id, read_only=True) as conn:
            rows = await conn.execute(
                select(document_file).where(document_file.c.document_id == document_id)
            )
            return list(rows.all())

    async def rows(self, tenant: Tenant, table: Any, *where: Any) -> list[Any]:
        async with self.runtime.ctx.db.transaction(tenant.id, read_only=True) as conn:
            query = select(table).where(*where)
            if "seq" in table.c:
                query = query.order_by(table.c.seq)
            return list((await conn.execute(query)).all())

    async def close(self) -> None:
        for close in reversed(self.closers):
            await close()


def _routing_http(identity_app: Any, storage_app: Any) -> httpx.AsyncClient:
    """One client for the service's calls inside the platform: identity and storage in this
    process, Keycloak over the network."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(30.0, connect=5.0),
        mounts={
            "http://identity.test": httpx.ASGITransport(app=identity_app),
            "http://storage.test": httpx.ASGITransport(app=storage_app),
        },
    )


async def open_instance(name: str, database: str, **settings_changes: Any) -> Instance:
    def moved(url: str) -> str:
        return in_database(url, database) if url else url

    base = load_interchange()
    settings = msgspec.structs.replace(
        base,
        database_url=moved(base.database_url),
        relay_database_url=moved(base.relay_database_url),
        migration_database_url=moved(base.migration_database_url),
        identity_url="http://identity.test",
        storage_url="http://storage.test",
        log_level="WARNING",
        **{
            "backoff_base_seconds": 30.0,
            "backoff_cap_seconds": 600.0,
            "agency_miss_seconds": 0.0,
            **settings_changes,
        },
    )
    os_identity = os.environ["QLVB_IDENTITY_DATABASE_URL"]
    from services.identity.settings import load as load_identity

    identity_settings = msgspec.structs.replace(
        load_identity(), database_url=moved(os_identity), log_level="WARNING"
    )
    storage_base = load_storage()
    storage_settings = msgspec.structs.replace(
        storage_base,
        database_url=moved(storage_base.database_url),
        relay_database_url=moved(storage_base.relay_database_url),
        bucket=TEST_BUCKET,
        locked_bucket=TEST_LOCKED_BUCKET,
        log_level="WARNING",
    )
    identity_app = create_identity(identity_settings)
    storage_app = create_storage(storage_settings)
    http = _routing_http(identity_app, storage_app)
    db = Database.from_url(settings.database_url, pool_size=8)
    platform_db = Database.from_url(settings.relay_database_url, pool_size=2)
    clock = FakeClock()
    jobs = InlineJobs()
    context = build_context(
        settings, db=db, http=http, platform_db=platform_db, jobs=jobs, clock=clock
    )
    docs_db = Database.from_url(moved(os.environ["QLVB_DOCS_DATABASE_URL"]), pool_size=4)
    identity_db = Database.from_url(moved(os_identity), pool_size=2)
    interchange_relay = Database.from_url(settings.relay_database_url, pool_size=2)
    docs_relay = Database.from_url(moved(os.environ["QLVB_DOCS_RELAY_DATABASE_URL"]), pool_size=2)
    closers: list[Callable[[], Awaitable[Any]]] = [
        identity_app.state["resources"].close,
        storage_app.state["resources"].close,
        http.aclose,
        context.axis_http.aclose,
        db.dispose,
        platform_db.dispose,
        docs_db.dispose,
        identity_db.dispose,
        interchange_relay.dispose,
        docs_relay.dispose,
    ]
    return Instance(
        name=name,
        database=database,
        settings=settings,
        clock=clock,
        jobs=jobs,
        runtime=Interchange(context),
        identity_db=identity_db,
        docs_db=docs_db,
        docs=IncomingService(docs_db, AnyoneWorksHere()),
        interchange_relay=interchange_relay,
        docs_relay=docs_relay,
        storage_http=http,
        closers=closers,
    )


# ---------------------------------------------------------------------------------------------
# Events


Handler = Callable[[AsyncConnection, Event], Awaitable[None]]


async def _take_events(relay: Database, outbox: Any, tenants: list[uuid.UUID]) -> list[Event]:
    """Unpublished outbox rows of these agencies, marked published (the relay's job)."""
    if not tenants:
        return []
    async with relay.transaction(None) as conn:
        rows = (
            await conn.execute(
                select(outbox)
                .where(outbox.c.published_at.is_(None), outbox.c.tenant_id.in_(tenants))
                .order_by(outbox.c.occurred_at, outbox.c.id)
                .with_for_update(skip_locked=True)
            )
        ).all()
        if rows:
            await conn.execute(
                update(outbox)
                .where(outbox.c.id.in_([row.id for row in rows]))
                .values(published_at=dt.datetime.now(dt.UTC))
            )
    return [
        Event(
            id=row.id,
            topic=row.topic,
            tenant_id=row.tenant_id,
            occurred_at=row.occurred_at,
            payload=row.payload,
            headers=row.headers or {},
        )
        for row in rows
    ]


async def _apply(db: Database, processed: Any, group: str, event: Event, handler: Handler) -> None:
    """Once per event, in its agency's transaction (what `EventConsumer._apply` does)."""
    async with db.transaction(event.tenant_id) as conn:
        claimed = await conn.execute(
            pg_insert(processed)
            .values(consumer=group, event_id=event.id, tenant_id=event.tenant_id)
            .on_conflict_do_nothing()
            .returning(processed.c.event_id)
        )
        if claimed.first() is not None:
            await handler(conn, event)


@dataclass
class Bus:
    instances: list[Instance]
    # Everything interchange published, by topic (delivery.status & co.: docs does not consume
    # them yet, the tests read them here).
    published: list[Event] = field(default_factory=list)

    def of(self, topic: str, tenant: Tenant | None = None) -> list[dict[str, Any]]:
        return [
            e.payload
            for e in self.published
            if e.topic == topic and (tenant is None or e.tenant_id == tenant.id)
        ]

    async def pump(self) -> int:
        moved = 0
        for instance in self.instances:
            for event in await _take_events(
                instance.interchange_relay, interchange_outbox, instance.ids
            ):
                self.published.append(event)
                moved += 1
                if event.topic == "delivery.received":
                    await _apply(instance.docs_db, docs_processed, "docs", event, on_delivery)
            for event in await _take_events(instance.docs_relay, docs_outbox, instance.ids):
                moved += 1
                await _apply(
                    instance.runtime.ctx.db,
                    interchange_processed,
                    "interchange",
                    event,
                    instance.runtime.handle_event,
                )
        return moved


async def run_jobs(instance: Instance) -> int:
    """One round of the scheduler and the jobs it (and the kicks) asked for."""
    due = await instance.runtime.due(instance.ids)
    sends = set(due.sends) | instance.jobs.sends
    polls = set(due.polls) | instance.jobs.polls
    instance.jobs.sends.clear()
    instance.jobs.polls.clear()
    work = 0
    for tenant_id in sorted(polls):
        work += await instance.runtime.poll(tenant_id)
    for tenant_id in sorted(sends):
        work += await instance.runtime.send(tenant_id)
    return work


async def backlog(instance: Instance) -> int:
    """Messages and document requests of the instance's agencies still waiting to go."""
    from services.interchange.tables import outgoing, sent_document

    waiting = 0
    for tenant in instance.tenants:
        async with instance.runtime.ctx.db.transaction(tenant.id, read_only=True) as conn:
            for table in (outgoing, sent_document):
                found = await conn.execute(
                    select(func.count()).select_from(table).where(table.c.state == "pending")
                )
                waiting += int(found.scalar_one())
    return waiting


async def rounds(bus: Bus, count: int, step: dt.timedelta = dt.timedelta(seconds=15)) -> int:
    """Exactly `count` rounds of events and jobs, the clocks moving by `step` each; the work
    done."""
    work = 0
    for _ in range(count):
        work += await bus.pump()
        for instance in bus.instances:
            work += await run_jobs(instance)
            instance.clock.advance(step)
        work += await bus.pump()
    return work


async def settle(
    bus: Bus,
    *,
    axis_pending: Callable[[], Awaitable[int]] | None = None,
    step: dt.timedelta = dt.timedelta(seconds=15),
    limit: int = 200,
) -> int:
    """Rounds until nothing moved in the last round and nothing waits anywhere: no message
    queued, no event unrelayed, no item in the axis mailboxes of our agencies. The clocks move
    on meanwhile, so backoffs end and polls come due. How many rounds it took."""
    for index in range(limit):
        work = await rounds(bus, 1, step)
        if work:
            continue
        waiting = sum([await backlog(instance) for instance in bus.instances])
        if axis_pending is not None:
            waiting += await axis_pending()
        if waiting == 0:
            return index + 1
    raise AssertionError(f"still busy after {limit} rounds")
