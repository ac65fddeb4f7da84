"""Bad input on the way in and out: each is refused with a clear reason, recorded as a dead
letter, answered to the sender when the packet could be read, and never registered (twice or
at all)."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from services.common.outbox import publish
from services.docs.tables import outbox as docs_outbox
from services.interchange.axis.client import MessageType
from services.interchange.connectors import service as connectors
from services.interchange.connectors.schemas import ConnectorRequest
from services.interchange.edxml import (
    Attachment,
    BusinessDocType,
    StatusCode,
    build_document,
    parse_status,
)
from services.interchange.tables import axis_receipt, dead_letter, inbox, outgoing
from tests.interchange.conftest import ServedSimulator
from tests.interchange.foreign import ForeignSystem, document, status
from tests.interchange.platforms import Tenant, pdf, rounds
from tests.interchange.provinces import Provinces, inject, one_province

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016">&lol3;</edXML>"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE edXML [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016">&secret;</edXML>"""


@pytest.fixture
async def province(served: ServedSimulator) -> AsyncIterator[Provinces]:
    async with one_province(served.url, max_packet_bytes=256 << 10) as opened:
        yield opened


@dataclasses.dataclass
class Scene:
    province: Provinces
    served: ServedSimulator
    ubnd: Tenant
    foreign: ForeignSystem


@pytest.fixture
async def scene(province: Provinces, served: ServedSimulator) -> Scene:
    (ubnd,) = await province.agencies(province.a, "UBND huyện Thử")
    return Scene(province, served, ubnd, await province.foreign())


async def letters(scene: Scene, tenant: Tenant | None = None) -> list[object]:
    return await scene.province.a.rows(tenant or scene.ubnd, dead_letter)


async def answers_to_foreign(scene: Scene) -> list[tuple[StatusCode, str | None]]:
    """Status packets that reached the foreign agency's mailbox: (code, description)."""
    client = scene.foreign.client
    found = []
    for item in await client.get_received_edoc_list(MessageType.STATUS):
        answer = parse_status(await client.get_edoc(item.doc_id))
        found.append((answer.code, answer.description))
    return found


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"<edXML><unclosed></edXML>", "edxml-malformed"),
        (BILLION_LAUGHS, "edxml-doctype"),
        (XXE, "edxml-doctype"),
        (b"<html xmlns='x'><body/></html>", "edxml-not-edxml"),
        (b"\xff\xfe<\x00e\x00", "edxml-encoding"),
    ],
    ids=["malformed", "billion-laughs", "external-entity", "not-edxml", "utf-16"],
)
async def test_a_hostile_or_broken_packet_is_refused_recorded_and_acknowledged_fail(
    scene: Scene, data: bytes, reason: str
) -> None:
    a = scene.province.a
    doc_id = inject(scene.served, sender=scene.foreign.code, recipient=scene.ubnd.code, data=data)

    await scene.province.settle()

    (letter,) = await letters(scene)
    assert letter.reason == reason
    assert letter.axis_doc_id == doc_id
    assert letter.direction == "incoming"
    assert letter.packet_id is not None  # kept for the operator to look at
    assert await a.rows(scene.ubnd, inbox) == []
    assert await a.documents(scene.ubnd) == []
    (receipt,) = await a.rows(scene.ubnd, axis_receipt)
    assert receipt.outcome == "refused"
    item = scene.served.simulator.axis.items[doc_id]
    assert item.status == "fail"
    assert item.status_desc  # the axis was told why, in ASCII
    assert await answers_to_foreign(scene) == []  # unreadable: nobody to answer


async def test_an_attachment_without_its_manifest_reference_is_refused(scene: Scene) -> None:
    packet = build_document(document(scene.foreign.code, [scene.ubnd.code], 5))
    # Rename the attachment's cid so that the manifest no longer names it.
    broken = packet.replace(
        b"<ContentId>cid:5-main</ContentId>", b"<ContentId>cid:other</ContentId>"
    )
    assert broken != packet
    inject(scene.served, sender=scene.foreign.code, recipient=scene.ubnd.code, data=broken)

    await scene.province.settle()

    (letter,) = await letters(scene)
    assert letter.reason.startswith("edxml-")
    assert "ContentId" in (letter.path or "") or "cid" in letter.detail.lower()
    assert await scene.province.a.documents(scene.ubnd) == []


