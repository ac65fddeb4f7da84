"""One trace follows a clerk's request through every hop of the platform, and the metrics the
alerts and dashboards use arrive, as exported over OTLP by the real processes.

The province's services run as `qlvb` processes (tests/common/trace_stack.py): identity,
storage and docs serve HTTP; the docs relay, the interchange consumer and the interchange and
docs workers run in the background; all export to a collector in this process with sampling
1.0. The clerk issues an outgoing document, sealed with the agency's key, to an agency of the
province (delivered locally) and to a ministry outside the platform (refused: no connector).

The trace of that one request must be whole: the docs request, its calls to storage, the
relay's publish of `document.issued`, the interchange consumer, the send job the consumer asked
for and the storage and identity calls of that job, one root and no span whose parent is
missing; the logs written inside carry its trace id."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from saq import Queue
from saq.job import Status
from saq.queue.redis import RedisQueue
from sqlalchemy import func, select

from services.common.db import Database
from services.docs.signatures.demo import demo_pin
from services.docs.tables import outbox as docs_outbox
from tests.common.trace_stack import (
    Collector,
    Point,
    Span,
    Stack,
    eventually,
    prepare_database,
    redis_url,
    trace_url,
)
from tests.conftest import Keycloak
from tests.signing.documents import draft_pdf

UBND = "8ed2a563-ac2c-5215-80e1-ae060bf0f4a1"  # Ủy ban nhân dân tỉnh Phú Thọ, the sender
STC = "000.00.05.H44"  # Sở Tài chính, an agency of the province: delivered locally
BO_NOI_VU = "000.00.00.G09"  # outside the platform, and the province has no axis connector
SERVER, CLIENT, PRODUCER, CONSUMER = 2, 3, 4, 5  # opentelemetry.proto.trace.v1.Span.SpanKind


@pytest.fixture(scope="module")
def demo_province() -> dict[str, Any]:
    return prepare_database()


@pytest.fixture
def collector() -> Iterator[Collector]:
    served = Collector()
    served.start()
    yield served
    served.stop()


async def empty_redis_database() -> None:
    """Streams, consumer groups and queues of earlier runs are gone: this run's own only."""
    redis = Redis.from_url(redis_url())
    try:
        await redis.flushdb()
    finally:
        await redis.aclose()


class Clerks:
    """The demo people of the province, with real Keycloak tokens, calling the docs process."""

    def __init__(self, stack: Stack, keycloak: Keycloak) -> None:
        self.stack = stack
        self.keycloak = keycloak
        self.tokens: dict[str, str] = {}

    async def call(self, method: str, path: str, user: str, **kwargs: Any) -> dict[str, Any]:
        if user not in self.tokens:
            self.tokens[user] = self.keycloak.token(user)
        headers = {"Authorization": f"Bearer {self.tokens[user]}", "X-Agency-Id": UBND}
        async with httpx.AsyncClient(base_url=self.stack.url("docs"), timeout=120) as client:
            response = await client.request(method, path, headers=headers, **kwargs)
        assert response.status_code in (200, 201), (method, path, response.text)
        body: dict[str, Any] = response.json()
        return body

    async def upload(self, name: str, content: bytes) -> dict[str, Any]:
        """A draft file stored as the docs service stores it (its own service account)."""
        token = self.keycloak.service_token("qlvb-docs")
        async with httpx.AsyncClient(base_url=self.stack.url("storage"), timeout=120) as client:
            response = await client.post(
                "/api/v1/objects",
                params={"name": name},
                content=content,
                headers={"Authorization": f"Bearer {token}", "X-Agency-Id": UBND},
            )
        assert response.status_code == 201, response.text
        body = response.json()
        return {k: body[k] for k in ("file_name", "sha256", "size")} | {"object_id": body["id"]}


