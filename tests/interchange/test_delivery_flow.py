"""Two instances of the platform (two provinces, two databases) exchange documents through the
simulated national axis, and inside a province straight from inbox to inbox; the receiving
docs service registers, assigns, completes or returns them, and each step comes back to the
sender as an edXML status."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import AsyncIterator

import pytest

from services.common.outbox import publish
from services.docs.incoming.schemas import Assign, AssignmentRequest, Completion, Registration
from services.docs.tables import outbox as docs_outbox
from services.interchange.connectors import service as connectors
from services.interchange.tables import dead_letter, inbox, outgoing
from tests.interchange.conftest import ServedSimulator
from tests.interchange.platforms import pdf, prepare_second_database, principal, rounds
from tests.interchange.provinces import Provinces, two_provinces


@pytest.fixture(scope="session")
def second_database() -> None:
    prepare_second_database()


@pytest.fixture
async def provinces(second_database: None, served: ServedSimulator) -> AsyncIterator[Provinces]:
    async with two_provinces(served.url) as opened:
        yield opened


async def test_a_document_reaches_another_province_and_a_local_agency_once(
    provinces: Provinces,
) -> None:
    a, b, bus = provinces.a, provinces.b, provinces.bus
    ubnd, so_tc = await provinces.agencies(a, "UBND tỉnh A", "Sở Tài chính tỉnh A")
    (so_nv,) = await provinces.agencies(b, "Sở Nội vụ tỉnh B")
    content = pdf("công văn 12")
    stored = await a.upload(ubnd, "12-UBND-VP.pdf", content)
    await a.issue(
        ubnd,
        [so_nv, so_tc],
        number=12,
        files=[
            {
                "object_id": stored["id"],
                "file_name": "12-UBND-VP.pdf",
                "sha256": stored["sha256"],
                "size": stored["size"],
                "role": "main",
            }
        ],
    )

    await provinces.settle()

    for instance, tenant in ((b, so_nv), (a, so_tc)):
        (landed,) = await instance.documents(tenant)
        assert landed.number_symbol == "12/UBND-VP"
        assert landed.sender_code == ubnd.code
        assert landed.sender_name == "UBND tỉnh A"
        assert landed.state == "waiting"
        (file,) = await instance.document_files(tenant, landed.id)
        assert file.sha256 == hashlib.sha256(content).hexdigest()
    routes = {row.recipient_code: row.route for row in await a.rows(ubnd, outgoing)}
    assert routes == {so_nv.code: "axis", so_tc.code: "local"}
    # Each recipient's system said "arrived" (01) on its own.
    assert {(s["recipient_code"], s["status"]) for s in bus.of("delivery.status", ubnd)} == {
        (so_nv.code, "sent"),
        (so_tc.code, "sent"),
        (so_nv.code, "received"),
        (so_tc.code, "received"),
    }


async def test_statuses_of_processing_come_back_to_the_sender(provinces: Provinces) -> None:
    a, b, bus = provinces.a, provinces.b, provinces.bus
    (ubnd,) = await provinces.agencies(a, "UBND tỉnh A")
    (so_tc,) = await provinces.agencies(a, "Sở Tài chính tỉnh A")
    so_nv, so_yt = await provinces.agencies(b, "Sở Nội vụ tỉnh B", "Sở Y tế tỉnh B")
    await a.issue(ubnd, [so_nv, so_yt, so_tc], number=31)
    await provinces.settle()
    (at_nv,) = await b.documents(so_nv)
    (at_yt,) = await b.documents(so_yt)
    (at_tc,) = await a.documents(so_tc)

    # Sở Nội vụ registers, assigns and completes; Sở Y tế returns it; Sở Tài chính registers.
    clerk = principal(so_nv)
    await b.docs.register(so_nv.id, clerk, at_nv.id, Registration())
    await b.docs.assign(
        so_nv.id,
        clerk,
        at_nv.id,
        Assign(assignments=[AssignmentRequest(assignee="vanthu", role="lead")]),
    )
    await b.docs.complete(so_nv.id, clerk, at_nv.id, Completion(result="Đã báo cáo UBND tỉnh."))
    await b.docs.return_to_sender(
        so_yt.id, principal(so_yt), at_yt.id, "Không thuộc thẩm quyền giải quyết của Sở Y tế."
    )
    await a.docs.register(so_tc.id, principal(so_tc), at_tc.id, Registration())
    await provinces.settle()

    lines = {row.recipient_code: row for row in await a.rows(ubnd, outgoing)}
    assert lines[so_nv.code].receipt_code == "06"
    assert lines[so_yt.code].receipt_code == "02"
    assert lines[so_yt.code].receipt_description == "Không thuộc thẩm quyền giải quyết của Sở Y tế."
    assert lines[so_tc.code].receipt_code == "03"
    reported = [(s["recipient_code"], s["code"]) for s in bus.of("delivery.status", ubnd)]
    assert [code for who, code in reported if who == so_nv.code] == [
        None,  # sent
        "01",
        "03",
        "04",
        "06",
    ]
    # The answers travelled as status packets, each kept once in the sender's inbox.
    statuses = await a.rows(ubnd, inbox, inbox.c.kind == "status")
    assert sorted(row.status_code for row in statuses) == sorted(
        ["01", "03", "04", "06", "01", "02", "01", "03"]
    )


async def test_a_revocation_is_acknowledged_then_answered_15_once_the_recipient_agrees(
    provinces: Provinces,
) -> None:
    a, b, bus = provinces.a, provinces.b, provinces.bus
    (ubnd,) = await provinces.agencies(a, "UBND tỉnh A")
    (so_nv,) = await provinces.agencies(b, "Sở Nội vụ tỉnh B")
    original = await a.issue(ubnd, [so_nv], number=40)
    await provinces.settle()
    await a.issue(
        ubnd,
        [so_nv],
        number=41,
        business="revoke",
        target_id=str(original),
        reason="Văn bản ban hành sai thẩm quyền",
    )
    await provinces.settle()

    (received,) = await b.rows(so_nv, inbox, inbox.c.business == "new")
    assert received.state == "revoked"
    (revoked,) = bus.of("delivery.revoked", so_nv)
    assert revoked["delivery_id"] == str(received.id)
    assert revoked["reason"] == "Văn bản ban hành sai thẩm quyền"
    revoke_line = [row for row in await a.rows(ubnd, outgoing) if row.business == "revoke"]
    # Acknowledged only: agreeing is the receiving agency's decision, which docs sends.
    assert [row.change_code for row in revoke_line] == [None]
    async with b.docs_db.transaction(so_nv.id) as conn:
        await publish(
            conn,
            docs_outbox,
            so_nv.id,
            "document.status_changed",
            {"status": "change_accepted", "delivery_id": revoked["revocation_id"]},
        )
    await provinces.settle()
    revoke_line = [row for row in await a.rows(ubnd, outgoing) if row.business == "revoke"]
    assert [row.change_code for row in revoke_line] == ["15"]
    assert any(s["status"] == "change_accepted" for s in bus.of("delivery.status", ubnd))


async def test_with_every_fault_switched_on_nothing_is_lost_or_taken_twice(
    provinces: Provinces,
) -> None:
    a, b, bus = provinces.a, provinces.b, provinces.bus
    ubnd, so_tc = await provinces.agencies(a, "UBND tỉnh A", "Sở Tài chính tỉnh A")
    so_nv, so_yt = await provinces.agencies(b, "Sở Nội vụ tỉnh B", "Sở Y tế tỉnh B")
    for tenant in (ubnd, so_tc, so_nv, so_yt):
        instance = a if tenant in (ubnd, so_tc) else b
        # Short timeouts: a request the axis holds is given up quickly (and retried).
        await instance.connect(
            tenant, provinces.axis_url, provinces.systems[instance.name], timeout_seconds=0.5
        )
    await provinces.faults(
        error_rate=0.1,
        hang_rate=0.02,
        hang_seconds=5,
        duplicate_rate=0.3,
        reorder=True,
        drop_upload_rate=0.1,
        drop_response_rate=0.05,
    )
    for number in range(1, 9):
        await a.issue(ubnd, [so_nv, so_yt], number=number)
    for number in range(1, 5):
        await b.issue(so_nv, [so_tc], number=100 + number, notation="SNV-VP")

    await provinces.settle(limit=400)

    stats = await provinces.stats()
    assert stats["counters"].get("duplicated_deliveries", 0) > 0  # the faults did happen
    assert stats["counters"].get("errors", 0) > 0
    for instance, tenant, expected in ((b, so_nv, 8), (b, so_yt, 8), (a, so_tc, 4)):
        landed = await instance.documents(tenant)
        numbers = sorted(d.number_symbol for d in landed)
        assert len(numbers) == expected == len(set(numbers)), (tenant.name, numbers)
    # Every recipient's 01 came back once per document, whatever the axis did to it.
    arrived = [
        (s["outgoing_id"], s["recipient_code"])
        for s in bus.of("delivery.status", ubnd)
        if s["status"] == "received"
    ]
    assert len(arrived) == 16 == len(set(arrived))
    assert stats["pending"] == {}  # the mailboxes are empty: everything was acknowledged


async def test_the_axis_down_for_an_hour_holds_the_backlog_which_drains_in_order_after(
    provinces: Provinces,
) -> None:
    a, b = provinces.a, provinces.b
    ubnd, so_tc = await provinces.agencies(a, "UBND tỉnh A", "Sở Tài chính tỉnh A")
    so_nv, so_yt = await provinces.agencies(b, "Sở Nội vụ tỉnh B", "Sở Y tế tỉnh B")
    await provinces.faults(error_rate=1.0)  # every axis operation answers 503
    for number in range(1, 11):
        await a.issue(ubnd, [so_nv, so_yt], number=number)
    await a.issue(ubnd, [so_tc], number=99)  # inside the province: no axis needed

    # An hour of outage, in five-minute steps of the fake clock.
    await rounds(provinces.bus, 12, step=dt.timedelta(minutes=5))

    view = await connectors.read(a.runtime.ctx, ubnd.id)
    assert view.health.failures >= 3
    assert "503" in (view.health.last_error or "")
    assert view.health.outgoing_backlog == 20
    # Backoff grew, but never past its cap.
    assert view.health.retry_at is not None
    assert view.health.retry_at - a.clock.now <= dt.timedelta(
        seconds=a.settings.backoff_cap_seconds
    )
    assert await b.documents(so_nv) == []
    assert [d.number_symbol for d in await a.documents(so_tc)] == ["99/UBND-VP"]
    assert not await a.rows(ubnd, dead_letter)  # waiting is not failing

    await provinces.faults()  # the axis is back
    await provinces.settle(step=dt.timedelta(minutes=1))

    expected = [f"{n}/UBND-VP" for n in range(1, 11)]
    for tenant in (so_nv, so_yt):
        taken = await b.rows(tenant, inbox, inbox.c.kind == "edoc")
        assert [row.code_text for row in taken] == expected  # in issue order
        assert len(await b.documents(tenant)) == 10
    healthy = await connectors.read(a.runtime.ctx, ubnd.id)
    assert healthy.health.failures == 0
    assert healthy.health.outgoing_backlog == 0