async def test_a_packet_over_the_size_limit_is_refused_before_it_is_read(scene: Scene) -> None:
    # The service takes 256 KiB here (100 MiB by default); a 500 MB packet is refused the
    # same way, on the size the axis announces, before any of it is read.
    big = Attachment(
        content_id="big",
        name="bản đồ quy hoạch.pdf",
        content_type="application/pdf",
        content=pdf("big", 400 << 10),
    )
    await scene.foreign.send_document(
        document(scene.foreign.code, [scene.ubnd.code], 9, attachments=(big,)), [scene.ubnd.code]
    )

    await scene.province.settle()

    (letter,) = await letters(scene)
    assert letter.reason == "too-large"
    assert letter.packet_id is None  # never read, never stored
    assert await scene.province.a.documents(scene.ubnd) == []


async def test_the_same_document_arriving_twice_is_taken_once(scene: Scene) -> None:
    data = build_document(document(scene.foreign.code, [scene.ubnd.code], 21))
    first = await scene.foreign.send(data, [scene.ubnd.code])
    second = await scene.foreign.send(data, [scene.ubnd.code])
    assert first != second  # two axis items, one document

    await scene.province.settle()

    a = scene.province.a
    assert len(await a.documents(scene.ubnd)) == 1
    assert len(await a.rows(scene.ubnd, inbox, inbox.c.kind == "edoc")) == 1
    outcomes = sorted(r.outcome for r in await a.rows(scene.ubnd, axis_receipt))
    assert outcomes == ["accepted", "duplicate"]
    assert await letters(scene) == []
    # One "arrived" answer, not two.
    assert [code for code, _ in await answers_to_foreign(scene)] == [StatusCode.RECEIVED]


async def test_a_status_for_a_document_never_sent_is_refused(scene: Scene) -> None:
    unknown = f"{scene.ubnd.code},2026/02/20,77/UBND-VP"
    data = status(
        scene.foreign.code,
        unknown,
        StatusCode.ACCEPTED,
        issuer=scene.ubnd.code,
        number_symbol="77/UBND-VP",
    )
    await scene.foreign.send(data, [scene.ubnd.code], MessageType.STATUS)

    await scene.province.settle()

    (letter,) = await letters(scene)
    assert letter.reason == "status-for-unknown-document"
    assert letter.edxml_document_id == unknown
    assert scene.province.bus.of("delivery.status") == []
    assert await answers_to_foreign(scene) == []


async def test_a_revoke_for_an_unknown_document_is_refused_and_answered_16(
    scene: Scene,
) -> None:
    original = f"{scene.foreign.code},2026/02/27,3/SKHĐT-VP"
    revoke = document(
        scene.foreign.code,
        [scene.ubnd.code],
        4,
        attachments=(),
        business=BusinessDocType.REVOKE,
        original=original,
    )
    await scene.foreign.send_document(revoke, [scene.ubnd.code])

    await scene.province.settle()

    (letter,) = await letters(scene)
    assert letter.reason == "revoke-unknown-document"
    assert scene.province.bus.of("delivery.revoked") == []
    ((code, description),) = await answers_to_foreign(scene)
    assert code == StatusCode.CHANGE_REJECTED
    assert original in (description or "")


async def test_a_packet_addressed_to_someone_else_is_refused_and_answered_02(
    scene: Scene,
) -> None:
    elsewhere = document(scene.foreign.code, ["000.00.00.G22"], 6)
    inject(
        scene.served,
        sender=scene.foreign.code,
        recipient=scene.ubnd.code,
        data=build_document(elsewhere),
    )

    await scene.province.settle()

    (letter,) = await letters(scene)
    assert letter.reason == "not-addressed-to-us"
    ((code, description),) = await answers_to_foreign(scene)
    assert code == StatusCode.REJECTED
    assert scene.ubnd.code in (description or "")


async def test_an_attachment_storage_refuses_is_answered_02_and_nothing_is_kept(
    scene: Scene,
) -> None:
    program = Attachment(
        content_id="x",
        name="cài đặt.exe",
        content_type="application/octet-stream",
        content=b"MZ\x90\x00" + bytes(range(256)) * 8,
    )
    attachments = (*document(scene.foreign.code, [], 8).attachments, program)
    await scene.foreign.send_document(
        document(scene.foreign.code, [scene.ubnd.code], 8, attachments=attachments),
        [scene.ubnd.code],
    )

    await scene.province.settle()

    (letter,) = await letters(scene)
    assert letter.reason.startswith("storage-")
    assert await scene.province.a.documents(scene.ubnd) == []
    ((code, _),) = await answers_to_foreign(scene)
    assert code == StatusCode.REJECTED