async def issue_to_two_recipients(clerks: Clerks, pin: str) -> str:
    """Draft, review, the leader's signature, and the clerk's issue with the agency's seal;
    the id of the outgoing document."""
    subject = f"Quyết định theo dõi một văn bản qua mọi dịch vụ {uuid.uuid4().hex[:6]}"
    card = await clerks.call(
        "POST",
        "/api/v1/outgoing",
        "chuyenvien",
        json={
            "doc_type": "QĐ",
            "subject": subject,
            "signer": "chutich",
            "authority": "TM.",
            "file": await clerks.upload(f"{subject}.pdf", draft_pdf(pages=1)),
            "recipients": [{"code": STC}, {"code": BO_NOI_VU, "name": "Bộ Nội vụ"}],
        },
    )
    outgoing_id = str(card["id"])
    card = await clerks.call(
        "POST",
        f"/api/v1/outgoing/{outgoing_id}/submit",
        "chuyenvien",
        json={"content_reviewer": "truongphong", "form_reviewer": "vanthu"},
    )
    for kind, user in (("content_review", "truongphong"), ("form_review", "vanthu")):
        step = next(s["id"] for s in card["steps"] if s["kind"] == kind)
        card = await clerks.call(
            "POST", f"/api/v1/outgoing/{outgoing_id}/steps/{step}/approve", user, json={}
        )
    await clerks.call("POST", f"/api/v1/outgoing/{outgoing_id}/sign", "chutich", json={"pin": pin})
    issued = await clerks.call(
        "POST", f"/api/v1/outgoing/{outgoing_id}/issue", "vanthu", json={"pin": pin}
    )
    assert issued["state"] == "issued"
    return outgoing_id


async def leave_work_overdue(clerks: Clerks) -> None:
    """A paper document that arrived three weeks ago, assigned with a deadline long gone."""
    arrived = dt.datetime.now(dt.UTC) - dt.timedelta(days=20)
    document = await clerks.call(
        "POST",
        "/api/v1/incoming",
        "vanthu",
        json={
            "sender_name": "Bộ Nội vụ",
            "sender_code": BO_NOI_VU,
            # A symbol of its own: numbers alone collide with the many documents made before
            # (the same number, sender and date is refused as already registered).
            "number_symbol": f"{uuid.uuid4().int % 9000 + 100}/BNV-{uuid.uuid4().hex[:6].upper()}",
            "doc_type": "CV",
            "issued_on": (arrived.date() - dt.timedelta(days=1)).isoformat(),
            "arrived_at": arrived.isoformat(),
            "subject": f"Báo cáo quá hạn {uuid.uuid4().hex[:6]}",
            "signer": "Trương Hải Long",
            "urgency": "normal",
        },
    )
    deadline = (arrived.date() + dt.timedelta(days=3)).isoformat()
    await clerks.call(
        "POST",
        f"/api/v1/incoming/{document['id']}/assignments",
        "chutich",
        json={"assignments": [{"assignee": "chuyenvien", "role": "lead", "deadline": deadline}]},
    )


async def run_job(queue: Queue, function: str) -> None:
    """Ask the running worker for one job now (its cron would, at the next minute), and wait."""
    job = await queue.enqueue(function, key=f"{function}:{uuid.uuid4()}", timeout=120)
    assert job is not None
    await job.refresh(until_complete=300)
    assert job.status == Status.COMPLETE, (function, job.error)


async def jobs_settle(queue: Queue, first_key: str) -> None:
    """Until the first job is done and so is every job it led to (cron jobs aside)."""

    async def settled() -> bool:
        first = await queue.job(first_key)
        if first is None:
            return False
        assert first.status not in (Status.FAILED, Status.ABORTED), first.error
        assert isinstance(queue, RedisQueue)
        waiting = await queue.redis.zrange(queue.namespace("incomplete"), 0, -1)
        others = [k for k in waiting if b":cron:" not in k]
        return first.status == Status.COMPLETE and not others

    await eventually(settled, f"{first_key} and the jobs it asked for are done")


async def outbox_relayed() -> bool:
    db = Database.from_url(trace_url("QLVB_DOCS_RELAY_DATABASE_URL"), pool_size=1)
    try:
        async with db.transaction(None, read_only=True) as conn:
            waiting = await conn.execute(
                select(func.count())
                .select_from(docs_outbox)
                .where(docs_outbox.c.published_at.is_(None))
            )
            return int(waiting.scalar_one()) == 0
    finally:
        await db.dispose()


async def group_caught_up() -> bool:
    redis = Redis.from_url(redis_url())
    try:
        for topic in ("document.issued", "document.status_changed"):
            groups = await redis.xinfo_groups(f"qlvb:events:{topic}")
            for group in groups:
                if group["name"] == b"interchange" and (group["pending"] or group["lag"]):
                    return False
        return True
    finally:
        await redis.aclose()


