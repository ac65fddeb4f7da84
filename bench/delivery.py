"""bench/delivery: documents among 100 agencies of two provinces (two databases, `qlvb_test`
and `qlvb_test2`), every one of them through the simulated national axis: drain time, end-to-
end latency (p50/p95), and the counts of lost and duplicated deliveries, which must be 0.

    python -m bench.delivery [--documents N] [--agencies 100] [--no-faults]

The full run is `--documents 10000` (10-15 minutes on a 2-core machine with the faults on);
the default, 500, keeps `python -m bench` within its per-bench time limit. Half the agencies
belong to each province, each with a connector of its own (one system id per agency on the
axis); every document goes from an agency of one province to an agency of the other, so each
crosses the axis: document.issued -> packet built -> sendEdoc -> the recipient's poll ->
getEdoc -> parsed, taken once into the inbox -> delivery.received; and status 01 back the
same way.

The simulator runs as a process of its own (the second core), with faults on unless told
otherwise: 2% of axis calls answer 503, 1% lose their answer after doing the work, 5% of
documents are delivered twice under two axis ids, mailbox listings are shuffled. The services'
jobs run in this process as a saq worker would run them: per agency, at most one poll and one
send at a time, 24 at once. The end-to-end latency of a document runs from its
`document.issued` event to the recipient's `delivery.received` event, both stamped by the same
PostgreSQL server; all documents are issued at once, so it includes the wait in the backlog."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import logging
import os
import random
import socket
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
import msgspec
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from bench.common import BenchError, detail
from devstack.bootstrap_db import bootstrap_service_schemas, ensure_database
from devstack.environment import SERVICES, TEST_DATABASE, service_environment, stack_values

NAME = "delivery"
SECOND_DATABASE = "qlvb_test2"
DEFAULT_DOCUMENTS = 500
DEFAULT_AGENCIES = 100
CONCURRENCY = 24
# Each agency asks the axis for its mail this often (production: every 5 minutes).
POLL_SECONDS = 3
REPO = Path(__file__).resolve().parent.parent
FAULTS = {
    "error_rate": 0.02,
    "drop_response_rate": 0.01,
    "duplicate_rate": 0.05,
    "reorder": True,
}


def in_database(url: str, database: str) -> str:
    return f"{url.rpartition('/')[0]}/{database}"


def prepare_databases() -> None:
    """Both databases exist and carry every service's newest schema."""
    from services.common.migrations import upgrade

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
    for database in (TEST_DATABASE, SECOND_DATABASE):
        for service in SERVICES:
            url = os.environ[f"QLVB_{service.upper()}_MIGRATION_DATABASE_URL"]
            upgrade(service, in_database(url, database))


# --------------------------------------------------------------------------- the simulator


class Simulator:
    """`python -m peers.axis_sim` in a process of its own, on a free loopback port."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "peers.axis_sim", "--port", str(self.port)],
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def wait(self) -> None:
        for _ in range(300):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            if self.process.poll() is not None:
                raise BenchError("the axis simulator exited")
            time.sleep(0.05)
        raise BenchError("the axis simulator did not start")

    def stop(self) -> None:
        self.process.terminate()  # the one child this bench started, by its own handle
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


# --------------------------------------------------------------------------- one province


@dataclass
class Province:
    name: str
    database: str
    runtime: Any
    identity_db: Any
    docs_db: Any
    docs_relay: Any
    interchange_relay: Any
    closers: list[Any]
    codes: dict[uuid.UUID, str] = field(default_factory=dict)
    running: set[tuple[str, uuid.UUID]] = field(default_factory=set)

    @property
    def ids(self) -> list[uuid.UUID]:
        return list(self.codes)

    async def close(self) -> None:
        for close in reversed(self.closers):
            with contextlib.suppress(Exception):
                await close()


class Kicks:
    """`Jobs` for the bench's own scheduler: kicked agencies are run on the next pass."""

    def __init__(self) -> None:
        self.sends: set[uuid.UUID] = set()
        self.polls: set[uuid.UUID] = set()

    async def send(self, tenant_id: uuid.UUID) -> None:
        self.sends.add(tenant_id)

    async def poll(self, tenant_id: uuid.UUID) -> None:
        self.polls.add(tenant_id)


