"""The rules a packet must satisfy, the same whether we build it or read it (spec §1.9).

The reader has already turned text into dates, numbers and bytes (refusing what does not
convert, at the element where it failed); what is checked here is the model: agency codes,
document ids, lengths, the business block, the attachments' links. Paths are those the writer
produces, which are also those of a packet laid out as the standard's sample is."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable

from services.interchange.edxml import errors
from services.interchange.edxml.codes import is_agency_code, is_document_id
from services.interchange.edxml.conventions import FIELD_LIMITS
from services.interchange.edxml.errors import EdxmlError
from services.interchange.edxml.model import (
    Attachment,
    Business,
    BusinessDocType,
    DocumentPacket,
    MessageHeader,
    Organisation,
    ResponseFor,
    StatusCode,
    StatusPacket,
)

ROOT = "edXML"
HEADER = "edXML/edXMLEnvelope/edXMLHeader"
MESSAGE_HEADER = f"{HEADER}/MessageHeader"
TRACE_LIST = f"{HEADER}/TraceHeaderList"
BUSINESS = f"{TRACE_LIST}/Bussiness"
MANIFEST = "edXML/edXMLEnvelope/edXMLBody/edXMLManifest"
ATTACHMENTS = "edXML/AttachmentEncoded"

_ZIP_MAGIC = b"PK\x03\x04"
_CONTENT_ID = re.compile(r"[^\s<>]+")


def _code(path: str, value: str) -> None:
    if not is_agency_code(value):
        raise errors.bad_agency_code(path, value)


def _document_id(path: str, value: str) -> None:
    if not is_document_id(value):
        raise errors.bad_value(
            path,
            value,
            "dạng {mã cơ quan},{yyyy/MM/dd},{số}/{ký hiệu}",
            "the form {agency code},{yyyy/MM/dd},{number}/{notation}",
        )


def _length(path: str, value: str | None, field: str) -> None:
    limit = FIELD_LIMITS[field]
    if value is not None and len(value) > limit:
        raise errors.too_long(path, len(value), limit)


def _filled(path: str, value: str) -> None:
    if not value.strip():
        raise errors.blank(path)


def _organisation(path: str, organisation: Organisation) -> None:
    _code(f"{path}/OrganId", organisation.organ_id)
    _length(f"{path}/OrganName", organisation.organ_name, "OrganName")


def _response_for(path: str, response: ResponseFor) -> None:
    _code(f"{path}/OrganId", response.organ_id)
    _filled(f"{path}/Code", response.code)
    _document_id(f"{path}/DocumentId", response.document_id)


def _non_negative(path: str, value: int | None) -> None:
    if value is not None and value < 0:
        raise errors.bad_value(path, str(value), "một số không âm", "a non-negative number")


def check_message_header(header: MessageHeader, doc_type: BusinessDocType) -> None:
    path = MESSAGE_HEADER
    _organisation(f"{path}/From", header.sender)
    if not header.recipients:
        raise errors.missing(f"{path}/To")
    for i, recipient in enumerate(header.recipients, 1):
        _organisation(f"{path}/To[{i}]", recipient)
    _document_id(f"{path}/DocumentId", header.document_id)
    if doc_type == BusinessDocType.NEW and header.document_id != header.expected_document_id():
        raise EdxmlError(
            f"DocumentId phải là {errors.quote(header.expected_document_id())} "
            "(mã cơ quan gửi, ngày ban hành, số/ký hiệu).",
            f"DocumentId must be {errors.quote(header.expected_document_id())} "
            "(sender's agency code, date of issue, number/notation).",
            reason="document-id-mismatch",
            path=f"{path}/DocumentId",
        )
    for name, value in (("CodeNumber", header.code.number), ("CodeNotation", header.code.notation)):
        _filled(f"{path}/Code/{name}", value)
        _length(f"{path}/Code/{name}", value, name)
    _filled(f"{path}/Subject", header.subject)
    _length(f"{path}/Subject", header.subject, "Subject")
    _filled(f"{path}/DocumentType/TypeName", header.document_type.type_name)
    _length(f"{path}/DocumentType/TypeName", header.document_type.type_name, "TypeName")
    _length(f"{path}/SignerInfo/Position", header.signer.position, "Position")
    _length(f"{path}/SignerInfo/FullName", header.signer.full_name, "FullName")
    other = header.other
    if not 0 <= other.priority <= 9:
        # NĐ 30 Phụ lục VI: Priority is one digit.
        raise errors.bad_value(
            f"{path}/OtherInfo/Priority", str(other.priority), "một chữ số", "one digit"
        )
    _non_negative(f"{path}/OtherInfo/PromulgationAmount", other.promulgation_amount)
    _non_negative(f"{path}/OtherInfo/PageAmount", other.page_amount)
    for i, response in enumerate(header.response_for, 1):
        _response_for(f"{path}/ResponseFor[{i}]", response)


def check_business(business: Business, path: str = BUSINESS) -> None:
    if business.doc_type not in BusinessDocType.__members__.values():
        raise errors.bad_value(
            f"{path}/BussinessDocType", str(business.doc_type), "0, 1, 2 hoặc 3", "0, 1, 2 or 3"
        )
    if business.document_id is None:
        if business.doc_type != BusinessDocType.NEW:
            # Revoke, update and replace act on an earlier document, named here (2.2.4).
            raise errors.missing(f"{path}/DocumentId")
    else:
        _document_id(f"{path}/DocumentId", business.document_id)
    if business.document_info is not None:
        for i, receiver in enumerate(business.document_info.receivers, 1):
            _code(
                f"{path}/BussinessDocumentInfo/ReceiverList/Receiver[{i}]/OrganId",
                receiver.organ_id,
            )
    for i, replacement in enumerate(business.replacements, 1):
        base = f"{path}/ReplacementInfoList/ReplacementInfo[{i}]"
        _document_id(f"{base}/DocumentId", replacement.document_id)
        for j, organ_id in enumerate(replacement.organ_ids, 1):
            _code(f"{base}/OrganIdList/OrganId[{j}]", organ_id)


def check_attachments(attachments: Iterable[Attachment]) -> None:
    seen: set[str] = set()
    for i, attachment in enumerate(attachments, 1):
        path = f"{ATTACHMENTS}/Attachment[{i}]"
        cid = attachment.content_id
        if not _CONTENT_ID.fullmatch(cid) or cid.lower().startswith("cid:"):
            raise errors.bad_value(
                f"{path}/ContentId",
                cid,
                "một mã không rỗng, không có khoảng trắng, không kèm tiền tố cid:",
                "a non-empty token without spaces and without the cid: prefix",
            )
        if cid in seen:
            raise EdxmlError(
                f"ContentId {errors.quote(cid)} bị trùng.",
                f"ContentId {errors.quote(cid)} is used twice.",
                reason="duplicate-cid",
                path=f"{path}/ContentId",
            )
        seen.add(cid)
        _filled(f"{path}/AttachmentName", attachment.name)
        _filled(f"{path}/ContentType", attachment.content_type)
        if attachment.content.startswith(_ZIP_MAGIC):
            _check_zip(f"{path}/ContentTransferEncoded", attachment.content)


def _check_zip(path: str, content: bytes) -> None:
    """A compressed attachment (the SDK's zip option, spec §1.7) opens and holds a file."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            entries = len(archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise EdxmlError(
            "tệp đính kèm dạng ZIP bị hỏng.",
            "the ZIP attachment is damaged.",
            reason="bad-zip",
            path=path,
        ) from error
    if entries == 0:
        raise EdxmlError(
            "tệp đính kèm dạng ZIP không chứa tệp nào.",
            "the ZIP attachment holds no file.",
            reason="bad-zip",
            path=path,
        )


def check_document(packet: DocumentPacket) -> None:
    check_message_header(packet.header, packet.business.doc_type)
    if not packet.trace:
        raise errors.missing(f"{TRACE_LIST}/TraceHeader")
    for i, hop in enumerate(packet.trace, 1):
        _code(f"{TRACE_LIST}/TraceHeader[{i}]/OrganId", hop.organ_id)
    check_business(packet.business)
    check_attachments(packet.attachments)


def check_status(status: StatusPacket, path: str = MESSAGE_HEADER) -> None:
    _response_for(f"{path}/ResponseFor", status.response_for)
    _organisation(f"{path}/From", status.sender)
    if status.code not in StatusCode.__members__.values():
        raise errors.bad_value(
            f"{path}/StatusCode", str(status.code), "một mã trạng thái đã biết", "a known code"
        )