def ancestors(span: Span, by_id: dict[str, Span]) -> list[Span]:
    chain = []
    while span.parent_id is not None and span.parent_id in by_id:
        span = by_id[span.parent_id]
        chain.append(span)
    return chain


def value(points: list[Point], instance: str, metric: str, **attributes: Any) -> float | None:
    """The last exported value of each series of `metric` from `instance` that has these
    attributes, summed; None when none was exported."""
    last: dict[frozenset[tuple[str, Any]], float] = {}
    for point in points:
        if point.instance != instance or point.metric != metric:
            continue
        if all(point.attributes.get(k) == v for k, v in attributes.items()):
            last[frozenset(point.attributes.items())] = point.value
    return sum(last.values()) if last else None


async def test_one_trace_from_the_request_to_the_job_and_the_metrics_arrive(
    demo_province: dict[str, Any], keycloak: Keycloak, collector: Collector, tmp_path: Path
) -> None:
    await empty_redis_database()
    stack = Stack(collector.url, tmp_path)
    interchange_queue = Queue.from_url(redis_url(), name="qlvb-interchange")
    docs_queue = Queue.from_url(redis_url(), name="qlvb-docs")
    try:
        for service in ("identity", "storage", "docs"):
            await stack.serve(service)
        clerks = Clerks(stack, keycloak)
        await leave_work_overdue(clerks)
        outgoing_id = await issue_to_two_recipients(clerks, demo_pin(demo_province))

        stack.start("interchange-consumer", "consume", "interchange")
        stack.start("docs-relay", "relay", "docs")
        stack.start("interchange-worker", "worker", "interchange")
        stack.start("docs-worker", "worker", "docs")
        await interchange_queue.connect()
        await docs_queue.connect()
        await jobs_settle(interchange_queue, f"send:{UBND}")
        await run_job(interchange_queue, "report_backlog")
        await run_job(docs_queue, "deadline_reminders")
        background = ("interchange-consumer", "docs-relay", "interchange-worker", "docs-worker")

        async def heartbeats_touched() -> bool:
            return all(stack.heartbeat(name).exists() for name in background)

        await eventually(heartbeats_touched, "every background process touching its heartbeat")

        # Stopped in the order work flows, each once the one before has nothing left for it,
        # so the last figures each exports are final.
        stack.stop("docs-worker")
        await eventually(outbox_relayed, "the docs outbox relayed")
        stack.stop("docs-relay")
        await eventually(group_caught_up, "the interchange group caught up")
        stack.stop("interchange-consumer")
        stack.stop("interchange-worker")
        for service in ("docs", "storage", "identity"):
            stack.stop(service)
    finally:
        stack.kill_all()
        await interchange_queue.disconnect()
        await docs_queue.disconnect()

    spans = list(collector.collected.spans)
    points = list(collector.collected.points)

    # -- one trace, whole ---------------------------------------------------------------------
    issue_path = f"/api/v1/outgoing/{outgoing_id}/issue"
    [root] = [
        s
        for s in spans
        if s.instance == "docs" and s.kind == SERVER and s.attributes.get("url.path") == issue_path
    ]
    ours = [s for s in spans if s.trace_id == root.trace_id]
    by_id = {s.span_id: s for s in ours}
    assert [s for s in ours if s.parent_id is None] == [root]
    orphans = [(s.instance, s.name) for s in ours if s.parent_id and s.parent_id not in by_id]
    assert orphans == []

    def under(span: Span, *instances: str) -> list[Span]:
        return [s for s in ours if span in ancestors(s, by_id) and s.instance in instances]

    [publish] = [s for s in ours if s.kind == PRODUCER and s.name == "publish document.issued"]
    assert publish.instance == "docs-relay"
    assert root in ancestors(publish, by_id)
    [consume] = [s for s in ours if s.kind == CONSUMER and s.name == "consume document.issued"]
    assert consume.instance == "interchange-consumer"
    assert consume.parent_id == publish.span_id
    [send] = [s for s in ours if s.name == "job send" and s.parent_id == consume.span_id]
    assert send.instance == "interchange-worker"

    # The request's own calls to storage (the sealed file stored and locked) are in it...
    request_storage = [
        s for s in under(root, "storage") if s.kind == SERVER and publish not in ancestors(s, by_id)
    ]
    assert request_storage, "the docs request's calls to storage"
    assert [s for s in under(root, "docs") if s.scope == "qlvb.sql"]
    # ...and so are the job's: the file fetched, the recipient found, the packet delivered.
    assert [s for s in under(send, "storage") if s.kind == SERVER]
    assert [s for s in under(send, "identity") if s.kind == SERVER]
    assert [s for s in under(send, "interchange-worker") if s.scope == "qlvb.sql"]
    assert {s.service for s in ours} == {
        "qlvb-docs",
        "qlvb-storage",
        "qlvb-identity",
        "qlvb-interchange",
    }
    # Nothing else is in it: the other requests, the relay's polling, cron jobs start their own.
    assert {s.instance for s in ours} == {
        "docs",
        "storage",
        "identity",
        "docs-relay",
        "interchange-consumer",
        "interchange-worker",
    }

    # -- logs written inside carry the trace ----------------------------------------------------
    logged = [
        entry
        for name in ("interchange-consumer", "interchange-worker")
        for entry in stack.processes[name].logs()
        if entry.get("trace_id") == root.trace_id
    ]
    events = {entry["event"] for entry in logged}
    assert {"event_applied", "job_finished", "message_failed"} <= events, events
    assert all(entry["span_id"] in by_id for entry in logged)

    # -- metrics --------------------------------------------------------------------------------
    route = next(
        str(p.attributes["http.route"])
        for p in points
        if p.metric == "http.server.request.duration"
        and str(p.attributes.get("http.route", "")).endswith("/issue")
    )
    assert value(points, "docs", "http.server.request.duration", **{"http.route": route}) == 1
    # The leader's signature and the agency's seal, each with a key the server holds.
    signatures = "qlvb.docs.signatures"
    assert value(points, "docs", signatures, kind="leader", method="pkcs12") == 1
    assert value(points, "docs", signatures, kind="seal", method="pkcs12") == 1

    assert (value(points, "docs-relay", "qlvb.outbox.published", topic="document.issued") or 0) >= 1
    assert value(points, "docs-relay", "qlvb.outbox.backlog", outbox="docs") == 0
    assert value(points, "docs-relay", "qlvb.outbox.oldest_age", outbox="docs") == 0

    group = {"group": "interchange", "topic": "document.issued"}
    consumed = value(points, "interchange-consumer", "qlvb.events.consumed", **group)
    assert (consumed or 0) >= 1
    assert value(points, "interchange-consumer", "qlvb.events.pending", **group) == 0
    assert value(points, "interchange-consumer", "qlvb.events.lag", **group) == 0

    worker = "interchange-worker"
    deliveries = "qlvb.interchange.deliveries"
    edoc = {"kind": "edoc"}
    sent = value(points, worker, deliveries, direction="outgoing", status="sent", route="local")
    failed = value(points, worker, deliveries, direction="outgoing", status="failed", **edoc)
    accepted = value(points, worker, deliveries, direction="incoming", status="accepted", **edoc)
    assert (sent or 0) >= 1  # to the agency of the province
    assert (failed or 0) >= 1  # to the ministry: no connector
    assert (accepted or 0) >= 1  # into the agency's inbox
    letters = value(points, worker, "qlvb.interchange.dead_letters", tenant_id=UBND)
    assert (letters or 0) >= 1
    open_letters = value(points, worker, "qlvb.interchange.dead_letters.open", tenant_id=UBND)
    assert (open_letters or 0) >= 1
    jobs = value(points, worker, "qlvb.jobs.duration", function="send", outcome="ok")
    assert (jobs or 0) >= 1
    for state in ("queued", "active", "scheduled"):
        depth = value(points, worker, "qlvb.jobs.depth", queue="qlvb-interchange", state=state)
        assert depth is not None
        assert depth >= 0
    waited = value(points, worker, "qlvb.jobs.wait", queue="qlvb-interchange")
    assert waited is not None
    assert waited >= 0

    assert (value(points, "docs-worker", "qlvb.docs.overdue", tenant_id=UBND) or 0) >= 1
