"""The receiving side of a revocation, update or replacement (edXML business 1-3): the sender's
request arrives through Redis Streams as the interchange service publishes it, waits on the
incoming document's card, and the clerk's (or a leader's) answer goes back to the sender as
`document.status_changed` `change_accepted` / `change_rejected`; with real tokens and the real
consumer. The last test runs the whole loop between two provinces through the interchange
service and the simulated national axis."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import func, select

from peers.axis_sim import AxisSimulator
from services.common.db import Database
from services.common.outbox import Event, EventConsumer, encode_event, stream_name
from services.docs.audit.chain import verify
from services.docs.consumers import (
    DELIVERY_RECEIVED,
    DELIVERY_REVOKED,
    DELIVERY_STATUS,
    DELIVERY_UPDATED,
    on_delivery_status,
    on_incoming,
)
from services.docs.incoming.changes import IncomingChanges
from services.docs.incoming.schemas import FileRef
from services.docs.outgoing.schemas import DraftRequest, IssueRequest, Recipient, SubmitRequest
from services.docs.outgoing.schemas import UpdateRequest as OutgoingUpdate
from services.docs.outgoing.service import OutgoingService
from services.docs.tables import (
    assignment,
    audit_entry,
    document,
    incoming_change,
    outbox,
    processed_event,
)
from services.interchange.tables import dead_letter
from services.interchange.tables import outgoing as interchange_outgoing
from tests.docs.conftest import UBND_TINH, Docs
from tests.interchange.conftest import ServedSimulator, simulator_config
from tests.interchange.platforms import (
    AnyoneWorksHere,
    Bus,
    _apply,
    pdf,
    prepare_second_database,
    principal,
)
from tests.interchange.provinces import Provinces, two_provinces
from tests.interchange.test_docs_contract import Registry

TENANT = uuid.UUID(UBND_TINH)
XA = "07c7e4ab-dbea-5483-8930-cfa839d6beae"  # xã Tiên Lương, where vanthu.xa is the clerk
SENDER = "000.00.00.G09"  # Bộ Nội vụ
TOPICS = [DELIVERY_RECEIVED, DELIVERY_REVOKED, DELIVERY_UPDATED]


# --------------------------------------------------------------------------- the consumer


@dataclass
class Feed:
    """The docs consumer on its own group of the three streams, as `qlvb consume docs` runs
    it, and the docs database to look at what it did."""

    db: Database
    redis: Redis
    consumer: EventConsumer

    async def send(self, *events: Event) -> None:
        for event in events:
            await self.redis.xadd(stream_name(event.topic), encode_event(event))
        handled = 0
        for _ in range(20):
            handled += await self.consumer.consume_once(block_ms=100)
            if handled >= len(events):
                return
        raise AssertionError(f"{handled} of {len(events)} events handled")

    async def arrive(self, subject: str, **changes: Any) -> tuple[uuid.UUID, uuid.UUID]:
        """A document delivered to the agency: (its delivery id, its incoming document id)."""
        delivery_id = uuid.uuid4()
        await self.send(received(delivery_id, subject, **changes))
        async with self.db.transaction(TENANT, read_only=True) as conn:
            found = await conn.execute(
                select(document.c.id).where(document.c.delivery_id == delivery_id)
            )
            return delivery_id, found.scalar_one()

    async def statuses(self, delivery_id: uuid.UUID) -> list[dict[str, Any]]:
        async with self.db.transaction(TENANT, read_only=True) as conn:
            rows = await conn.execute(
                select(outbox.c.payload)
                .where(outbox.c.topic == "document.status_changed")
                .order_by(outbox.c.occurred_at, outbox.c.id)
            )
            return [r.payload for r in rows if r.payload["delivery_id"] == str(delivery_id)]

    async def changes(self, tenant: uuid.UUID, delivery_id: uuid.UUID) -> list[Any]:
        async with self.db.transaction(tenant, read_only=True) as conn:
            rows = await conn.execute(
                select(incoming_change).where(incoming_change.c.delivery_id == delivery_id)
            )
            return list(rows.all())

    async def audit(self, entity_id: uuid.UUID, action: str) -> list[Any]:
        async with self.db.transaction(TENANT, read_only=True) as conn:
            rows = await conn.execute(
                select(audit_entry).where(
                    audit_entry.c.entity_id == entity_id, audit_entry.c.action == action
                )
            )
            return list(rows.all())


@pytest.fixture
async def feed() -> AsyncIterator[Feed]:
    db = Database.from_url(os.environ["QLVB_DOCS_DATABASE_URL"], pool_size=2)
    redis = Redis.from_url(os.environ["QLVB_REDIS_URL"])
    # A group of its own, so that events of other runs or of `make run` are not taken here.
    group = f"docs-test-{uuid.uuid4().hex[:8]}"
    consumer = EventConsumer(
        redis=redis,
        db=db,
        processed=processed_event,
        group=group,
        topics=TOPICS,
        handler=on_incoming,
        claim_idle_ms=60_000,
    )
    await consumer.ensure_groups()
    for topic in TOPICS:  # start after what is already in the streams
        await redis.xgroup_setid(stream_name(topic), group, id="$")
    yield Feed(db, redis, consumer)
    for topic in TOPICS:
        await redis.xgroup_destroy(stream_name(topic), group)
    await redis.aclose()
    await db.dispose()


def _event(topic: str, payload: dict[str, Any], tenant: uuid.UUID = TENANT) -> Event:
    return Event(
        id=uuid.uuid4(),
        topic=topic,
        tenant_id=tenant,
        occurred_at=dt.datetime.now(dt.UTC),
        payload=payload,
    )


def fields(subject: str, **changes: Any) -> dict[str, Any]:
    return {
        "sender_name": "Bộ Nội vụ",
        "sender_code": SENDER,
        # A symbol of its own: numbers alone collide with the many documents made before
        # (the same number, sender and date is refused as already registered).
        "number_symbol": f"{uuid.uuid4().int % 9000 + 100}/BNV-{uuid.uuid4().hex[:6].upper()}",
        "doc_type": "CV",
        "issued_on": (dt.date.today() - dt.timedelta(days=2)).isoformat(),
        "subject": subject,
        "signer": "Trương Hải Long",
        "urgency": "normal",
        **changes,
    }


def received(
    delivery_id: uuid.UUID,
    subject: str,
    *,
    files: list[dict[str, Any]] | None = None,
    replaces: uuid.UUID | None = None,
    **changes: Any,
) -> Event:
    payload: dict[str, Any] = {
        "delivery_id": str(delivery_id),
        "edxml_document_id": f"{SENDER},2026/01/01,{delivery_id.hex[:8]}",
        "fields": fields(subject, **changes),
        "files": files or [],
    }
    if replaces is not None:
        payload["replaces_delivery_id"] = str(replaces)
    return _event(DELIVERY_RECEIVED, payload)


def revoked(
    delivery_id: uuid.UUID,
    revocation_id: uuid.UUID | None = None,
    tenant: uuid.UUID = TENANT,
) -> Event:
    return _event(
        DELIVERY_REVOKED,
        {
            "delivery_id": str(delivery_id),
            "revocation_id": str(revocation_id or uuid.uuid4()),
            "edxml_document_id": f"{SENDER},2026/01/01,{delivery_id.hex[:8]}",
            "sender_code": SENDER,
            "reason": "Văn bản ban hành sai thẩm quyền",
        },
        tenant,
    )


def updated(
    delivery_id: uuid.UUID,
    subject: str,
    *,
    update_id: uuid.UUID | None = None,
    files: list[dict[str, Any]] | None = None,
    **changes: Any,
) -> Event:
    return _event(
        DELIVERY_UPDATED,
        {
            "delivery_id": str(delivery_id),
            "update_id": str(update_id or uuid.uuid4()),
            "edxml_document_id": f"{SENDER},2026/01/01,{delivery_id.hex[:8]}",
            "sender_code": SENDER,
            "reason": "Sửa trích yếu",
            "fields": fields(subject, **changes),
            "files": files or [],
        },
    )


def assert_problem(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


# --------------------------------------------------------------------------- the tests


async def test_a_revocation_waits_on_the_card_and_the_clerk_agrees(docs: Docs, feed: Feed) -> None:
    delivery_id, document_id = await feed.arrive("Về việc tuyển dụng công chức (sẽ thu hồi)")
    card = f"/api/v1/incoming/{document_id}"
    registered = await docs.call("POST", f"{card}/register", "vanthu", json={})
    assert registered.status_code == 200, registered.text
    assigned = await docs.call(
        "POST",
        f"{card}/assignments",
        "chutich",
        json={"assignments": [{"assignee": "truongphong", "role": "lead"}]},
    )
    assert assigned.status_code == 200, assigned.text

    revocation_id = uuid.uuid4()
    await feed.send(revoked(delivery_id, revocation_id))
    shown = (await docs.call("GET", card, "vanthu")).json()
    assert shown["revoked"] is False
    [change] = shown["changes"]
    assert (change["business"], change["state"], change["reason"]) == (
        "revoke",
        "pending",
        "Văn bản ban hành sai thẩm quyền",
    )
    assert change["document_id"] == str(document_id)
    assert shown["history"][-1]["action"] == "incoming.change_requested"
    assert await feed.statuses(revocation_id) == []  # nothing goes back before the answer

    agreed = await docs.call("POST", f"{card}/changes/{change['id']}/accept", "vanthu")
    assert agreed.status_code == 200, agreed.text
    after = agreed.json()
    assert (after["state"], after["revoked"]) == ("revoked", True)
    [change] = after["changes"]
    assert (change["state"], change["answered_by"], change["automatic"]) == (
        "accepted",
        "vanthu",
        False,
    )
    assert after["history"][-1]["action"] == "incoming.change_accepted"
    [status] = await feed.statuses(revocation_id)
    assert (status["status"], status["document_id"], status["sender_code"]) == (
        "change_accepted",
        str(document_id),
        SENDER,
    )

    # Still readable, shown as revoked; out of the processing lists, its work cancelled.
    again = await docs.call("GET", card, "truongphong")
    assert again.status_code == 200
    assert again.json()["revoked"] is True
    for state in ("registered", "assigned"):
        page = (
            await docs.call("GET", "/api/v1/incoming", "vanthu", params={"state": state})
        ).json()
        assert str(document_id) not in {item["id"] for item in page["items"]}
    listed = await docs.call("GET", "/api/v1/incoming", "vanthu", params={"state": "revoked"})
    assert str(document_id) in {item["id"] for item in listed.json()["items"]}
    async with feed.db.transaction(TENANT, read_only=True) as conn:
        states = await conn.execute(
            select(assignment.c.state).where(assignment.c.document_id == document_id)
        )
        assert set(states.scalars()) == {"cancelled"}
        assert (await verify(conn, TENANT)).intact

    # Once agreed, the answer stands.
    twice = await docs.call(
        "POST", f"{card}/changes/{change['id']}/refuse", "vanthu", json={"reason": "Đổi ý"}
    )
    assert_problem(twice, 409)
    assert len(await feed.statuses(revocation_id)) == 1


async def test_an_update_refused_with_a_reason_goes_back_as_change_rejected(
    docs: Docs, feed: Feed
) -> None:
    delivery_id, document_id = await feed.arrive("Về việc thẩm định dự toán")
    update_id = uuid.uuid4()
    await feed.send(updated(delivery_id, "Về việc thẩm định dự toán năm 2026", update_id=update_id))
    card = f"/api/v1/incoming/{document_id}"
    [change] = (await docs.call("GET", card, "vanthu")).json()["changes"]
    assert (change["business"], change["state"]) == ("update", "pending")
    assert change["fields"]["subject"] == "Về việc thẩm định dự toán năm 2026"
    refuse = f"{card}/changes/{change['id']}/refuse"

    # Bad answers: refused with a clear 4xx, nothing written.
    for body in ({"reason": ""}, {"reason": "    "}, {}, {"reason": 12}):
        assert_problem(await docs.call("POST", refuse, "vanthu", json=body), 400)
    assert_problem(await docs.call("POST", refuse, "chuyenvien", json={"reason": "Không"}), 403)
    missing = f"{card}/changes/{uuid.uuid4()}/accept"
    assert_problem(await docs.call("POST", missing, "vanthu"), 404)
    assert (await feed.changes(TENANT, update_id))[0].state == "pending"
    assert await feed.statuses(update_id) == []

    reason = "Trích yếu cũ đúng với nội dung đã vào sổ"
    answered = await docs.call("POST", refuse, "vanthu", json={"reason": f"  {reason} "})
    assert answered.status_code == 200, answered.text
    after = answered.json()
    assert after["subject"] == "Về việc thẩm định dự toán"  # unchanged
    [change] = after["changes"]
    assert (change["state"], change["answer_reason"]) == ("refused", reason)
    assert after["history"][-1]["action"] == "incoming.change_refused"
    [status] = await feed.statuses(update_id)
    assert (status["status"], status["reason"]) == ("change_rejected", reason)

    # Answering twice: 409, and still one answer.
    assert_problem(await docs.call("POST", refuse, "vanthu", json={"reason": reason}), 409)
    accept = f"{card}/changes/{change['id']}/accept"
    assert_problem(await docs.call("POST", accept, "chutich"), 409)
    assert len(await feed.statuses(update_id)) == 1


async def test_an_agreed_update_applies_the_fields_and_files_and_keeps_the_old_ones(
    docs: Docs, feed: Feed
) -> None:
    old_file = await docs.stored("cong-van.pdf")
    delivery_id, document_id = await feed.arrive("Về việc kiểm tra văn thư", files=[old_file])
    new_file = await docs.stored("cong-van-sua.pdf")
    due = (dt.date.today() + dt.timedelta(days=20)).isoformat()
    update_id = uuid.uuid4()
    await feed.send(
        updated(
            delivery_id,
            "Về việc kiểm tra công tác văn thư, lưu trữ",
            update_id=update_id,
            files=[new_file],
            due_on=due,
        )
    )
    card = f"/api/v1/incoming/{document_id}"
    [change] = (await docs.call("GET", card, "vanthu")).json()["changes"]
    agreed = await docs.call("POST", f"{card}/changes/{change['id']}/accept", "phochutich")
    assert agreed.status_code == 200, agreed.text
    after = agreed.json()
    assert after["subject"] == "Về việc kiểm tra công tác văn thư, lưu trữ"
    assert after["due_on"] == due
    assert after["revoked"] is False
    assert [f["object_id"] for f in after["files"]] == [new_file["object_id"]]
    [change] = after["changes"]
    assert change["state"] == "accepted"
    assert change["previous"]["fields"]["subject"] == "Về việc kiểm tra văn thư"
    assert [f["object_id"] for f in change["previous"]["files"]] == [old_file["object_id"]]
    entry = after["history"][-1]
    assert entry["action"] == "incoming.change_accepted"
    assert entry["data"]["changed"]["subject"] == [
        "Về việc kiểm tra văn thư",
        "Về việc kiểm tra công tác văn thư, lưu trữ",
    ]
    [status] = await feed.statuses(update_id)
    assert status["status"] == "change_accepted"


async def test_the_same_request_twice_is_recorded_once(docs: Docs, feed: Feed) -> None:
    delivery_id, document_id = await feed.arrive("Về việc báo cáo định kỳ")
    revocation_id = uuid.uuid4()
    first = revoked(delivery_id, revocation_id)
    # The relay sent the same event again, and the sender's packet came twice (a new event).
    await feed.send(first, first, revoked(delivery_id, revocation_id))
    assert len(await feed.changes(TENANT, revocation_id)) == 1
    assert len(await feed.audit(document_id, "incoming.change_requested")) == 1
    [change] = (await docs.call("GET", f"/api/v1/incoming/{document_id}", "vanthu")).json()[
        "changes"
    ]
    assert change["state"] == "pending"

    # A replacement delivered twice is one new document and one request.
    replacement = uuid.uuid4()
    again = received(replacement, "Về việc báo cáo định kỳ (thay thế)", replaces=delivery_id)
    await feed.send(again, received(replacement, "Về việc báo cáo định kỳ", replaces=delivery_id))
    assert len(await feed.changes(TENANT, replacement)) == 1
    async with feed.db.transaction(TENANT, read_only=True) as conn:
        count = await conn.execute(
            select(func.count()).where(document.c.delivery_id == replacement)
        )
        assert count.scalar_one() == 1


async def test_a_request_about_a_document_never_received_is_refused_at_once(
    docs: Docs, feed: Feed
) -> None:
    revocation_id = uuid.uuid4()
    await feed.send(revoked(uuid.uuid4(), revocation_id))
    [change] = await feed.changes(TENANT, revocation_id)
    assert (change.state, change.document_id, change.business) == ("refused", None, "revoke")
    assert "chưa từng nhận" in change.answer_reason
    [status] = await feed.statuses(revocation_id)
    assert status["status"] == "change_rejected"
    assert status["reason"] == change.answer_reason
    assert len(await feed.audit(change.id, "incoming.change_refused")) == 1

    # An update whose corrected fields cannot stand is refused too, with the reason.
    delivery_id, document_id = await feed.arrive("Về việc hội nghị trực tuyến")
    future = (dt.date.today() + dt.timedelta(days=9)).isoformat()
    update_id = uuid.uuid4()
    await feed.send(
        updated(delivery_id, "Ngày ban hành sai", update_id=update_id, issued_on=future)
    )
    shown = (await docs.call("GET", f"/api/v1/incoming/{document_id}", "vanthu")).json()
    [change] = shown["changes"]
    assert (change["state"], change["automatic"]) == ("refused", True)
    assert "tương lai" in change["answer_reason"]
    [status] = await feed.statuses(update_id)
    assert status["status"] == "change_rejected"
    assert shown["subject"] == "Về việc hội nghị trực tuyến"


async def test_another_agency_cannot_see_or_answer_the_request(docs: Docs, feed: Feed) -> None:
    delivery_id, document_id = await feed.arrive("Về việc chỉ của tỉnh")
    revocation_id = uuid.uuid4()
    await feed.send(revoked(delivery_id, revocation_id))
    [change] = await feed.changes(TENANT, revocation_id)
    headers = docs.as_("vanthu.xa", agency=XA)
    base = f"/api/v1/incoming/{document_id}"
    assert (await docs.client.get(base, headers=headers)).status_code == 404
    accept = await docs.client.post(f"{base}/changes/{change.id}/accept", headers=headers)
    assert_problem(accept, 404)
    refuse = await docs.client.post(
        f"{base}/changes/{change.id}/refuse", json={"reason": "Không phải của xã"}, headers=headers
    )
    assert_problem(refuse, 404)
    assert await feed.changes(uuid.UUID(XA), revocation_id) == []
    [still] = await feed.changes(TENANT, revocation_id)
    assert still.state == "pending"
    assert await feed.statuses(revocation_id) == []


async def test_a_replacement_closes_the_document_it_replaces(docs: Docs, feed: Feed) -> None:
    old_delivery, old_id = await feed.arrive("Kế hoạch tổ chức hội nghị")
    new_delivery, new_id = await feed.arrive(
        "Kế hoạch tổ chức hội nghị (thay thế)", replaces=old_delivery
    )
    old_card = (await docs.call("GET", f"/api/v1/incoming/{old_id}", "vanthu")).json()
    [change] = old_card["changes"]
    assert (change["business"], change["state"], change["replacement_id"]) == (
        "replace",
        "pending",
        str(new_id),
    )
    # The new document shows the request that names it.
    new_card = (await docs.call("GET", f"/api/v1/incoming/{new_id}", "vanthu")).json()
    assert [c["id"] for c in new_card["changes"]] == [change["id"]]
    assert new_card["state"] == "waiting"

    agreed = await docs.call(
        "POST", f"/api/v1/incoming/{old_id}/changes/{change['id']}/accept", "chutich"
    )
    assert agreed.status_code == 200, agreed.text
    after = agreed.json()
    assert (after["state"], after["replaced_by"], after["revoked"]) == (
        "replaced",
        str(new_id),
        False,
    )
    [status] = await feed.statuses(new_delivery)
    assert (status["status"], status["document_id"]) == ("change_accepted", str(old_id))


# --------------------------------------------------------------------------- two provinces


@dataclass
class DocsBus(Bus):
    """The platforms' bus, also giving the docs services what the interchange service
    publishes for them beyond `delivery.received`: the requests about delivered documents,
    and the statuses of issued ones."""

    seen: int = 0

    async def pump(self) -> int:
        moved = await super().pump()
        fresh, self.seen = self.published[self.seen :], len(self.published)
        for event in fresh:
            instance = next(i for i in self.instances if event.tenant_id in i.ids)
            if event.topic in (DELIVERY_REVOKED, DELIVERY_UPDATED):
                await _apply(instance.docs_db, processed_event, "docs", event, on_incoming)
            elif event.topic == DELIVERY_STATUS:
                await _apply(
                    instance.docs_db, processed_event, "docs-outgoing", event, on_delivery_status
                )
        return moved


@pytest.fixture(scope="session")
def second_database() -> None:
    prepare_second_database()


@pytest.fixture
def axis_url() -> Iterator[str]:
    server = ServedSimulator(AxisSimulator(simulator_config()))
    server.start()
    yield server.url
    server.stop()


@pytest.fixture
async def provinces(second_database: None, axis_url: str) -> AsyncIterator[Provinces]:
    async with two_provinces(axis_url) as opened:
        opened.bus = DocsBus(opened.bus.instances)
        yield opened


async def test_a_revocation_and_an_update_between_two_provinces(provinces: Provinces) -> None:
    a, b = provinces.a, provinces.b
    (ubnd,) = await provinces.agencies(a, "UBND tỉnh A")
    (so_nv,) = await provinces.agencies(b, "Sở Nội vụ tỉnh B")
    issuer = OutgoingService(a.docs_db, AnyoneWorksHere(), Registry(a))
    clerk = principal(ubnd)

    async def issue(subject: str) -> uuid.UUID:
        stored = await a.upload(ubnd, "cong-van.pdf", pdf(subject, 6000))
        card = await issuer.create_draft(
            ubnd.id,
            clerk,
            DraftRequest(
                doc_type="CV",
                subject=subject,
                signer=clerk.username,
                file=FileRef(
                    object_id=uuid.UUID(stored["id"]),
                    file_name="cong-van.pdf",
                    sha256=stored["sha256"],
                    size=stored["size"],
                ),
                unit_abbr="VP",
                recipients=[Recipient(code=so_nv.code, name=so_nv.name)],
            ),
        )
        card = await issuer.submit(
            ubnd.id,
            clerk,
            card.id,
            SubmitRequest(content_reviewer=clerk.username, form_reviewer=clerk.username),
        )
        for step in card.steps:
            card = await issuer.approve_step(ubnd.id, clerk, card.id, step.id, "")
        card = await issuer.issue(ubnd.id, clerk, card.id, IssueRequest())
        return card.id

    revoked_id = await issue("V/v tổ chức kiểm tra (sẽ thu hồi)")
    updated_id = await issue("V/v báo cáo số liệu (sẽ cập nhật)")
    await provinces.settle()
    landed = {d.subject: d for d in await b.documents(so_nv)}
    assert set(landed) == {"V/v tổ chức kiểm tra (sẽ thu hồi)", "V/v báo cáo số liệu (sẽ cập nhật)"}

    await issuer.revoke(ubnd.id, clerk, revoked_id, "Ban hành sai thẩm quyền")
    await issuer.update_issued(
        ubnd.id,
        clerk,
        updated_id,
        OutgoingUpdate(reason="Sửa trích yếu", subject="V/v báo cáo số liệu quý I"),
    )
    await provinces.settle()

    # The recipient's docs service holds both requests, pending on the cards.
    recipient = principal(so_nv)
    answers = IncomingChanges(b.docs)
    target = landed["V/v tổ chức kiểm tra (sẽ thu hồi)"]
    [revocation] = (await b.docs.card(so_nv.id, recipient, target.id)).changes
    assert (revocation.business, revocation.state, revocation.reason) == (
        "revoke",
        "pending",
        "Ban hành sai thẩm quyền",
    )
    corrected = landed["V/v báo cáo số liệu (sẽ cập nhật)"]
    [update] = (await b.docs.card(so_nv.id, recipient, corrected.id)).changes
    assert update.business == "update"
    assert (update.fields or {})["subject"] == "V/v báo cáo số liệu quý I"

    card = await answers.accept(so_nv.id, recipient, target.id, revocation.id)
    assert card.revoked is True
    await answers.refuse(
        so_nv.id, recipient, corrected.id, update.id, "Số liệu đã tổng hợp theo trích yếu cũ"
    )
    await provinces.settle()

    # Every packet was acknowledged (01) on arrival; the agreement (15) and the refusal (16)
    # went out only when the recipient's clerk decided, once each.
    assert await b.rows(so_nv, dead_letter) == []
    answered = [
        row.status_code
        for row in await b.rows(
            so_nv, interchange_outgoing, interchange_outgoing.c.kind == "status"
        )
    ]
    assert sorted(answered) == ["01", "01", "01", "01", "15", "16"]

    # The issuer's cards show each recipient's answer.
    [change] = (await issuer.card(ubnd.id, revoked_id)).changes
    assert [(r.code, r.status) for r in change.recipients] == [(so_nv.code, "change_accepted")]
    [change] = (await issuer.card(ubnd.id, updated_id)).changes
    [answer] = change.recipients
    assert (answer.code, answer.status) == (so_nv.code, "change_rejected")
    assert answer.reason == "Số liệu đã tổng hợp theo trích yếu cũ"
