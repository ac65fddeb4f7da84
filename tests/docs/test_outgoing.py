"""Outgoing documents from draft to issue, with real tokens: opinions, review, approval,
numbering with the symbol built per NĐ 30, and dispatch events for electronic recipients.

The demo province's signing credentials are seeded as `qlvb seed-demo` seeds them (a demo CA
made with `cryptography`, the demo PIN), and the leader and the clerk sign with them: what the
people of `make run` do. The signatures' own rules are in test_outgoing_signatures.py."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from services.common.db import Database
from services.docs.registers.numbering import next_number
from services.docs.registers.service import OUTGOING, create_register
from services.docs.settings import load as load_docs
from services.docs.signatures.demo import demo_pin, seed_demo_signing
from services.docs.signatures.desk import credential_box
from services.docs.signing import TrustStore, Verdict, validate_pdf
from services.docs.signing.trust import load_certificates
from services.docs.tables import outbox, signing_trust_anchor
from tests.docs.conftest import UBND_TINH, Docs
from tests.signing.documents import draft_pdf

STC, SNV = "000.00.05.H44", "000.00.09.H44"
BO_NOI_VU = "000.00.00.G09"


@pytest.fixture(scope="module", autouse=True)
def short_retention() -> Iterator[None]:
    """Issued files go under object lock (compliance mode: nobody can lift it); two days is
    enough for the tests' bucket."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("QLVB_DOCS_ISSUED_RETENTION_DAYS", "2")
        yield


@pytest.fixture(scope="module")
async def demo_signing(province: dict[str, Any]) -> str:
    """The demo credentials of `qlvb seed-demo`, back in place of any another test enrolled;
    returns the demo PIN."""
    settings = load_docs()
    box = credential_box(settings)
    assert box is not None
    db = Database.from_url(settings.database_url, pool_size=1)
    try:
        await seed_demo_signing(db, province, box, restore=True)
    finally:
        await db.dispose()
    return demo_pin(province)


async def file_ref(docs: Docs, seed: str) -> dict[str, Any]:
    """A draft file really stored (a document never points at a file that is not there): a
    real PDF, since it is signed."""
    return await docs.stored(f"Dự thảo {seed}.pdf", draft_pdf(pages=1 + len(seed) % 2))


async def demo_trust() -> TrustStore:
    """What the agency trusts: the demo CA the seed made its trust anchor."""
    db = Database.from_url(os.environ["QLVB_DOCS_DATABASE_URL"], pool_size=1)
    try:
        async with db.transaction(uuid.UUID(UBND_TINH), read_only=True) as conn:
            roots = (await conn.execute(select(signing_trust_anchor.c.certificate))).scalars()
            return TrustStore(roots=tuple(load_certificates(bytes(r))[0] for r in roots))
    finally:
        await db.dispose()


async def draft(docs: Docs, subject: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "doc_type": "QĐ",
        "subject": subject,
        "signer": "chutich",
        "authority": "TM.",
        "file": await file_ref(docs, subject),
        "recipients": [
            {"code": STC},
            {"code": SNV},
            {"code": BO_NOI_VU, "name": "Bộ Nội vụ"},
        ],
    }
    body.update(changes)
    return body


async def step_id(card: dict[str, Any], kind: str) -> str:
    return next(s["id"] for s in card["steps"] if s["kind"] == kind and s["state"] == "pending")


async def issued_events(outgoing_id: str) -> list[dict[str, Any]]:
    db = Database.from_url(os.environ["QLVB_DOCS_DATABASE_URL"], pool_size=1)
    try:
        async with db.transaction(uuid.UUID(UBND_TINH), read_only=True) as conn:
            rows = await conn.execute(
                select(outbox.c.payload).where(outbox.c.topic == "document.issued")
            )
            return [r.payload for r in rows if r.payload["outgoing_id"] == outgoing_id]
    finally:
        await db.dispose()


