"""Bad packets are refused early and clearly: an `EdxmlError` (422 `edxml-invalid`) naming
the element and the reason; hostile XML never gets to expand or fetch anything."""

from __future__ import annotations

import base64
import io
from datetime import datetime

import msgspec
import pytest

from services.interchange.edxml import (
    Attachment,
    BusinessDocType,
    EdxmlError,
    StatusCode,
    TraceHeader,
    build_document,
    build_status,
    parse_document,
    parse_status,
)
from tests.interchange import samples

HEADER = "edXML/edXMLEnvelope/edXMLHeader/MessageHeader"
BUSINESS = "edXML/edXMLEnvelope/edXMLHeader/TraceHeaderList/Bussiness"


def replace_once(data: bytes, old: str, new: str) -> bytes:
    assert data.count(old.encode()) == 1, old
    return data.replace(old.encode(), new.encode())


def refusal(data: bytes, **options: int) -> EdxmlError:
    with pytest.raises(EdxmlError) as caught:
        parse_document(data, **options)
    return caught.value


def new_packet_bytes() -> bytes:
    return build_document(samples.new_document())


# ---------------------------------------------------------------------------------------------
# Tolerated variations


def test_single_s_business_spelling_is_read_too() -> None:
    packet = samples.update_document()
    data = build_document(packet).replace(b"Bussiness", b"Business")
    assert b"Bussiness" not in data
    assert parse_document(data) == packet


def test_cid_prefix_may_be_missing_on_one_side() -> None:
    packet = samples.new_document()
    data = replace_once(
        build_document(packet), "<ContentId>cid:209</ContentId>", "<ContentId>209</ContentId>"
    )
    assert parse_document(data) == packet


def test_line_wrapped_base64_is_read() -> None:
    packet = msgspec.structs.replace(samples.new_document(), attachments=samples.attachments()[2:])
    content = packet.attachments[0].content
    encoded = base64.b64encode(content).decode()
    wrapped = "\r\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))
    data = replace_once(build_document(packet), encoded, wrapped)
    assert parse_document(data).attachments[0].content == content


def test_status_under_a_status_element_with_day_first_timestamp_is_read() -> None:
    status = samples.status()
    data = build_status(status).replace(b"edXML:MessageHeader>", b"edXML:Status>")
    data = replace_once(data, "2025/08/15 15:00:00", "15/08/2025 15:00:00")
    assert parse_status(data) == status


def test_status_code_14_is_read_as_agreement() -> None:
    data = replace_once(
        build_status(samples.status(StatusCode.CHANGE_ACCEPTED)),
        "<edXML:StatusCode>15</edXML:StatusCode>",
        "<edXML:StatusCode>14</edXML:StatusCode>",
    )
    assert parse_status(data).code is StatusCode.CHANGE_ACCEPTED


# ---------------------------------------------------------------------------------------------
# Hostile XML and sizes

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE edXML [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016">&lol9;</edXML>"""


def test_billion_laughs_is_refused_before_expansion() -> None:
    assert refusal(BILLION_LAUGHS).reason == "doctype"


@pytest.mark.parametrize(
    "prolog",
    [
        '<!DOCTYPE edXML [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
        '<!-- a comment first --><!DOCTYPE edXML SYSTEM "http://127.0.0.1:9/evil.dtd">',
        '<!DOCTYPE edXML [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x"> %p;]>',
    ],
)
def test_external_entities_are_refused(prolog: str) -> None:
    data = new_packet_bytes().replace(b"?>\n", f"?>\n{prolog}".encode(), 1)
    data = data.replace(b"<edXML:Subject>", b"<edXML:Subject>&xxe;", 1)
    assert refusal(data).reason == "doctype"


class Endless(io.RawIOBase):
    """A stream that never ends, counting what is read from it."""

    def __init__(self) -> None:
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        buffer[:] = b"\0" * len(buffer)
        self.read_bytes += len(buffer)
        return len(buffer)


class Untouchable(io.RawIOBase):
    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        raise AssertionError("the stream was read")


def test_a_500_mb_announced_packet_is_refused_before_reading() -> None:
    error = refusal(Untouchable(), declared_size=500 << 20)  # type: ignore[arg-type]
    assert error.reason == "too-large"
    assert "524288000" in error.detail_en


def test_an_endless_stream_is_read_no_further_than_the_limit() -> None:
    stream = Endless()
    assert refusal(stream, max_bytes=1 << 20).reason == "too-large"  # type: ignore[arg-type]
    assert stream.read_bytes <= (1 << 20) + 1


def test_oversized_bytes_are_refused_before_parsing() -> None:
    data = new_packet_bytes()
    assert refusal(data, max_bytes=len(data) - 1).reason == "too-large"
    assert parse_document(data, max_bytes=len(data)) == samples.new_document()


def test_building_an_oversized_packet_is_refused() -> None:
    big = Attachment(
        content_id="lon", name="tệp lớn.bin", content_type="x/y", content=bytes(3 << 20)
    )
    packet = msgspec.structs.replace(samples.new_document(), attachments=(big,))
    with pytest.raises(EdxmlError) as caught:
        build_document(packet, max_bytes=4 << 20)  # base64 makes it 4 MiB and more
    assert caught.value.reason == "too-large"


def test_utf16_is_refused() -> None:
    data = new_packet_bytes().decode().replace("utf-8", "utf-16").encode("utf-16")
    assert refusal(data).reason == "encoding"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"<edXML><unclosed></edXML>", "malformed"),
        (b"", "malformed"),
        (b"not xml at all", "malformed"),
        (b'<Envelope xmlns="urn:x"/>', "not-edxml"),
    ],
)
def test_malformed_documents_are_refused(data: bytes, reason: str) -> None:
    assert refusal(data).reason == reason


