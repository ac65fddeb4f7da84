"""After a document went out: updates, replacements and recalls, and the answers to them; the
rate limit of a connector; SDK-compressed attachments on the way in."""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections.abc import AsyncIterator

import pytest

from services.common.outbox import publish
from services.docs.tables import outbox as docs_outbox
from services.interchange.axis.client import MessageType
from services.interchange.connectors.service import backoff
from services.interchange.deliveries import mapping
from services.interchange.edxml import Attachment, StatusCode, parse_status
from services.interchange.tables import inbox, outgoing
from tests.interchange.conftest import ServedSimulator
from tests.interchange.foreign import document, status
from tests.interchange.platforms import pdf, prepare_second_database, rounds
from tests.interchange.provinces import Provinces, one_province, two_provinces
from tests.interchange.samples import zipped


@pytest.fixture(scope="session")
def second_database() -> None:
    prepare_second_database()


@pytest.fixture
async def provinces(second_database: None, served: ServedSimulator) -> AsyncIterator[Provinces]:
    async with two_provinces(served.url) as opened:
        yield opened


@pytest.fixture
async def province(served: ServedSimulator) -> AsyncIterator[Provinces]:
    async with one_province(served.url) as opened:
        yield opened


async def test_an_update_reaches_the_recipient_and_its_answer_comes_back_15(
    provinces: Provinces,
) -> None:
    a, b, bus = provinces.a, provinces.b, provinces.bus
    (ubnd,) = await provinces.agencies(a, "UBND tỉnh A")
    (so_nv,) = await provinces.agencies(b, "Sở Nội vụ tỉnh B")
    original = await a.issue(ubnd, [so_nv], number=50)
    await provinces.settle()
    await a.issue(
        ubnd,
        [so_nv],
        number=50,
        business="update",
        target_id=str(original),
        subject="V/v thử nghiệm liên thông văn bản số 50 (sửa trích yếu)",
        reason="Sửa trích yếu",
    )
    await provinces.settle()

    (updated,) = bus.of("delivery.updated", so_nv)
    (first,) = await b.rows(so_nv, inbox, inbox.c.business == "new")
    assert updated["delivery_id"] == str(first.id)
    assert updated["fields"]["subject"].endswith("(sửa trích yếu)")
    assert updated["reason"] == "Sửa trích yếu"
    # The docs service accepts the change, naming the update.
    async with b.docs_db.transaction(so_nv.id) as conn:
        await publish(
            conn,
            docs_outbox,
            so_nv.id,
            "document.status_changed",
            {"status": "change_accepted", "delivery_id": updated["update_id"]},
        )
    await provinces.settle()

    (line,) = [row for row in await a.rows(ubnd, outgoing) if row.business == "update"]
    assert line.change_code == "15"
    assert len(await b.documents(so_nv)) == 1  # an update is not a second document


async def test_a_replacement_arrives_as_a_new_document_naming_the_one_it_replaces(
    provinces: Provinces,
) -> None:
    a, b, bus = provinces.a, provinces.b, provinces.bus
    (ubnd,) = await provinces.agencies(a, "UBND tỉnh A")
    (so_nv,) = await provinces.agencies(b, "Sở Nội vụ tỉnh B")
    original = await a.issue(ubnd, [so_nv], number=60)
    await provinces.settle()
    await a.issue(ubnd, [so_nv], number=61, business="replace", target_id=str(original))
    await provinces.settle()

    first, second = bus.of("delivery.received", so_nv)
    assert second["replaces_delivery_id"] == first["delivery_id"]
    assert "replaces_delivery_id" not in first
    assert sorted(d.number_symbol for d in await b.documents(so_nv)) == [
        "60/UBND-VP",
        "61/UBND-VP",
    ]