async def test_draft_opinions_review_approve_issue(docs: Docs, demo_signing: str) -> None:
    created = await docs.call(
        "POST",
        "/api/v1/outgoing",
        "chuyenvien",
        json=await draft(docs, "Quyết định phê duyệt kế hoạch"),
    )
    assert created.status_code == 201, created.text
    card = created.json()
    outgoing_id = card["id"]
    assert card["state"] == "draft"
    names = {r["code"]: r["name"] for r in card["recipients"]}
    assert names[BO_NOI_VU] == "Bộ Nội vụ"  # outside the province: the drafter's name
    assert names[STC].startswith("Sở Tài chính")  # inside: the registry's name

    second = await docs.call(
        "POST",
        f"/api/v1/outgoing/{outgoing_id}/versions",
        "chuyenvien",
        json={"file": await file_ref(docs, "bản 2"), "note": "Sửa theo góp ý"},
    )
    assert second.status_code == 200
    compared = await docs.call(
        "GET",
        f"/api/v1/outgoing/{outgoing_id}/versions/compare",
        "chuyenvien",
        params={"a": 1, "b": 2},
    )
    assert compared.json()["same_content"] is False

    asked = await docs.call(
        "POST",
        f"/api/v1/outgoing/{outgoing_id}/opinions",
        "chuyenvien",
        json={"assignees": ["truongphong", "phochutich"]},
    )
    assert asked.status_code == 200, asked.text
    opinion = next(s["id"] for s in asked.json()["steps"] if s["assignee"] == "truongphong")
    answered = await docs.call(
        "POST",
        f"/api/v1/outgoing/{outgoing_id}/opinions/{opinion}",
        "truongphong",
        json={"answer": "agree", "comment": "Thống nhất"},
    )
    assert answered.status_code == 200
    report = (
        await docs.call("GET", f"/api/v1/outgoing/{outgoing_id}/opinions", "chuyenvien")
    ).json()
    assert (report["agree"], report["waiting"]) == (1, 1)

    submitted = await docs.call(
        "POST",
        f"/api/v1/outgoing/{outgoing_id}/submit",
        "chuyenvien",
        json={"content_reviewer": "truongphong", "form_reviewer": "vanthu"},
    )
    assert submitted.status_code == 200, submitted.text
    card = submitted.json()

    # The form reviewer cannot act before the content reviewer.
    form_step = next(s["id"] for s in card["steps"] if s["kind"] == "form_review")
    early = await docs.call(
        "POST", f"/api/v1/outgoing/{outgoing_id}/steps/{form_step}/approve", "vanthu", json={}
    )
    assert early.status_code == 409

    for kind, user in (("content_review", "truongphong"), ("form_review", "vanthu")):
        step = await step_id(card, kind)
        decided = await docs.call(
            "POST",
            f"/api/v1/outgoing/{outgoing_id}/steps/{step}/approve",
            user,
            json={"comment": "Đồng ý"},
        )
        assert decided.status_code == 200, (kind, decided.text)
        card = decided.json()
    # The leader approves by signing, with the demo key the seed gave them.
    signed = await docs.call(
        "POST", f"/api/v1/outgoing/{outgoing_id}/sign", "chutich", json={"pin": demo_signing}
    )
    assert signed.status_code == 200, signed.text
    card = signed.json()
    assert card["state"] == "approved"
    assert [s["kind"] for s in card["signatures"]] == ["leader"]

    too_late = await docs.call(
        "POST",
        f"/api/v1/outgoing/{outgoing_id}/versions",
        "chuyenvien",
        json={"file": await file_ref(docs, "bản 3")},
    )
    assert too_late.status_code == 409

    not_clerk = await docs.call("POST", f"/api/v1/outgoing/{outgoing_id}/issue", "chutich", json={})
    assert not_clerk.status_code == 403
    issued = await docs.call(
        "POST", f"/api/v1/outgoing/{outgoing_id}/issue", "vanthu", json={"pin": demo_signing}
    )
    assert issued.status_code == 200, issued.text
    final = issued.json()
    assert final["state"] == "issued"
    number, symbol = final["number_symbol"].split("/", 1)
    assert symbol == "QĐ-UBND"
    assert len(number) >= 2
    assert [s["kind"] for s in final["signatures"]] == ["leader", "seal"]
    again = await docs.call("POST", f"/api/v1/outgoing/{outgoing_id}/issue", "vanthu", json={})
    assert again.status_code == 409

    [event] = await issued_events(outgoing_id)
    assert event["number_symbol"] == final["number_symbol"]
    assert sorted(r["code"] for r in event["recipients"]) == sorted([STC, SNV, BO_NOI_VU])
    # What goes out is the signed original, named after its number.
    sent = event["files"][0]
    assert sent["file_name"] == final["number_symbol"].replace("/", "-") + ".pdf"
    assert sent["sha256"] == final["current_file"]["sha256"] == final["signatures"][-1]["sha256"]
    content = await docs.storage.get(
        f"/api/v1/objects/{sent['object_id']}/content",
        headers={
            "Authorization": f"Bearer {await docs.service_token.token()}",
            "X-Agency-Id": UBND_TINH,
        },
    )
    report = await validate_pdf(content.content, await demo_trust())
    assert report.verdict is Verdict.VALID, [s.problems for s in report.signatures]
    assert [s.signer.common_name for s in report.signatures] == [
        "Đỗ Văn Quốc",
        "Ủy ban nhân dân tỉnh Phú Thọ",
    ]