# ---------------------------------------------------------------------------------------------
# Attachments


def test_reference_without_attachment_is_refused() -> None:
    data = replace_once(
        new_packet_bytes(), "<ContentId>cid:209</ContentId>", "<ContentId>cid:210</ContentId>"
    )
    error = refusal(data)
    assert error.reason == "cid-without-attachment"
    assert error.path == "edXML/edXMLEnvelope/edXMLBody/edXMLManifest/Reference[3]/ContentId"


def test_attachment_without_reference_is_refused() -> None:
    data = replace_once(
        new_packet_bytes(),
        "<edXML:ContentId>cid:209</edXML:ContentId>",
        "<edXML:ContentId>cid:7f7c0b5e-0000-0000-0000-000000000001</edXML:ContentId>",
    )
    # The manifest now names the first file twice and the third never.
    assert refusal(data).reason == "duplicate-cid"
    data = new_packet_bytes()
    start = data.index(b"<edXML:Reference><edXML:ContentId>cid:209")
    end = data.index(b"</edXML:Reference>", start) + len(b"</edXML:Reference>")
    error = refusal(data[:start] + data[end:])
    assert error.reason == "attachment-without-reference"
    assert error.path == "edXML/AttachmentEncoded/Attachment[3]/ContentId"


def test_duplicate_attachment_cid_is_refused() -> None:
    data = replace_once(
        new_packet_bytes(),
        "<ContentId>cid:209</ContentId>",
        "<ContentId>cid:7f7c0b5e-0000-0000-0000-000000000001</ContentId>",
    )
    error = refusal(data)
    assert error.reason == "duplicate-cid"
    assert error.path == "edXML/AttachmentEncoded/Attachment[3]/ContentId"


def test_attachment_that_is_not_base64_is_refused() -> None:
    data = new_packet_bytes()
    start = data.index(b"<edXML:ContentTransferEncoded")
    start = data.index(b">", start) + 1
    data = data[:start] + b"@@" + data[start + 2 :]
    error = refusal(data)
    assert error.reason == "bad-base64"
    assert error.path == "edXML/AttachmentEncoded/Attachment[1]/ContentTransferEncoded"


def test_damaged_zip_attachment_is_refused() -> None:
    broken = Attachment(
        content_id="z",
        name="hồ sơ.zip",
        content_type="application/zip",
        content=b"PK\x03\x04" + bytes(100),
    )
    packet = msgspec.structs.replace(samples.new_document(), attachments=(broken,))
    with pytest.raises(EdxmlError) as caught:
        build_document(packet)
    assert caught.value.reason == "bad-zip"


# ---------------------------------------------------------------------------------------------
# Fields


@pytest.mark.parametrize(
    ("old", "new", "path"),
    [
        (
            "<edXML:PromulgationDate>2025/08/15</edXML:PromulgationDate></edXML:PromulgationInfo>",
            "<edXML:PromulgationDate>2025-08-15</edXML:PromulgationDate></edXML:PromulgationInfo>",
            f"{HEADER}/PromulgationInfo/PromulgationDate",
        ),
        (
            "<edXML:DueDate>2025/08/30</edXML:DueDate>",
            "<edXML:DueDate>2025/13/01</edXML:DueDate>",
            f"{HEADER}/DueDate",
        ),
        (
            "<edXML:Timestamp>2025/08/15 14:05:00</edXML:Timestamp>",
            "<edXML:Timestamp>15/08/2025 14:05</edXML:Timestamp>",
            "edXML/edXMLEnvelope/edXMLHeader/TraceHeaderList/TraceHeader[1]/Timestamp",
        ),
        (
            "<edXML:PromulgationDate>2025/07/01</edXML:PromulgationDate>",
            "<edXML:PromulgationDate>ngày 1/7</edXML:PromulgationDate>",
            f"{HEADER}/ResponseFor[1]/PromulgationDate",
        ),
    ],
)
def test_malformed_dates_are_refused_with_their_path(old: str, new: str, path: str) -> None:
    error = refusal(replace_once(new_packet_bytes(), old, new))
    assert error.reason == "bad-date"
    assert error.path == path
    assert error.detail_en.startswith(f"{path}: ")
    assert error.detail_vi.startswith(f"{path}: ")


