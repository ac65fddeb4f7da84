"""Every packet kind goes build -> parse -> equal, and the bytes follow the wire rules of
spec §1.3 (explicit prefixes, double-s Bussiness, date formats, attachment layout)."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.interchange.edxml import (
    Attachment,
    Business,
    BusinessDocType,
    BusinessDocumentInfo,
    Code,
    DocumentPacket,
    DocumentType,
    MessageHeader,
    Organisation,
    OtherInfo,
    PromulgationInfo,
    Receiver,
    ReplacementInfo,
    ResponseFor,
    SignerInfo,
    StaffInfo,
    StatusCode,
    StatusPacket,
    TraceHeader,
    build_document,
    build_status,
    document_id,
    parse_document,
    parse_status,
    write_document,
)
from services.interchange.edxml.codes import AGENCY_CODE
from services.interchange.edxml.conventions import LOCAL_TIME, NAMESPACE
from tests.interchange import samples


@pytest.mark.parametrize("kind", ["new", "revoke", "update", "replace"])
def test_document_packet_reads_back_equal(kind: str) -> None:
    packet = samples.document_kinds()[kind]
    assert parse_document(build_document(packet)) == packet


@pytest.mark.parametrize("code", list(StatusCode))
def test_status_packet_reads_back_equal(code: StatusCode) -> None:
    status = samples.status(code, description=f"Trạng thái {code.value}: đã xử lý")
    assert parse_status(build_status(status)) == status


def test_attachments_keep_names_and_binary_content() -> None:
    packet = samples.new_document()
    parsed = parse_document(build_document(packet))
    assert [a.name for a in parsed.attachments] == [
        "Quyết định số 123-QĐ-UBND về việc phê duyệt.pdf",
        "Phụ lục – bảng tổng hợp kinh phí.doc",
        "ảnh chụp hiện trường.bin",
    ]
    assert [a.content for a in parsed.attachments] == [a.content for a in packet.attachments]


def test_wire_form_has_explicit_prefixes_and_double_s_spelling() -> None:
    data = build_document(samples.update_document()).decode()
    assert data.startswith('<?xml version="1.0" encoding="utf-8"?>')
    assert f'<edXML xmlns="{NAMESPACE}"><edXML:edXMLEnvelope xmlns:edXML="{NAMESPACE}">' in data
    envelope = data[data.index("<edXML:edXMLEnvelope") : data.index("</edXML:edXMLEnvelope>")]
    # Every element inside the envelope carries the prefix (spec §1.3 item 2).
    assert re.findall(r"<(?!/)(?!edXML:)[A-Za-z]", envelope) == []
    for name in ("Bussiness", "BussinessDocType", "BussinessDocReason", "BussinessDocumentInfo"):
        assert f"<edXML:{name}>" in data
    assert "Business" not in data
    assert "<edXML:PromulgationDate>2025/08/15</edXML:PromulgationDate>" in data
    assert "<edXML:Timestamp>2025/08/15 14:05:00</edXML:Timestamp>" in data
    assert "<edXML:DigitalSignature/>" in data


def test_attachments_sit_outside_the_envelope_linked_by_cid() -> None:
    data = build_document(samples.new_document()).decode()
    tail = data[data.index("</edXML:edXMLEnvelope>") :]
    assert tail.startswith("</edXML:edXMLEnvelope><AttachmentEncoded><Attachment><ContentId>cid:")
    assert (
        f'<edXML:ContentTransferEncoded xmlns:edXML="{NAMESPACE}">JVBERi0xLjcK' in tail
    )  # base64 of "%PDF-1.7\n"
    manifest = data[data.index("<edXML:edXMLManifest") : data.index("</edXML:edXMLManifest>")]
    assert manifest.count("<edXML:ContentId>cid:") == 3
    assert "<edXML:ContentId>cid:209</edXML:ContentId>" in manifest
    assert "<ContentId>cid:209</ContentId>" in tail


def test_message_header_follows_the_official_sample_order() -> None:
    data = build_document(samples.new_document()).decode()
    order = [
        "From", "To", "DocumentId", "Code", "PromulgationInfo", "DocumentType", "Subject",
        "Content", "SignerInfo", "DueDate", "OtherInfo", "ResponseFor", "SteeringType", "ToPlaces",
    ]  # fmt: skip
    header = data[data.index("<edXML:MessageHeader>") : data.index("</edXML:MessageHeader>")]
    positions = [header.index(f"<edXML:{name}>") for name in order]
    assert positions == sorted(positions)


def test_write_document_streams_the_same_bytes() -> None:
    packet = samples.new_document()
    out = io.BytesIO()
    size = write_document(packet, out)
    assert out.getvalue() == build_document(packet)
    assert size == len(out.getvalue())


def test_timestamps_are_written_in_vietnam_time() -> None:
    packet = samples.new_document()
    in_utc = datetime(2025, 8, 15, 7, 5, 0, tzinfo=UTC)
    packet = msgspec.structs.replace(
        packet, trace=(TraceHeader(organ_id=samples.NGHE_AN, timestamp=in_utc),)
    )
    data = build_document(packet)
    assert b"<edXML:Timestamp>2025/08/15 14:05:00</edXML:Timestamp>" in data
    assert parse_document(data).trace[0].timestamp == in_utc


# ---------------------------------------------------------------------------------------------
# Property: any valid packet reads back equal.

_XML_CHAR = st.characters(codec="utf-8", exclude_categories=("Cs",)).filter(
    lambda c: c in "\t\n\r" or (c >= " " and c not in "\ufffe\uffff")
)
_VIETNAMESE = st.sampled_from(
    "ăâđêôơưĂÂĐÊÔƠƯáàảãạấầẩẫậắằẳẵặéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ"
)
_TEXT = st.text(st.one_of(_XML_CHAR, _VIETNAMESE), max_size=40)
_FILLED = _TEXT.filter(lambda s: bool(s.strip()))
# Values the reader trims (codes, numbers, ids): generated without surrounding whitespace.
_TOKEN = st.from_regex(r"[0-9A-Za-zĐđ.\-]{1,11}", fullmatch=True)
_AGENCY = st.from_regex(AGENCY_CODE, fullmatch=True)
_DATE = st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31))
_TIMESTAMP = st.datetimes(
    min_value=datetime(1900, 1, 2), max_value=datetime(2100, 12, 30), timezones=st.just(LOCAL_TIME)
).map(lambda d: d.replace(microsecond=0))
_OPTIONAL_TEXT = st.none() | _TEXT
_SMALL = st.integers(min_value=0, max_value=10**6)


@st.composite
def _document_ids(draw: st.DrawFn) -> str:
    return document_id(draw(_AGENCY), draw(_DATE), draw(_TOKEN), draw(_TOKEN))


_ORGANISATION = st.builds(
    Organisation,
    organ_id=_AGENCY,
    organization_in_charge=_OPTIONAL_TEXT,
    organ_name=_OPTIONAL_TEXT,
    address=_OPTIONAL_TEXT,
    email=_OPTIONAL_TEXT,
    telephone=_OPTIONAL_TEXT,
    fax=_OPTIONAL_TEXT,
    website=_OPTIONAL_TEXT,
)
_RESPONSE_FOR = st.builds(
    ResponseFor,
    organ_id=_AGENCY,
    code=_TOKEN,
    promulgation_date=_DATE,
    document_id=_document_ids(),
)
_STAFF = st.builds(
    StaffInfo,
    department=_OPTIONAL_TEXT,
    staff=_OPTIONAL_TEXT,
    mobile=_OPTIONAL_TEXT,
    email=_OPTIONAL_TEXT,
)
_ATTACHMENT_CONTENT = st.binary(max_size=300).filter(lambda b: not b.startswith(b"PK\x03\x04"))


@st.composite
def _headers(draw: st.DrawFn, doc_type: BusinessDocType) -> MessageHeader:
    sender = draw(_ORGANISATION)
    code = Code(number=draw(_TOKEN), notation=draw(_TOKEN))
    issued = draw(_DATE)
    new_id = document_id(sender.organ_id, issued, code.number, code.notation)
    return MessageHeader(
        sender=sender,
        recipients=tuple(draw(st.lists(_ORGANISATION, min_size=1, max_size=3))),
        document_id=new_id if doc_type is BusinessDocType.NEW else draw(_document_ids()),
        code=code,
        promulgation=PromulgationInfo(place=draw(_TEXT), date=issued),
        document_type=DocumentType(
            type=draw(st.integers(-(2**31), 2**31)),
            type_name=draw(_FILLED),
            type_detail=draw(st.none() | _SMALL),
        ),
        subject=draw(_FILLED),
        content=draw(_OPTIONAL_TEXT),
        signer=SignerInfo(
            competence=draw(_OPTIONAL_TEXT), position=draw(_OPTIONAL_TEXT), full_name=draw(_TEXT)
        ),
        due_date=draw(st.none() | _DATE),
        other=OtherInfo(
            priority=draw(st.integers(0, 9)),
            sphere_of_promulgation=draw(_OPTIONAL_TEXT),
            typer_notation=draw(_OPTIONAL_TEXT),
            promulgation_amount=draw(st.none() | _SMALL),
            page_amount=draw(st.none() | _SMALL),
            direction=draw(st.none() | st.booleans()),
            appendixes=tuple(draw(st.lists(_TEXT, max_size=3))),
        ),
        response_for=tuple(draw(st.lists(_RESPONSE_FOR, max_size=2))),
        steering_type=draw(st.integers(0, 2)),
        to_places=tuple(draw(st.lists(_TEXT, max_size=3))),
    )


@st.composite
def _documents(draw: st.DrawFn) -> DocumentPacket:
    doc_type = draw(st.sampled_from(BusinessDocType))
    cids = draw(
        st.lists(st.from_regex(r"[A-Za-z0-9._@-]{1,20}", fullmatch=True), max_size=3, unique=True)
    )
    return DocumentPacket(
        header=draw(_headers(doc_type)),
        trace=tuple(
            draw(
                st.lists(
                    st.builds(TraceHeader, organ_id=_AGENCY, timestamp=_TIMESTAMP),
                    min_size=1,
                    max_size=3,
                )
            )
        ),
        business=Business(
            doc_type=doc_type,
            reason=draw(_OPTIONAL_TEXT),
            document_id=draw(_document_ids())
            if doc_type is not BusinessDocType.NEW
            else draw(st.none() | _document_ids()),
            paper=draw(st.booleans()),
            staff=tuple(draw(st.lists(_STAFF, max_size=2))),
            document_info=draw(
                st.none()
                | st.builds(
                    BusinessDocumentInfo,
                    document_info=st.booleans(),
                    document_receiver=st.booleans(),
                    receivers=st.lists(
                        st.builds(Receiver, receiver_type=st.integers(0, 1), organ_id=_AGENCY),
                        max_size=3,
                    ).map(tuple),
                )
            ),
            replacements=tuple(
                draw(
                    st.lists(
                        st.builds(
                            ReplacementInfo,
                            document_id=_document_ids(),
                            organ_ids=st.lists(_AGENCY, max_size=3).map(tuple),
                        ),
                        max_size=2,
                    )
                )
            ),
        ),
        attachments=tuple(
            Attachment(
                content_id=cid,
                name=draw(_FILLED),
                content_type=draw(st.sampled_from(["application/pdf", "application/zip", "x/y"])),
                description=draw(_OPTIONAL_TEXT),
                content=draw(_ATTACHMENT_CONTENT),
            )
            for cid in cids
        ),
    )


_STATUSES = st.builds(
    StatusPacket,
    response_for=_RESPONSE_FOR,
    sender=_ORGANISATION,
    code=st.sampled_from(StatusCode),
    description=_FILLED,
    timestamp=_TIMESTAMP,
    staff=st.none() | _STAFF,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_documents())
def test_any_document_packet_reads_back_equal(packet: DocumentPacket) -> None:
    assert parse_document(build_document(packet)) == packet


@settings(max_examples=150, deadline=None)
@given(_STATUSES)
def test_any_status_packet_reads_back_equal(status: StatusPacket) -> None:
    assert parse_status(build_status(status)) == status