async def test_a_return_sends_the_draft_back(docs: Docs) -> None:
    card = (
        await docs.call(
            "POST", "/api/v1/outgoing", "chuyenvien", json=await draft(docs, "Bị trả lại")
        )
    ).json()
    card = (
        await docs.call(
            "POST",
            f"/api/v1/outgoing/{card['id']}/submit",
            "chuyenvien",
            json={"content_reviewer": "truongphong", "form_reviewer": "vanthu"},
        )
    ).json()
    step = await step_id(card, "content_review")
    returned = await docs.call(
        "POST",
        f"/api/v1/outgoing/{card['id']}/steps/{step}/return",
        "truongphong",
        json={"reason": "Cần bổ sung căn cứ pháp lý"},
    )
    assert returned.status_code == 200
    assert returned.json()["state"] == "draft"
    cannot_issue = await docs.call(
        "POST", f"/api/v1/outgoing/{card['id']}/issue", "vanthu", json={}
    )
    assert cannot_issue.status_code == 409


async def test_bad_drafts_are_refused(docs: Docs) -> None:
    secret_online = await draft(docs, "Kế hoạch mật", confidentiality="mat")
    refused = await docs.call("POST", "/api/v1/outgoing", "chuyenvien", json=secret_online)
    assert refused.status_code == 400
    assert "bí mật nhà nước" in refused.json()["detail"]

    on_paper = await draft(
        docs,
        "Kế hoạch mật gửi bản giấy",
        confidentiality="mat",
        recipients=[{"code": STC, "electronic": False}],
    )
    assert (
        await docs.call("POST", "/api/v1/outgoing", "chuyenvien", json=on_paper)
    ).status_code == 201

    for body in (
        await draft(docs, "Mã sai", recipients=[{"code": "H44-STC"}]),
        await draft(docs, "Ngoài tỉnh không tên", recipients=[{"code": "000.00.00.G12"}]),
        await draft(docs, "Người ký lạ", signer="vanthu.xa"),
        await draft(docs, "Loại lạ", doc_type="ABC"),
    ):
        response = await docs.call("POST", "/api/v1/outgoing", "chuyenvien", json=body)
        assert response.status_code == 400, (body["subject"], response.text)


async def test_reserved_numbers_for_paper_originals(docs: Docs) -> None:
    reserved = await docs.call("POST", "/api/v1/outgoing/reservations", "vanthu", json={"count": 2})
    assert reserved.status_code == 201, reserved.text
    numbers = reserved.json()["numbers"]
    assert numbers[1] == numbers[0] + 1
    assert (
        await docs.call("POST", "/api/v1/outgoing/reservations", "chuyenvien", json={})
    ).status_code == 403


async def test_five_hundred_concurrent_allocations_in_one_series() -> None:
    db = Database.from_url(os.environ["QLVB_DOCS_DATABASE_URL"], pool_size=20)
    tenant = uuid.uuid4()
    try:
        async with db.transaction(tenant) as conn:
            book = await create_register(conn, tenant, OUTGOING, "Sổ văn bản đi", False)

        async def allocate() -> int:
            async with db.transaction(tenant) as conn:
                return await next_number(conn, tenant, book.id, 2026)

        numbers = await asyncio.gather(*(allocate() for _ in range(500)))
    finally:
        await db.dispose()
    assert sorted(numbers) == list(range(1, 501))