async def open_province(name: str, database: str) -> Province:
    from services.common.db import Database
    from services.identity.app import create_app as create_identity
    from services.identity.settings import load as load_identity
    from services.interchange.runtime import Interchange, build_context
    from services.interchange.settings import load as load_interchange

    base = load_interchange()
    settings = msgspec.structs.replace(
        base,
        database_url=in_database(base.database_url, database),
        relay_database_url=in_database(base.relay_database_url, database),
        identity_url="http://identity.test",
        storage_url="http://storage.test",
        log_level="ERROR",
        backoff_base_seconds=0.5,
        backoff_cap_seconds=5.0,
    )
    identity_settings = load_identity()
    identity_settings = msgspec.structs.replace(
        identity_settings,
        database_url=in_database(identity_settings.database_url, database),
        log_level="ERROR",
    )
    identity_app = create_identity(identity_settings)
    http = httpx.AsyncClient(
        timeout=httpx.Timeout(30.0, connect=5.0),
        mounts={"http://identity.test": httpx.ASGITransport(app=identity_app)},
    )
    db = Database.from_url(settings.database_url, pool_size=CONCURRENCY)
    platform_db = Database.from_url(settings.relay_database_url, pool_size=2)
    kicks = Kicks()
    context = build_context(settings, db=db, http=http, platform_db=platform_db, jobs=kicks)
    docs_url = in_database(os.environ["QLVB_DOCS_DATABASE_URL"], database)
    docs_relay_url = in_database(os.environ["QLVB_DOCS_RELAY_DATABASE_URL"], database)
    identity_db = Database.from_url(identity_settings.database_url, pool_size=2)
    docs_db = Database.from_url(docs_url, pool_size=4)
    docs_relay = Database.from_url(docs_relay_url, pool_size=2)
    interchange_relay = Database.from_url(settings.relay_database_url, pool_size=2)
    province = Province(
        name=name,
        database=database,
        runtime=Interchange(context),
        identity_db=identity_db,
        docs_db=docs_db,
        docs_relay=docs_relay,
        interchange_relay=interchange_relay,
        closers=[
            identity_app.state["resources"].close,
            http.aclose,
            context.axis_http.aclose,
            db.dispose,
            platform_db.dispose,
            identity_db.dispose,
            docs_db.dispose,
            docs_relay.dispose,
            interchange_relay.dispose,
        ],
    )
    province.runtime.kicks = kicks
    return province


def agency_code(rng: random.Random) -> str:
    return f"{rng.randrange(1000):03d}.{rng.randrange(100):02d}.{rng.randrange(100):02d}.Y96"


async def add_agencies(
    province: Province, count: int, axis: httpx.AsyncClient, rng: random.Random
) -> None:
    from services.identity.tables import agency
    from services.interchange.connectors import service as connectors
    from services.interchange.connectors.schemas import ConnectorRequest

    rows = []
    for index in range(count):
        tenant = uuid.uuid4()
        code = agency_code(rng)
        province.codes[tenant] = code
        rows.append(
            {
                "id": tenant,
                "code102": code,
                "name": f"Cơ quan thử tải {province.name}{index:02d}",
                "short_name": f"TT{province.name}{index:02d}",
                "level": "test",
            }
        )
    async with province.identity_db.transaction(None) as conn:
        await conn.execute(pg_insert(agency).values(rows))
    systems = []
    for tenant, code in province.codes.items():
        system = {
            "system_id": f"vxp.bench.{code}",
            "secret": uuid.uuid4().hex,
            "agencies": [code],
        }
        systems.append(system)
        await connectors.upsert(
            province.runtime.ctx,
            tenant,
            ConnectorRequest(
                endpoint=axis.base_url.__str__().rstrip("/"),
                system_id=system["system_id"],
                secret=system["secret"],
                poll_seconds=POLL_SECONDS,
                rate_per_minute=100_000,
                timeout_seconds=10.0,
            ),
        )
    for system in systems:
        (await axis.post("/admin/systems", json=system)).raise_for_status()
    agencies = [{"code": code, "name": code} for code in province.codes.values()]
    (await axis.post("/admin/agencies", json=agencies)).raise_for_status()


# --------------------------------------------------------------------------- the work


@dataclass(frozen=True)
class Issued:
    sender: uuid.UUID
    recipient: uuid.UUID
    edxml_document_id: str


