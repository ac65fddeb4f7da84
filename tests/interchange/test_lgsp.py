"""Agencies connected through a provincial LGSP (spec §3.7) exchange documents with agencies
connected to the national axis through the same mailboxes; the LGSP's error codes land in the
same two failure classes as the national axis's; an expired bearer token is renewed without
anyone noticing."""

from __future__ import annotations

import secrets

import pytest

from peers.axis_sim import System as SimSystem
from services.docs.incoming.schemas import Registration
from services.interchange.axis.client import AxisCredentials, AxisRefused, AxisUnavailable
from services.interchange.axis.lgsp import LgspClient, LgspTokens
from services.interchange.connectors import service as connectors
from services.interchange.connectors.schemas import ConnectorRequest
from services.interchange.edxml import build_document
from services.interchange.tables import dead_letter, inbox, outgoing
from tests.interchange import samples
from tests.interchange.conftest import PROVINCE_A, Axis, ServedSimulator
from tests.interchange.foreign import document
from tests.interchange.platforms import prepare_second_database, principal, rounds
from tests.interchange.provinces import one_province, two_provinces


@pytest.fixture(scope="session")
def second_database() -> None:
    prepare_second_database()


async def test_a_document_goes_from_an_lgsp_agency_to_a_vdxp_one_and_statuses_come_back(
    second_database: None, served: ServedSimulator
) -> None:
    async with two_provinces(served.url) as provinces:
        a, b = provinces.a, provinces.b
        (ubnd,) = await provinces.agencies(a, "UBND tỉnh A", connect=False)
        await a.connect(ubnd, provinces.axis_url, provinces.systems["A"], kind="lgsp")
        (so_nv,) = await provinces.agencies(b, "Sở Nội vụ tỉnh B")  # the national axis

        await a.issue(ubnd, [so_nv], number=21)
        await provinces.settle()
        (landed,) = await b.documents(so_nv)
        await b.docs.register(so_nv.id, principal(so_nv), landed.id, Registration())
        await provinces.settle()

        assert landed.number_symbol == "21/UBND-VP"
        assert landed.sender_code == ubnd.code
        (line,) = await a.rows(ubnd, outgoing)
        assert (line.state, line.route, line.receipt_code) == ("sent", "axis", "03")
        statuses = await a.rows(ubnd, inbox, inbox.c.kind == "status")
        assert sorted(row.status_code for row in statuses) == ["01", "03"]
        assert all(row.source == "axis" for row in statuses)  # polled from the LGSP
        counters = (await provinces.stats())["counters"]
        assert counters["lgsp_sent"] == 1
        assert counters["status_done"] >= 3  # the document at B, two statuses at A (LGSP)
        assert (await provinces.stats())["pending"] == {}


async def test_a_wrong_lgsp_secret_is_a_recorded_definitive_error_and_the_message_waits(
    served: ServedSimulator,
) -> None:
    async with one_province(served.url) as province:
        a = province.a
        foreign = await province.foreign()
        (ubnd,) = await province.agencies(a, "UBND huyện Thử", connect=False)
        system = province.systems["A"]
        wrong = SimSystem(system_id=system.system_id, secret="not-the-secret")
        await a.connect(ubnd, province.axis_url, wrong, kind="lgsp")
        await a.issue(ubnd, [foreign.code], number=2)

        await rounds(province.bus, 4)

        view = await connectors.read(a.runtime.ctx, ubnd.id)
        assert "15" in (view.health.last_error or "")  # sai SystemId/SecretKey
        assert view.health.failures >= 1
        assert view.health.outgoing_backlog == 1  # waits for the operator, not failed
        assert await a.rows(ubnd, dead_letter) == []
        counters = (await province.stats())["counters"]
        assert counters.get("lgsp_refused_15", 0) >= 1
        assert counters.get("lgsp_tokens_issued", 0) == 0

        await connectors.upsert(a.runtime.ctx, ubnd.id, ConnectorRequest(secret=system.secret))
        await province.settle()

        (sent,) = await a.rows(ubnd, outgoing)
        assert sent.state == "sent"


async def test_an_expired_lgsp_token_is_renewed_without_a_failure(
    served: ServedSimulator,
) -> None:
    async with one_province(served.url) as province:
        a = province.a
        (ubnd,) = await province.agencies(a, "UBND tỉnh A", connect=False)
        foreign = await province.foreign()
        await a.connect(ubnd, province.axis_url, province.systems["A"], kind="lgsp")
        await a.issue(ubnd, [foreign.code], number=1)
        await province.settle()

        expired = await province.admin.post("/admin/lgsp/expire-tokens")
        assert expired.json()["expired"] == 1
        await a.issue(ubnd, [foreign.code], number=2)
        await province.settle()

        lines = await a.rows(ubnd, outgoing)
        assert [line.state for line in lines] == ["sent", "sent"]
        view = await connectors.read(a.runtime.ctx, ubnd.id)
        assert view.health.failures == 0
        assert view.health.last_error is None
        counters = (await province.stats())["counters"]
        assert counters["lgsp_token_expired"] == 1
        assert counters["lgsp_tokens_issued"] == 2
        received = await foreign.client.get_received_edoc_list()
        assert len(received) == 2


def _client(axis: Axis, secret: str = PROVINCE_A.secret) -> LgspClient:
    credentials = AxisCredentials(system_id=PROVINCE_A.system_id, secret=secret)
    return LgspClient(axis.url, credentials, tokens=LgspTokens(), http=axis.admin, timeout=5)


async def test_lgsp_refusals_are_definitive_with_their_code(axis: Axis) -> None:
    packet = build_document(document(samples.NGHE_AN, ["000.00.00.Z99"], 3))

    with pytest.raises(AxisRefused) as unknown:
        await _client(axis).send_edoc(packet, sender=samples.NGHE_AN, recipients=["000.00.00.Z99"])
    with pytest.raises(AxisRefused) as not_ours:
        await _client(axis).send_edoc(packet, sender=samples.VPCP, recipients=[samples.VPCP])
    with pytest.raises(AxisRefused) as wrong_secret:
        await _client(axis, secrets.token_urlsafe(8)).get_received_edoc_list()

    assert unknown.value.error_code == "18"  # đơn vị nhận không tồn tại
    assert not_ours.value.error_code == "19"  # đơn vị gửi không đăng ký
    assert wrong_secret.value.error_code == "15"  # sai SystemId/SecretKey


async def test_an_lgsp_that_cannot_answer_is_unavailable(axis: Axis) -> None:
    client = _client(axis)
    await client.get_received_edoc_list()  # a token first
    await axis.faults(error_rate=1.0)

    with pytest.raises(AxisUnavailable):
        await client.get_received_edoc_list()