async def test_recipient_statuses_come_back_onto_the_card(docs: Docs, demo_signing: str) -> None:
    import datetime as dt

    from redis.asyncio import Redis

    from services.common.outbox import Event, EventConsumer, encode_event, stream_name
    from services.docs.consumers import DELIVERY_STATUS, on_delivery_status
    from services.docs.tables import processed_event

    card = (
        await docs.call(
            "POST", "/api/v1/outgoing", "chuyenvien", json=await draft(docs, "Gửi và theo dõi")
        )
    ).json()
    outgoing_id = card["id"]
    card = (
        await docs.call(
            "POST",
            f"/api/v1/outgoing/{outgoing_id}/submit",
            "chuyenvien",
            json={"content_reviewer": "truongphong", "form_reviewer": "vanthu"},
        )
    ).json()
    for kind, user in (("content_review", "truongphong"), ("form_review", "vanthu")):
        step = await step_id(card, kind)
        card = (
            await docs.call(
                "POST", f"/api/v1/outgoing/{outgoing_id}/steps/{step}/approve", user, json={}
            )
        ).json()
    signed = await docs.call(
        "POST", f"/api/v1/outgoing/{outgoing_id}/sign", "chutich", json={"pin": demo_signing}
    )
    assert signed.status_code == 200, signed.text
    issued = await docs.call(
        "POST", f"/api/v1/outgoing/{outgoing_id}/issue", "vanthu", json={"pin": demo_signing}
    )
    assert issued.status_code == 200, issued.text
    assert {r["status"] for r in issued.json()["recipients"]} == {"sending"}

    redis = Redis.from_url(os.environ["QLVB_REDIS_URL"])
    db = Database.from_url(os.environ["QLVB_DOCS_DATABASE_URL"], pool_size=1)
    group = f"docs-outgoing-test-{uuid.uuid4().hex[:6]}"
    stream = stream_name(DELIVERY_STATUS)
    consumer = EventConsumer(
        redis=redis,
        db=db,
        processed=processed_event,
        group=group,
        topics=[DELIVERY_STATUS],
        handler=on_delivery_status,
    )
    try:
        await consumer.ensure_groups()
        await redis.xgroup_setid(stream, group, id="$")

        def status(code: str, value: str, description: str | None = None) -> Event:
            return Event(
                id=uuid.uuid4(),
                topic=DELIVERY_STATUS,
                tenant_id=uuid.UUID(UBND_TINH),
                occurred_at=dt.datetime.now(dt.UTC),
                payload={
                    "outgoing_id": outgoing_id,
                    "business": "new",
                    "edxml_document_id": None,
                    "recipient_code": code,
                    "status": value,
                    "description": description,
                    "at": dt.datetime.now(dt.UTC).isoformat(),
                },
            )

        for event in (
            status(STC, "completed"),
            status(STC, "received"),  # late and out of order: must not undo "completed"
            status(BO_NOI_VU, "rejected", "Không đúng thẩm quyền"),
        ):
            await redis.xadd(stream, encode_event(event))
        handled = 0
        for _ in range(10):
            handled += await consumer.consume_once(block_ms=100)
            if handled >= 3:
                break
        assert handled == 3
    finally:
        await redis.xgroup_destroy(stream, group)
        await redis.aclose()
        await db.dispose()

    final = (await docs.call("GET", f"/api/v1/outgoing/{outgoing_id}", "vanthu")).json()
    by_code = {r["code"]: r for r in final["recipients"]}
    assert by_code[STC]["status"] == "completed"
    assert (by_code[BO_NOI_VU]["status"], by_code[BO_NOI_VU]["reason"]) == (
        "rejected",
        "Không đúng thẩm quyền",
    )
    assert by_code[SNV]["status"] == "sending"


async def test_a_document_never_points_at_a_missing_or_different_file(docs: Docs) -> None:
    real = await docs.stored("Dự thảo thật.pdf")
    missing = {**real, "object_id": str(uuid.uuid4())}
    altered = {**real, "sha256": "0" * 64}
    for ref in (missing, altered):
        body = await draft(docs, "Tệp không khớp")
        body["file"] = ref
        response = await docs.call("POST", "/api/v1/outgoing", "chuyenvien", json=body)
        assert response.status_code == 400, response.text
    paper = {
        "sender_name": "Bộ Nội vụ",
        "number_symbol": "77/BNV-TCBC",
        "doc_type": "CV",
        "issued_on": "2026-11-02",
        "subject": "Văn bản có tệp không tồn tại",
        "files": [missing],
    }
    refused = await docs.call("POST", "/api/v1/incoming", "vanthu", json=paper)
    assert refused.status_code == 400
    listed = await docs.call("GET", "/api/v1/incoming", "vanthu", params={"q": "tep khong ton tai"})
    assert listed.json()["items"] == []


async def test_another_agency_cannot_see_or_act_on_an_outgoing_document(docs: Docs) -> None:
    created = await docs.call(
        "POST", "/api/v1/outgoing", "chuyenvien", json=await draft(docs, "Của tỉnh")
    )
    outgoing_id = created.json()["id"]
    xa = docs.as_("vanthu.xa", agency="07c7e4ab-dbea-5483-8930-cfa839d6beae")
    assert (await docs.client.get(f"/api/v1/outgoing/{outgoing_id}", headers=xa)).status_code == 404
    issue = await docs.client.post(f"/api/v1/outgoing/{outgoing_id}/issue", json={}, headers=xa)
    assert issue.status_code == 404
    anonymous = await docs.client.get(f"/api/v1/outgoing/{outgoing_id}")
    assert anonymous.status_code == 401