async def issue(provinces: tuple[Province, Province], count: int, run_tag: str) -> list[Issued]:
    """`document.issued` rows as the docs service writes them, all at once."""
    from services.common.outbox import publish
    from services.docs.tables import outbox as docs_outbox
    from services.interchange.edxml import document_id

    issued_on = dt.date.today() - dt.timedelta(days=1)
    senders: dict[tuple[int, uuid.UUID], list[dict[str, Any]]] = {}
    issued: list[Issued] = []
    for index in range(count):
        source, target = (provinces[0], provinces[1]) if index % 2 == 0 else provinces[::-1]
        sender = source.ids[index // 2 % len(source.ids)]
        recipient = target.ids[(index * 7 + 3) % len(target.ids)]
        number = str(index + 1)
        notation = f"BENCH-{run_tag}"
        senders.setdefault((provinces.index(source), sender), []).append(
            {
                "outgoing_id": str(uuid.uuid4()),
                "business": "new",
                "number_symbol": f"{number}/{notation}",
                "doc_type": "CV",
                "issued_on": issued_on.isoformat(),
                "subject": f"V/v đo thông lượng liên thông, văn bản {number}",
                "signer": "Nguyễn Văn Thử",
                "recipients": [{"code": target.codes[recipient]}],
            }
        )
        issued.append(
            Issued(
                sender=sender,
                recipient=recipient,
                edxml_document_id=document_id(source.codes[sender], issued_on, number, notation),
            )
        )
    for (which, sender), payloads in senders.items():
        async with provinces[which].docs_db.transaction(sender) as conn:
            for payload in payloads:
                await publish(conn, docs_outbox, sender, "document.issued", payload)
    return issued


async def pump_issued(province: Province, limit: asyncio.Semaphore) -> int:
    """Move this province's `document.issued` rows to the interchange handler, once each."""
    from services.common.outbox import Event
    from services.docs.tables import outbox as docs_outbox
    from services.interchange.tables import processed_event

    async with province.docs_relay.transaction(None) as conn:
        rows = (
            await conn.execute(
                select(docs_outbox)
                .where(
                    docs_outbox.c.published_at.is_(None),
                    docs_outbox.c.tenant_id.in_(province.ids),
                )
                .order_by(docs_outbox.c.occurred_at, docs_outbox.c.id)
                .limit(2000)
                .with_for_update(skip_locked=True)
            )
        ).all()
        if rows:
            await conn.execute(
                update(docs_outbox)
                .where(docs_outbox.c.id.in_([r.id for r in rows]))
                .values(published_at=func.now())
            )
    by_tenant: dict[uuid.UUID, list[Any]] = {}
    for row in rows:
        by_tenant.setdefault(row.tenant_id, []).append(row)

    async def apply_all(tenant: uuid.UUID, events: list[Any]) -> None:
        async with limit:
            for row in events:
                event = Event(
                    id=row.id,
                    topic=row.topic,
                    tenant_id=row.tenant_id,
                    occurred_at=row.occurred_at,
                    payload=row.payload,
                )
                async with province.runtime.ctx.db.transaction(tenant) as conn:
                    claimed = await conn.execute(
                        pg_insert(processed_event)
                        .values(consumer="interchange", event_id=event.id, tenant_id=tenant)
                        .on_conflict_do_nothing()
                        .returning(processed_event.c.event_id)
                    )
                    if claimed.first() is not None:
                        await province.runtime.handle_event(conn, event)

    await asyncio.gather(*(apply_all(t, events) for t, events in by_tenant.items()))
    return len(rows)


async def drive(province: Province, limit: asyncio.Semaphore, stop: asyncio.Event) -> None:
    """The scheduler and the worker: what is due or kicked runs, one job per agency and kind."""
    runtime = province.runtime
    kicks: Kicks = runtime.kicks
    tasks: set[asyncio.Task[Any]] = set()

    async def job(kind: str, tenant: uuid.UUID) -> None:
        try:
            async with limit:
                if kind == "poll":
                    await runtime.poll(tenant)
                else:
                    await runtime.send(tenant)
        except Exception as error:  # a job's failure is logged, as saq would
            logging.getLogger("bench.delivery").warning("job failed: %r", error)
        finally:
            province.running.discard((kind, tenant))

    while not stop.is_set():
        await pump_issued(province, limit)
        due = await runtime.due(province.ids)
        wanted = [("poll", t) for t in set(due.polls) | kicks.polls] + [
            ("send", t) for t in set(due.sends) | kicks.sends
        ]
        kicks.polls.clear()
        kicks.sends.clear()
        for kind, tenant in wanted:
            if (kind, tenant) not in province.running:
                province.running.add((kind, tenant))
                task = asyncio.create_task(job(kind, tenant))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=0.1)
    await asyncio.gather(*tasks, return_exceptions=True)