async def test_recipient_codes_that_are_wrong_or_unknown_fail_alone(scene: Scene) -> None:
    a = scene.province.a
    (xa,) = await scene.province.agencies(a, "UBND xã Thử")
    unknown = "999.99.99.Y97"  # well-formed, known to nobody: the axis refuses it (18)
    outgoing_id = await a.issue(scene.ubnd, [xa, "not-a-code", unknown], number=3)

    await scene.province.settle()

    assert len(await a.documents(xa)) == 1
    reasons = sorted(letter.reason for letter in await letters(scene))
    assert reasons == ["axis-refused-18", "unknown-recipient"]
    statuses = {
        (s["recipient_code"], s["status"])
        for s in scene.province.bus.of("delivery.status", scene.ubnd)
        if s["outgoing_id"] == str(outgoing_id)
    }
    assert {("not-a-code", "failed"), (unknown, "failed"), (xa.code, "sent")} <= statuses


async def test_a_file_whose_hash_does_not_match_fails_the_document(scene: Scene) -> None:
    a = scene.province.a
    (xa,) = await scene.province.agencies(a, "UBND xã Thử")
    stored = await a.upload(scene.ubnd, "1-UBND.pdf", pdf("hash"))
    await a.issue(
        scene.ubnd,
        [xa],
        number=1,
        files=[
            {
                "object_id": stored["id"],
                "file_name": "1-UBND.pdf",
                "sha256": "0" * 64,
                "size": stored["size"],
            }
        ],
    )

    await scene.province.settle()

    (letter,) = await letters(scene)
    assert letter.reason == "attachment-hash-mismatch"
    assert await a.documents(xa) == []
    assert [s["status"] for s in scene.province.bus.of("delivery.status", scene.ubnd)] == ["failed"]


async def test_a_wrong_secret_is_a_connector_error_and_the_messages_wait(scene: Scene) -> None:
    a = scene.province.a
    ctx = a.runtime.ctx
    await connectors.upsert(ctx, scene.ubnd.id, ConnectorRequest(secret="not-the-secret"))
    await a.issue(scene.ubnd, [scene.foreign.code], number=2)
    await rounds(scene.province.bus, 5)

    view = await connectors.read(ctx, scene.ubnd.id)
    assert "15" in (view.health.last_error or "")  # sai SystemId/SecretKey
    assert view.health.outgoing_backlog == 1
    assert await letters(scene) == []  # the document is not at fault
    counters = (await scene.province.stats())["counters"]
    assert counters.get("refused_15", 0) >= 1

    await connectors.upsert(
        ctx, scene.ubnd.id, ConnectorRequest(secret=scene.province.systems["A"].secret)
    )
    await scene.province.settle()

    assert (await connectors.read(ctx, scene.ubnd.id)).health.outgoing_backlog == 0
    (sent,) = await a.rows(scene.ubnd, outgoing)
    assert sent.state == "sent"


async def test_events_that_make_no_sense_become_dead_letters(scene: Scene) -> None:
    a = scene.province.a
    async with a.docs_db.transaction(scene.ubnd.id) as conn:
        # A status for a delivery this agency never received.
        await publish(
            conn,
            docs_outbox,
            scene.ubnd.id,
            "document.status_changed",
            {
                "document_id": str(uuid.uuid4()),
                "status": "accepted",
                "delivery_id": str(uuid.uuid4()),
            },
        )
        # A paper document's status: nobody to answer, nothing recorded.
        await publish(
            conn,
            docs_outbox,
            scene.ubnd.id,
            "document.status_changed",
            {"document_id": str(uuid.uuid4()), "status": "accepted", "delivery_id": None},
        )
        # An issued document without its number.
        await publish(
            conn,
            docs_outbox,
            scene.ubnd.id,
            "document.issued",
            {"outgoing_id": str(uuid.uuid4()), "recipients": [{"code": scene.ubnd.code}]},
        )

    await scene.province.settle()

    found = sorted((letter.direction, letter.reason) for letter in await letters(scene))
    assert found == [("event", "invalid-event"), ("event", "unknown-delivery")]
    async with a.runtime.ctx.db.transaction(scene.ubnd.id, read_only=True) as conn:
        events = (await conn.execute(select(dead_letter.c.event))).scalars().all()
    assert {e["topic"] for e in events} == {"document.status_changed", "document.issued"}