async def test_a_recall_by_the_sender_revokes_the_document_and_is_answered_15(
    province: Provinces,
) -> None:
    a = province.a
    (ubnd,) = await province.agencies(a, "UBND huyện Thử")
    foreign = await province.foreign()
    packet = document(foreign.code, [ubnd.code], 12)
    await foreign.send_document(packet, [ubnd.code])
    await province.settle()
    recall = status(
        foreign.code,
        packet.header.document_id,
        StatusCode.RECALLED,
        issuer=foreign.code,
        number_symbol=packet.header.code.text,
    )
    await foreign.send(recall, [ubnd.code], MessageType.STATUS)
    await province.settle()

    (taken,) = await a.rows(ubnd, inbox, inbox.c.business == "new")
    assert taken.state == "revoked"
    (revoked,) = province.bus.of("delivery.revoked", ubnd)
    assert revoked["delivery_id"] == str(taken.id)
    answers = []
    for item in await foreign.client.get_received_edoc_list(MessageType.STATUS):
        answers.append(parse_status(await foreign.client.get_edoc(item.doc_id)).code)
    assert sorted(answers) == [StatusCode.RECEIVED, StatusCode.CHANGE_ACCEPTED]


async def test_a_connector_sends_no_more_than_its_rate_per_minute(province: Provinces) -> None:
    a = province.a
    (ubnd,) = await province.agencies(a, "UBND huyện Thử")
    await a.connect(ubnd, province.axis_url, province.systems["A"], rate_per_minute=2)
    foreign = await province.foreign()
    for number in range(1, 6):
        await a.issue(ubnd, [foreign.code], number=number)

    async def sent() -> int:
        return len([row for row in await a.rows(ubnd, outgoing) if row.state == "sent"])

    await rounds(province.bus, 1, step=dt.timedelta(seconds=20))
    assert await sent() == 2
    await rounds(province.bus, 2, step=dt.timedelta(seconds=20))
    assert await sent() == 2  # the same minute
    await rounds(province.bus, 1, step=dt.timedelta(seconds=20))
    assert await sent() == 4
    await province.settle(step=dt.timedelta(seconds=30))
    assert await sent() == 5


async def test_a_compressed_attachment_is_stored_as_the_file_inside(province: Provinces) -> None:
    a = province.a
    (ubnd,) = await province.agencies(a, "UBND huyện Thử")
    foreign = await province.foreign()
    inner = pdf("nén", 20_000)
    packed = Attachment(
        content_id="z1",
        name="Quyết định 15.pdf",
        content_type="application/zip",
        content=zipped("3f2a9c.pdf", inner),
    )
    await foreign.send_document(
        document(foreign.code, [ubnd.code], 15, attachments=(packed,)), [ubnd.code]
    )
    await province.settle()

    (landed,) = await a.documents(ubnd)
    (file,) = await a.document_files(ubnd, landed.id)
    assert file.sha256 == hashlib.sha256(inner).hexdigest()
    assert file.file_name == "Quyết định 15.pdf"


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Công văn", "CV"),
        ("CÔNG  VĂN", "CV"),
        ("Quyết định", "QĐ"),
        ("quyet dinh", "QĐ"),
        ("Bản thoả thuận", "BTT"),
        ("Văn bản hành chính khác", "CV"),
    ],
)
def test_document_types_are_known_by_name_whatever_the_spelling(name: str, code: str) -> None:
    assert mapping.type_code(name) == code


def test_priorities_map_to_urgencies_and_back() -> None:
    assert [mapping.urgency(p) for p in range(-1, 6)] == [
        "normal",
        "normal",
        "khan",
        "thuong_khan",
        "hoa_toc",
        "hoa_toc",
        "hoa_toc",
    ]
    assert mapping.priority("hoa_toc_hen_gio") == 3
    assert mapping.priority("unheard-of") == 0


def test_backoff_grows_and_stops_at_its_cap(province: Provinces) -> None:
    ctx = province.a.runtime.ctx
    ctx.rng = random.Random(7)
    cap = dt.timedelta(seconds=ctx.settings.backoff_cap_seconds)
    base = dt.timedelta(seconds=ctx.settings.backoff_base_seconds)
    assert base / 2 <= backoff(ctx, 1) <= base
    assert backoff(ctx, 3) >= base * 2
    assert all(cap / 2 <= backoff(ctx, n) <= cap for n in (20, 60, 1000))