async def received(provinces: tuple[Province, Province]) -> list[tuple[uuid.UUID, str, Any]]:
    """(recipient, edxml DocumentId, when) of every delivery.received of our agencies."""
    from services.interchange.tables import outbox

    found = []
    for province in provinces:
        async with province.interchange_relay.transaction(None, read_only=True) as conn:
            rows = await conn.execute(
                select(outbox.c.tenant_id, outbox.c.payload, outbox.c.occurred_at).where(
                    outbox.c.topic == "delivery.received", outbox.c.tenant_id.in_(province.ids)
                )
            )
            found += [
                (row.tenant_id, row.payload["edxml_document_id"], row.occurred_at) for row in rows
            ]
    return found


async def delivered_count(provinces: tuple[Province, Province]) -> int:
    """Distinct (recipient, document) pairs delivered so far, counted by the database."""
    from services.interchange.tables import outbox

    total = 0
    for province in provinces:
        async with province.interchange_relay.transaction(None, read_only=True) as conn:
            count = await conn.execute(
                select(
                    func.count(
                        func.distinct(
                            func.concat(
                                outbox.c.tenant_id, outbox.c.payload["edxml_document_id"].astext
                            )
                        )
                    )
                ).where(outbox.c.topic == "delivery.received", outbox.c.tenant_id.in_(province.ids))
            )
            total += int(count.scalar_one())
    return total


async def statuses_back(provinces: tuple[Province, Province]) -> int:
    from services.interchange.tables import outbox

    total = 0
    for province in provinces:
        async with province.interchange_relay.transaction(None, read_only=True) as conn:
            count = await conn.execute(
                select(func.count())
                .select_from(outbox)
                .where(
                    outbox.c.topic == "delivery.status",
                    outbox.c.tenant_id.in_(province.ids),
                    outbox.c.payload["status"].astext == "received",
                )
            )
            total += int(count.scalar_one())
    return total


async def issued_times(provinces: tuple[Province, Province]) -> dict[str, Any]:
    """edxml DocumentId -> when its document.issued event was written."""
    from services.docs.tables import outbox as docs_outbox
    from services.interchange.tables import sent_document

    times: dict[str, Any] = {}
    for province in provinces:
        async with province.docs_relay.transaction(None, read_only=True) as conn:
            issued = {
                row.payload["outgoing_id"]: row.occurred_at
                for row in await conn.execute(
                    select(docs_outbox.c.payload, docs_outbox.c.occurred_at).where(
                        docs_outbox.c.topic == "document.issued",
                        docs_outbox.c.tenant_id.in_(province.ids),
                    )
                )
            }
        async with province.interchange_relay.transaction(None, read_only=True) as conn:
            for row in await conn.execute(
                select(sent_document.c.outgoing_id, sent_document.c.edxml_document_id).where(
                    sent_document.c.tenant_id.in_(province.ids)
                )
            ):
                when = issued.get(str(row.outgoing_id))
                if when is not None and row.edxml_document_id:
                    times[row.edxml_document_id] = when
    return times