def test_missing_subject_is_refused() -> None:
    data = new_packet_bytes()
    start = data.index(b"<edXML:Subject>")
    end = data.index(b"</edXML:Subject>") + len(b"</edXML:Subject>")
    error = refusal(data[:start] + data[end:])
    assert (error.reason, error.path) == ("missing", f"{HEADER}/Subject")


def test_repeated_subject_is_refused() -> None:
    data = replace_once(
        new_packet_bytes(), "<edXML:Content>", "<edXML:Subject>hai</edXML:Subject><edXML:Content>"
    )
    assert refusal(data).reason == "duplicate"


def test_malformed_recipient_code_is_refused() -> None:
    data = replace_once(
        new_packet_bytes(),
        f"<edXML:OrganId>{samples.CAM_KHE}</edXML:OrganId>",
        "<edXML:OrganId>H44.24</edXML:OrganId>",
    )
    error = refusal(data)
    assert (error.reason, error.path) == ("bad-agency-code", f"{HEADER}/To[2]/OrganId")


def test_document_id_of_a_new_document_must_match_its_header() -> None:
    data = new_packet_bytes().replace(
        b"000.00.00.H41,2025/08/15,123/UBND-VX", b"000.00.00.H41,2025/08/16,123/UBND-VX"
    )
    error = refusal(data)
    assert (error.reason, error.path) == ("document-id-mismatch", f"{HEADER}/DocumentId")


def test_revoke_without_the_original_document_id_is_refused() -> None:
    data = build_document(samples.revoke_document())
    start = data.index(b"<edXML:Bussiness><edXML:DocumentId>") + len(b"<edXML:Bussiness>")
    end = data.index(b"</edXML:DocumentId>", start) + len(b"</edXML:DocumentId>")
    error = refusal(data[:start] + data[end:])
    assert (error.reason, error.path) == ("missing", f"{BUSINESS}/DocumentId")


def test_unknown_business_type_is_refused() -> None:
    data = replace_once(
        new_packet_bytes(), "<edXML:BussinessDocType>0<", "<edXML:BussinessDocType>7<"
    )
    error = refusal(data)
    assert (error.reason, error.path) == ("bad-value", f"{BUSINESS}/BussinessDocType")


def test_unknown_status_code_is_refused() -> None:
    data = replace_once(
        build_status(samples.status()),
        "<edXML:StatusCode>03</edXML:StatusCode>",
        "<edXML:StatusCode>09</edXML:StatusCode>",
    )
    with pytest.raises(EdxmlError) as caught:
        parse_status(data)
    assert (caught.value.reason, caught.value.path) == ("bad-value", f"{HEADER}/StatusCode")


# ---------------------------------------------------------------------------------------------
# Building


def test_rejection_without_a_reason_is_not_built() -> None:
    status = msgspec.structs.replace(samples.status(StatusCode.REJECTED), description=" ")
    with pytest.raises(EdxmlError) as caught:
        build_status(status)
    assert (caught.value.reason, caught.value.path) == ("blank", f"{HEADER}/Description")


def test_control_characters_are_not_built() -> None:
    head = samples.header(subject="Trích yếu\x00 có ký tự NUL")
    packet = msgspec.structs.replace(samples.new_document(), header=head)
    with pytest.raises(EdxmlError) as caught:
        build_document(packet)
    assert (caught.value.reason, caught.value.path) == ("bad-character", f"{HEADER}/Subject")


def test_naive_timestamps_are_not_built() -> None:
    hop = TraceHeader(organ_id=samples.NGHE_AN, timestamp=datetime(2025, 8, 15, 14, 5))
    packet = msgspec.structs.replace(samples.new_document(), trace=(hop,))
    with pytest.raises(EdxmlError) as caught:
        build_document(packet)
    assert caught.value.reason == "bad-date"


def test_subject_over_500_characters_is_not_built() -> None:
    packet = msgspec.structs.replace(
        samples.new_document(), header=samples.header(subject="ư" * 501)
    )
    with pytest.raises(EdxmlError) as caught:
        build_document(packet)
    assert (caught.value.reason, caught.value.path) == ("too-long", f"{HEADER}/Subject")


def test_revoke_packet_needs_the_original_document_id() -> None:
    packet = samples.revoke_document()
    business = msgspec.structs.replace(packet.business, document_id=None)
    with pytest.raises(EdxmlError) as caught:
        build_document(msgspec.structs.replace(packet, business=business))
    assert caught.value.path == f"{BUSINESS}/DocumentId"
    assert packet.business.doc_type is BusinessDocType.REVOKE


def test_the_error_is_a_422_problem_in_both_languages() -> None:
    error = refusal(b"<edXML>")
    assert (error.status, error.code) == (422, "edxml-invalid")
    assert error.detail_vi.startswith("XML sai cú pháp")
    assert error.detail_en.startswith("Malformed XML")
    assert error.extensions["reason"] == "malformed"
