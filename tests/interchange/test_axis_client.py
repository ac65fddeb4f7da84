"""The product's axis client against the simulated axis over real HTTP: mailboxes, directory,
acknowledgements, signed headers refused when wrong, and every fault switch observable."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime

import httpx
import pytest

from services.interchange.axis.client import (
    AgencyRegistration,
    AxisClient,
    AxisCredentials,
    AxisRefused,
    AxisUnavailable,
    MessageType,
    TransportStatus,
)
from services.interchange.axis.signing import (
    gson_json,
    sdk_hash_hex,
    sdk_timestamp,
    signed_headers,
)
from services.interchange.edxml import (
    StatusCode,
    build_document,
    build_status,
    parse_document,
    parse_status,
)
from services.interchange.edxml.conventions import LOCAL_TIME
from tests.interchange import samples
from tests.interchange.conftest import PROVINCE_A, Axis


def packet_bytes() -> bytes:
    return build_document(samples.new_document())


async def send_new_document(axis: Axis) -> tuple[str, bytes]:
    """Province A (Nghệ An) sends the sample document to VPCP (province B) and Cẩm Khê."""
    data = packet_bytes()
    doc_id = await axis.a.send_edoc(
        data, sender=samples.NGHE_AN, recipients=[samples.VPCP, samples.CAM_KHE]
    )
    return doc_id, data


# ---------------------------------------------------------------------------------------------
# The wire details of spec §3.2


def test_timestamp_has_four_digit_milliseconds() -> None:
    moment = datetime(2025, 8, 15, 14, 5, 0, 123000, tzinfo=LOCAL_TIME)
    assert sdk_timestamp(moment) == "15082025T140500+0123"


def test_hash_file_drops_leading_zeros_of_each_byte() -> None:
    data = b"abc"
    digest = hashlib.sha256(data).digest()
    expected = "".join(format(byte, "x") for byte in digest)
    assert sdk_hash_hex(data) == expected
    assert len(expected) < 64  # this digest has bytes below 0x10


def test_signed_json_escapes_like_gson() -> None:
    assert gson_json({"a": "<b>&'='"}) == '{"a":"\\u003cb\\u003e\\u0026\\u0027\\u003d\\u0027"}'
    assert gson_json(["000.00.00.G22"]) == '["000.00.00.G22"]'


def test_non_ascii_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="ASCII"):
        signed_headers(
            "s",
            "k",
            {"description": "Đã nhận"},
            content_type="application/json",
            now=datetime.now(),
        )


# ---------------------------------------------------------------------------------------------
# Operations


async def test_sent_document_reaches_each_recipient_mailbox(axis: Axis) -> None:
    doc_id, data = await send_new_document(axis)
    assert len(doc_id) == 24

    vpcp_items = await axis.b.get_received_edoc_list()
    assert [(i.from_code, i.to_code) for i in vpcp_items] == [(samples.NGHE_AN, samples.VPCP)]
    own_items = await axis.a.get_received_edoc_list()
    assert [(i.from_code, i.to_code) for i in own_items] == [(samples.NGHE_AN, samples.CAM_KHE)]

    fetched = await axis.b.get_edoc(vpcp_items[0].doc_id)
    assert fetched == data
    assert parse_document(fetched) == samples.new_document()
    assert await axis.b.download_edoc(vpcp_items[0].doc_id) == data


async def test_acknowledged_item_leaves_the_received_list(axis: Axis) -> None:
    await send_new_document(axis)
    [item] = await axis.b.get_received_edoc_list()
    assert await axis.b.count_received() == 1

    await axis.b.update_status(item.doc_id, TransportStatus.PROCESSING)
    assert [i.status for i in await axis.b.get_received_edoc_list()] == ["processing"]
    await axis.b.update_status(item.doc_id, TransportStatus.DONE, "da nhan")

    assert await axis.b.get_received_edoc_list() == []
    assert await axis.b.count_received() == 0
    with pytest.raises(AxisRefused):
        await axis.b.get_edoc(item.doc_id)


async def test_sender_tracks_delivery_per_recipient(axis: Axis) -> None:
    doc_id, _ = await send_new_document(axis)
    [item] = await axis.b.get_received_edoc_list()
    await axis.b.update_status(item.doc_id, TransportStatus.DONE)

    sent = {s.to_code: s for s in await axis.a.get_sent_edoc_list(doc_id)}
    assert set(sent) == {samples.VPCP, samples.CAM_KHE}
    assert sent[samples.VPCP].receive_status == "done"
    assert sent[samples.CAM_KHE].receive_status == "initial"
    assert sent[samples.VPCP].title == samples.header().subject
    assert sent[samples.VPCP].notation == "UBND-VX"


async def test_status_packet_goes_back_to_the_issuer(axis: Axis) -> None:
    """VPCP reports 03 on the document of Nghệ An; no `to`: the axis routes by ResponseFor."""
    status = samples.status(StatusCode.ACCEPTED)
    await axis.b.send_edoc(
        build_status(status), sender=samples.VPCP, recipients=[], message_type=MessageType.STATUS
    )
    assert await axis.a.get_received_edoc_list(MessageType.EDOC) == []
    [item] = await axis.a.get_received_edoc_list(MessageType.STATUS)
    assert item.to_code == samples.NGHE_AN
    assert await axis.a.count_received(MessageType.STATUS) == 1
    assert parse_status(await axis.a.get_edoc(item.doc_id)) == status


async def test_other_systems_items_are_not_visible(axis: Axis) -> None:
    await send_new_document(axis)
    [item] = await axis.b.get_received_edoc_list()
    with pytest.raises(AxisRefused):
        await axis.a.get_edoc(item.doc_id)


async def test_directory_lists_agencies_and_registered_children(axis: Axis) -> None:
    codes = {agency.code for agency in await axis.a.get_agencies()}
    assert {samples.NGHE_AN, samples.VPCP, samples.CAM_KHE} <= codes

    commune = "000.47.24.H44"
    await axis.a.register_agency(
        AgencyRegistration(code=commune, pcode=samples.CAM_KHE, name="UBND xa Phung Xa")
    )
    directory = {agency.code: agency for agency in await axis.a.get_agencies()}
    assert directory[commune].pid == samples.CAM_KHE
    # The new agency may now send through province A's system.
    await axis.a.send_edoc(packet_bytes(), sender=commune, recipients=[samples.VPCP])

    await axis.a.delete_agency(commune)
    units = {unit.code: unit for unit in await axis.a.get_synchronize_unit()}
    assert units[commune].deleted is True
    assert commune not in {agency.code for agency in await axis.a.get_agencies()}


async def test_unknown_recipient_is_refused(axis: Axis) -> None:
    with pytest.raises(AxisRefused) as caught:
        await axis.a.send_edoc(packet_bytes(), sender=samples.NGHE_AN, recipients=["999.99.99.Z99"])
    assert caught.value.error_code == "18"


async def test_sending_for_an_agency_of_another_system_is_refused(axis: Axis) -> None:
    with pytest.raises(AxisRefused) as caught:
        await axis.a.send_edoc(packet_bytes(), sender=samples.VPCP, recipients=[samples.NGHE_AN])
    assert caught.value.error_code == "19"


async def test_wrong_secret_is_refused(axis: Axis) -> None:
    intruder = AxisCredentials(system_id=PROVINCE_A.system_id, secret="d3Jvbmc=")
    async with axis.client(intruder) as client:
        with pytest.raises(AxisRefused) as caught:
            await client.get_received_edoc_list()
    assert (caught.value.error_code, caught.value.http_status) == ("15", 401)


async def test_unknown_system_is_refused(axis: Axis) -> None:
    stranger = AxisCredentials(system_id="vxp.unknown", secret=PROVINCE_A.secret)
    async with axis.client(stranger) as client:
        with pytest.raises(AxisRefused) as caught:
            await client.get_agencies()
    assert caught.value.error_code == "15"


async def test_parameter_changed_under_a_valid_hmac_is_refused(axis: Axis) -> None:
    """The signed JSON says one docId, the header another: the HMAC alone is not enough."""
    headers = signed_headers(
        PROVINCE_A.system_id,
        PROVINCE_A.secret,
        {"servicetype": "eDoc", "messagetype": "edoc"},
        content_type="application/json",
        now=datetime.now(LOCAL_TIME),
    )
    headers["XroadVnpt-messagetype"] = "status"
    response = await axis.admin.post(f"{axis.url}/getReceivedEdocList", headers=headers)
    assert response.status_code == 401
    assert response.json()["ErrorCode"] == "15"


async def test_wrong_hash_file_is_refused(axis: Axis) -> None:
    data = packet_bytes()
    headers = signed_headers(
        PROVINCE_A.system_id,
        PROVINCE_A.secret,
        {
            "from": samples.NGHE_AN,
            "to": [samples.VPCP],
            "servicetype": "eDoc",
            "messagetype": "edoc",
            "hash-file": sdk_hash_hex(data + b" "),
        },
        content_type="application/octet-stream",
        now=datetime.now(LOCAL_TIME),
    )
    del headers["Content-Type"]
    response = await axis.admin.post(
        f"{axis.url}/sendEdoc", headers=headers, files={"file_doc": ("a.edxml", data)}
    )
    assert response.json()["ErrorCode"] == "10"
    assert await axis.b.get_received_edoc_list() == []


# ---------------------------------------------------------------------------------------------
# Fault switches


async def test_server_errors_are_unavailable_until_switched_off(axis: Axis) -> None:
    await axis.faults(error_rate=1.0)
    with pytest.raises(AxisUnavailable):
        await send_new_document(axis)
    await axis.faults()
    await send_new_document(axis)
    assert len(await axis.b.get_received_edoc_list()) == 1
    assert (await axis.stats())["counters"]["errors"] == 1


async def test_latency_is_added_to_operations(axis: Axis) -> None:
    await axis.faults(latency_seconds=0.01)
    await axis.a.get_agencies()
    await axis.a.get_agencies()
    assert (await axis.stats())["counters"]["delayed"] == 2


async def test_hung_request_times_out(axis: Axis) -> None:
    await axis.faults(hang_rate=1.0, hang_seconds=30)
    async with axis.client(PROVINCE_A, timeout=0.3) as impatient:
        with pytest.raises(AxisUnavailable) as caught:
            await impatient.get_received_edoc_list()
    assert "timeout" in caught.value.detail_en
    assert (await axis.stats())["counters"]["hung"] == 1


async def test_upload_cut_midway_stores_nothing(axis: Axis) -> None:
    await axis.faults(drop_upload_rate=1.0)
    with pytest.raises(AxisUnavailable):
        await send_new_document(axis)
    await axis.faults()
    assert await axis.b.get_received_edoc_list() == []
    assert (await axis.stats())["counters"]["dropped_uploads"] == 1


async def test_answer_lost_after_delivery_leaves_the_document_delivered(axis: Axis) -> None:
    """The nasty case for exactly-once: the client saw a failure, the axis delivered."""
    await axis.faults(drop_response_rate=1.0)
    with pytest.raises(AxisUnavailable):
        await send_new_document(axis)
    await axis.faults()
    assert len(await axis.b.get_received_edoc_list()) == 1


async def test_duplicated_delivery_arrives_twice_under_two_axis_ids(axis: Axis) -> None:
    await axis.faults(duplicate_rate=1.0)
    _, data = await send_new_document(axis)
    items = await axis.b.get_received_edoc_list()
    assert len(items) == 2
    assert items[0].doc_id != items[1].doc_id
    assert [await axis.b.get_edoc(i.doc_id) for i in items] == [data, data]


async def test_reordered_listing_keeps_every_item(axis: Axis) -> None:
    sent = []
    for number in range(12):
        status = samples.status(StatusCode.PROCESSING, description=f"buoc {number}")
        sent.append(
            await axis.b.send_edoc(
                build_status(status),
                sender=samples.VPCP,
                recipients=[samples.NGHE_AN],
                message_type=MessageType.STATUS,
            )
        )
    in_order = [i.doc_id for i in await axis.a.get_received_edoc_list(MessageType.STATUS)]
    await axis.faults(reorder=True)
    shuffled = [i.doc_id for i in await axis.a.get_received_edoc_list(MessageType.STATUS)]
    assert sorted(shuffled) == sorted(in_order)
    assert shuffled != in_order  # 12 items: the seeded shuffle is not the identity


async def test_faults_spare_the_admin_endpoints(axis: Axis) -> None:
    await axis.faults(error_rate=1.0, hang_rate=0.0)
    response = await axis.admin.get("/admin/faults")
    assert response.json()["error_rate"] == 1.0


async def test_getedoc_answer_is_base64_of_the_packet(axis: Axis) -> None:
    """What the SDK reads: `data` holds base64 of the UTF-8 edXML (spec §3.3)."""
    _, data = await send_new_document(axis)
    [item] = await axis.b.get_received_edoc_list()
    headers = signed_headers(
        "vxp.saas.tinh-b",
        "c2VjcmV0LW9mLXRpbmgtYg==",
        {"docId": item.doc_id},
        content_type="application/json",
        now=datetime.now(LOCAL_TIME),
    )
    response = await axis.admin.post(f"{axis.url}/getEdoc", headers=headers)
    body = json.loads(response.content)
    assert (body["status"], body["ErrorCode"]) == ("OK", "0")
    assert base64.b64decode(body["data"]) == data


async def test_client_never_buffers_more_than_one_packet(axis: Axis) -> None:
    await send_new_document(axis)
    [item] = await axis.b.get_received_edoc_list()
    async with AxisClient(
        axis.url,
        AxisCredentials(system_id="vxp.saas.tinh-b", secret="c2VjcmV0LW9mLXRpbmgtYg=="),
        max_packet_bytes=1000,
        http=httpx.AsyncClient(timeout=5),
    ) as small:
        with pytest.raises(AxisRefused) as caught:
            await small.download_edoc(item.doc_id)
    assert caught.value.error_code == "too-large"