async def tidy(provinces: tuple[Province, Province]) -> None:
    """Mark the bench's own events relayed, so that nothing later picks them up."""
    from services.interchange.tables import outbox

    for province in provinces:
        async with province.interchange_relay.transaction(None) as conn:
            await conn.execute(
                update(outbox)
                .where(outbox.c.tenant_id.in_(province.ids), outbox.c.published_at.is_(None))
                .values(published_at=func.now())
            )


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def run(documents: int, agencies: int, faults: bool) -> bool:
    os.environ.update(service_environment(TEST_DATABASE))
    os.environ["QLVB_ENVIRONMENT"] = "test"
    logging.disable(logging.WARNING)
    await asyncio.to_thread(prepare_databases)
    simulator = Simulator()
    provinces: tuple[Province, Province] | None = None
    try:
        await asyncio.to_thread(simulator.wait)
        rng = random.Random()
        async with httpx.AsyncClient(base_url=simulator.url, timeout=30) as axis:
            (await axis.put("/admin/faults", json=FAULTS if faults else {})).raise_for_status()
            provinces = (
                await open_province("A", TEST_DATABASE),
                await open_province("B", SECOND_DATABASE),
            )
            await add_agencies(provinces[0], agencies // 2, axis, rng)
            await add_agencies(provinces[1], agencies - agencies // 2, axis, rng)
            detail(
                NAME,
                f"{documents} documents among {agencies} agencies of two provinces, "
                f"faults {'on: ' + str(FAULTS) if faults else 'off'}",
            )
            run_tag = uuid.uuid4().hex[:6].upper()
            expected = await issue(provinces, documents, run_tag)
            started = time.perf_counter()
            stop = asyncio.Event()
            limit = asyncio.Semaphore(CONCURRENCY)
            drivers = [asyncio.create_task(drive(p, limit, stop)) for p in provinces]
            # The routine run must end inside `python -m bench`'s limit, setup included.
            deadline = started + max(120.0, documents * 0.15)
            drained_at: float | None = None
            answered_at: float | None = None
            shown = -1
            while time.perf_counter() < deadline:
                await asyncio.sleep(1.0)
                got = await delivered_count(provinces)
                if drained_at is None and got >= documents:
                    drained_at = time.perf_counter()
                if got >= documents and await statuses_back(provinces) >= documents:
                    answered_at = time.perf_counter()
                    break
                if got * 10 // documents != shown:
                    shown = got * 10 // documents
                    detail(
                        NAME,
                        f"{got}/{documents} delivered after {time.perf_counter() - started:.0f} s",
                    )
            stop.set()
            await asyncio.gather(*drivers)
            stats = (await axis.get("/admin/stats")).json()
        deliveries = await received(provinces)
        times = await issued_times(provinces)
        await tidy(provinces)
    finally:
        if provinces is not None:
            for province in provinces:
                await province.close()
        simulator.stop()
    wanted = {(i.recipient, i.edxml_document_id) for i in expected}
    seen: dict[tuple[uuid.UUID, str], list[Any]] = {}
    for tenant, edxml_id, when in deliveries:
        seen.setdefault((tenant, edxml_id), []).append(when)
    lost = len(wanted - seen.keys())
    duplicated = sum(len(whens) - 1 for whens in seen.values())
    latencies = [
        (whens[0] - times[edxml_id]).total_seconds()
        for (_, edxml_id), whens in seen.items()
        if edxml_id in times
    ]
    drain = (drained_at or time.perf_counter()) - started
    counters = stats.get("counters", {})
    detail(
        NAME,
        "axis: "
        + ", ".join(
            f"{name} {counters.get(name, 0)}"
            for name in ("sent", "fetched", "errors", "dropped_responses", "duplicated_deliveries")
        ),
    )
    if answered_at is not None:
        detail(NAME, f"every 01 status back at the senders after {answered_at - started:.1f} s")
    timed_out = drained_at is None
    if timed_out:
        detail(NAME, f"not drained before the deadline: {lost} documents still on their way")
    ok = lost == 0 and duplicated == 0 and bool(latencies)
    p50 = statistics.median(latencies) if latencies else float("nan")
    p95 = percentile(latencies, 0.95) if latencies else float("nan")
    print(
        f"bench/{NAME}: documents={documents} agencies={agencies} drain_s={drain:.1f} "
        f"throughput={documents / drain:.1f}/s p50_s={p50:.2f} p95_s={p95:.2f} "
        f"lost={lost} duplicated={duplicated} timed_out={'yes' if timed_out else 'no'} "
        f"met={'yes' if ok else 'no'}",
        flush=True,
    )
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.delivery", description=__doc__)
    parser.add_argument("--documents", type=int, default=DEFAULT_DOCUMENTS)
    parser.add_argument("--agencies", type=int, default=DEFAULT_AGENCIES)
    parser.add_argument("--no-faults", action="store_true")
    args = parser.parse_args()
    if args.agencies < 2 or args.documents < 1:
        parser.error("at least 2 agencies and 1 document")
    asyncio.run(run(args.documents, args.agencies, not args.no_faults))


if __name__ == "__main__":
    main()
