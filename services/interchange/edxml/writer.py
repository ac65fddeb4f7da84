"""Building edXML packets: the model -> bytes, written by hand to the letter of spec §1.3.

The text is written directly rather than through an XML library, because the wire form is the
point: explicit `edXML:` prefixes inside the envelope, unprefixed attachments with a locally
declared prefix on `ContentTransferEncoded`, the `Bussiness` spelling and the sample's element
order. Everything written is escaped here, and characters XML 1.0 cannot carry are refused.

A packet is laid out first (the small text parts encoded, the attachments only referenced), so
its exact size is known before any attachment is base64-encoded: an oversized packet is refused
before the expensive work. The attachments are then encoded in slices straight into the output,
so no string ever grows by repeated concatenation."""

from __future__ import annotations

import binascii
import io
import re
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import IO, Final

from services.interchange.edxml import validation
from services.interchange.edxml.conventions import (
    BUSINESS_ORDER,
    DEFAULT_MAX_PACKET_BYTES,
    MESSAGE_HEADER_ORDER,
    NAMESPACE,
    PREFIX,
    REASON_REQUIRED,
    STATUS_BLOCK,
    STATUS_ORDER,
)
from services.interchange.edxml.dates import format_date, format_timestamp
from services.interchange.edxml.errors import EdxmlError, too_large
from services.interchange.edxml.model import (
    Business,
    DocumentPacket,
    MessageHeader,
    Organisation,
    ResponseFor,
    StaffInfo,
    StatusPacket,
)
from services.interchange.edxml.signature import SigningIdentity, sign

_DECLARATION: Final = '<?xml version="1.0" encoding="utf-8"?>\n'
_EMPTY_SIGNATURE: Final = f"<{PREFIX}:DigitalSignature/>".encode()
# Base64 slices: a multiple of 3 bytes, so the slices' encodings concatenate into one.
_ENCODE_SLICE: Final = 3 << 18
_INVALID_XML_CHAR: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ESCAPES: Final = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})


class _Encoded:
    """An attachment's bytes, to be written as base64 when the packet is written."""

    __slots__ = ("content",)

    def __init__(self, content: bytes) -> None:
        self.content = content

    @property
    def size(self) -> int:
        return 4 * ((len(self.content) + 2) // 3)


class _Slot:
    """Where the signature goes: the last child of `edXMLHeader`."""


_SIGNATURE_SLOT: Final = _Slot()


class _Layout:
    """A packet as text parts, attachment contents and the signature slot, in order."""

    def __init__(self) -> None:
        self.parts: list[bytes | _Encoded | _Slot] = []
        self._text: list[str] = []
        self._open: list[str] = []

    # -- text -----------------------------------------------------------------------------

    def _flush(self) -> None:
        if self._text:
            self.parts.append("".join(self._text).encode())
            self._text.clear()

    def raw(self, text: str) -> None:
        self._text.append(text)

    def path(self, name: str) -> str:
        return "/".join([*self._open, name])

    def open(self, name: str, *, prefixed: bool = True, attributes: str = "") -> None:
        tag = f"{PREFIX}:{name}" if prefixed else name
        self._text.append(f"<{tag}{attributes}>")
        self._open.append(name)

    def close(self, name: str, *, prefixed: bool = True) -> None:
        tag = f"{PREFIX}:{name}" if prefixed else name
        self._text.append(f"</{tag}>")
        self._open.pop()

    def leaf(self, name: str, value: str | None, *, prefixed: bool = True, path: str = "") -> None:
        """`<edXML:name>value</edXML:name>`; nothing for None, an empty element for ""."""
        if value is None:
            return
        if _INVALID_XML_CHAR.search(value):
            raise EdxmlError(
                "chứa ký tự điều khiển mà XML không cho phép.",
                "contains a control character that XML does not allow.",
                reason="bad-character",
                path=path or self.path(name),
            )
        tag = f"{PREFIX}:{name}" if prefixed else name
        self._text.append(f"<{tag}>{value.translate(_ESCAPES)}</{tag}>")

    def leaves(self, container: str, name: str, values: Iterable[str]) -> None:
        """`<container><name>v1</name>...</container>`; nothing for no values."""
        values = list(values)
        if not values:
            return
        self.open(container)
        for i, value in enumerate(values, 1):
            self.leaf(name, value, path=self.path(f"{name}[{i}]"))
        self.close(container)

    # -- the rest -------------------------------------------------------------------------

    def slot(self) -> None:
        self._flush()
        self.parts.append(_SIGNATURE_SLOT)

    def encoded(self, content: bytes) -> None:
        self._flush()
        self.parts.append(_Encoded(content))

    def finish(self) -> _Layout:
        self._flush()
        return self

    def size(self, signature: bytes) -> int:
        total = 0
        for part in self.parts:
            if isinstance(part, bytes):
                total += len(part)
            elif isinstance(part, _Encoded):
                total += part.size
            else:
                total += len(signature)
        return total

    def write(self, out: IO[bytes], signature: bytes) -> None:
        for part in self.parts:
            if isinstance(part, bytes):
                out.write(part)
            elif isinstance(part, _Encoded):
                view = memoryview(part.content)
                for start in range(0, len(view), _ENCODE_SLICE):
                    out.write(
                        binascii.b2a_base64(view[start : start + _ENCODE_SLICE], newline=False)
                    )
            else:
                out.write(signature)

    def slot_offset(self) -> int:
        offset = 0
        for part in self.parts:
            if isinstance(part, _Slot):
                return offset
            if isinstance(part, bytes):
                offset += len(part)
            else:
                offset += part.size
        raise AssertionError("layout without a signature slot")


# ---------------------------------------------------------------------------------------------
# Elements


def _number(value: int | None) -> str | None:
    return None if value is None else str(int(value))


def _flag(value: bool) -> str:
    return "1" if value else "0"


def _date(value: date | None) -> str | None:
    return None if value is None else format_date(value)


def _timestamp(layout: _Layout, name: str, value: datetime) -> None:
    try:
        text = format_timestamp(value)
    except (ValueError, OverflowError) as error:
        raise EdxmlError(
            "thời điểm phải kèm múi giờ.",
            "the timestamp must be timezone-aware.",
            reason="bad-date",
            path=layout.path(name),
        ) from error
    layout.leaf(name, text)


def _organisation(layout: _Layout, name: str, organisation: Organisation) -> None:
    layout.open(name)
    layout.leaf("OrganId", organisation.organ_id)
    layout.leaf("OrganizationInCharge", organisation.organization_in_charge)
    layout.leaf("OrganName", organisation.organ_name)
    layout.leaf("OrganAdd", organisation.address)
    layout.leaf("Email", organisation.email)
    layout.leaf("Telephone", organisation.telephone)
    layout.leaf("Fax", organisation.fax)
    layout.leaf("Website", organisation.website)
    layout.close(name)


def _response_for(layout: _Layout, response: ResponseFor) -> None:
    layout.open("ResponseFor")
    layout.leaf("OrganId", response.organ_id)
    layout.leaf("Code", response.code)
    layout.leaf("PromulgationDate", format_date(response.promulgation_date))
    layout.leaf("DocumentId", response.document_id)
    layout.close("ResponseFor")


def _staff(layout: _Layout, staff: StaffInfo) -> None:
    layout.open("StaffInfo")
    layout.leaf("Department", staff.department)
    layout.leaf("Staff", staff.staff)
    layout.leaf("Mobile", staff.mobile)
    layout.leaf("Email", staff.email)
    layout.close("StaffInfo")


def _message_header(layout: _Layout, header: MessageHeader) -> None:
    def from_() -> None:
        _organisation(layout, "From", header.sender)

    def to() -> None:
        for recipient in header.recipients:
            _organisation(layout, "To", recipient)

    def code() -> None:
        layout.open("Code")
        layout.leaf("CodeNumber", header.code.number)
        layout.leaf("CodeNotation", header.code.notation)
        layout.close("Code")

    def promulgation() -> None:
        layout.open("PromulgationInfo")
        layout.leaf("Place", header.promulgation.place)
        layout.leaf("PromulgationDate", format_date(header.promulgation.date))
        layout.close("PromulgationInfo")

    def document_type() -> None:
        kind = header.document_type
        layout.open("DocumentType")
        layout.leaf("Type", str(int(kind.type)))
        layout.leaf("TypeDetail", _number(kind.type_detail))
        layout.leaf("TypeName", kind.type_name)
        layout.close("DocumentType")

    def signer() -> None:
        layout.open("SignerInfo")
        layout.leaf("Competence", header.signer.competence)
        layout.leaf("Position", header.signer.position)
        layout.leaf("FullName", header.signer.full_name)
        layout.close("SignerInfo")

    def other() -> None:
        info = header.other
        layout.open("OtherInfo")
        layout.leaf("Priority", str(int(info.priority)))
        layout.leaf("SphereOfPromulgation", info.sphere_of_promulgation)
        layout.leaf("TyperNotation", info.typer_notation)
        layout.leaf("PromulgationAmount", _number(info.promulgation_amount))
        layout.leaf("PageAmount", _number(info.page_amount))
        if info.direction is not None:
            layout.leaf("Direction", "true" if info.direction else "false")
        layout.leaves("Appendixes", "Appendix", info.appendixes)
        layout.close("OtherInfo")

    def response_for() -> None:
        for response in header.response_for:
            _response_for(layout, response)

    writers: dict[str, Callable[[], None]] = {
        "From": from_,
        "To": to,
        "DocumentId": lambda: layout.leaf("DocumentId", header.document_id),
        "Code": code,
        "PromulgationInfo": promulgation,
        "DocumentType": document_type,
        "Subject": lambda: layout.leaf("Subject", header.subject),
        "Content": lambda: layout.leaf("Content", header.content),
        "SignerInfo": signer,
        "DueDate": lambda: layout.leaf("DueDate", _date(header.due_date)),
        "OtherInfo": other,
        "ResponseFor": response_for,
        "SteeringType": lambda: layout.leaf("SteeringType", str(int(header.steering_type))),
        "ToPlaces": lambda: layout.leaves("ToPlaces", "Place", header.to_places),
    }
    layout.open("MessageHeader")
    for name in MESSAGE_HEADER_ORDER:
        writers[name]()
    layout.close("MessageHeader")


def _business(layout: _Layout, business: Business) -> None:
    def document_info() -> None:
        info = business.document_info
        if info is None:
            return
        layout.open("BussinessDocumentInfo")
        layout.leaf("DocumentInfo", _flag(info.document_info))
        layout.leaf("DocumentReceiver", _flag(info.document_receiver))
        if info.receivers:
            layout.open("ReceiverList")
            for receiver in info.receivers:
                layout.open("Receiver")
                layout.leaf("ReceiverType", str(int(receiver.receiver_type)))
                layout.leaf("OrganId", receiver.organ_id)
                layout.close("Receiver")
            layout.close("ReceiverList")
        layout.close("BussinessDocumentInfo")

    def staff() -> None:
        for person in business.staff:
            _staff(layout, person)

    def replacements() -> None:
        if not business.replacements:
            return
        layout.open("ReplacementInfoList")
        for replacement in business.replacements:
            layout.open("ReplacementInfo")
            layout.leaf("DocumentId", replacement.document_id)
            layout.leaves("OrganIdList", "OrganId", replacement.organ_ids)
            layout.close("ReplacementInfo")
        layout.close("ReplacementInfoList")

    writers: dict[str, Callable[[], None]] = {
        "DocumentId": lambda: layout.leaf("DocumentId", business.document_id),
        "BussinessDocType": lambda: layout.leaf("BussinessDocType", str(int(business.doc_type))),
        "BussinessDocReason": lambda: layout.leaf("BussinessDocReason", business.reason),
        "BussinessDocumentInfo": document_info,
        "Paper": lambda: layout.leaf("Paper", _flag(business.paper)),
        "StaffInfo": staff,
        "ReplacementInfoList": replacements,
    }
    layout.open("Bussiness")
    for name in BUSINESS_ORDER:
        writers[name]()
    layout.close("Bussiness")


def _start(layout: _Layout) -> None:
    layout.raw(_DECLARATION)
    layout.open("edXML", prefixed=False, attributes=f' xmlns="{NAMESPACE}"')
    layout.open("edXMLEnvelope", attributes=f' xmlns:{PREFIX}="{NAMESPACE}"')
    layout.open("edXMLHeader")


def _document_layout(packet: DocumentPacket) -> _Layout:
    layout = _Layout()
    _start(layout)
    _message_header(layout, packet.header)
    layout.open("TraceHeaderList")
    for hop in packet.trace:
        layout.open("TraceHeader")
        layout.leaf("OrganId", hop.organ_id)
        _timestamp(layout, "Timestamp", hop.timestamp)
        layout.close("TraceHeader")
    _business(layout, packet.business)
    layout.close("TraceHeaderList")
    layout.slot()
    layout.close("edXMLHeader")
    layout.open("edXMLBody")
    layout.open("edXMLManifest", attributes=' version="1.0"')
    for attachment in packet.attachments:
        layout.open("Reference")
        layout.leaf("ContentId", f"cid:{attachment.content_id}")
        layout.leaf("ContentType", attachment.content_type)
        layout.leaf("Description", attachment.description)
        layout.leaf("AttachmentName", attachment.name)
        layout.close("Reference")
    layout.close("edXMLManifest")
    layout.close("edXMLBody")
    layout.close("edXMLEnvelope")
    # Outside the envelope, unprefixed, except ContentTransferEncoded (spec §1.3 item 3).
    layout.open("AttachmentEncoded", prefixed=False)
    for attachment in packet.attachments:
        layout.open("Attachment", prefixed=False)
        layout.leaf("ContentId", f"cid:{attachment.content_id}", prefixed=False)
        layout.leaf("AttachmentName", attachment.name, prefixed=False)
        layout.leaf("Description", attachment.description, prefixed=False)
        layout.leaf("ContentType", attachment.content_type, prefixed=False)
        layout.raw(f'<{PREFIX}:ContentTransferEncoded xmlns:{PREFIX}="{NAMESPACE}">')
        layout.encoded(attachment.content)
        layout.raw(f"</{PREFIX}:ContentTransferEncoded>")
        layout.close("Attachment", prefixed=False)
    layout.close("AttachmentEncoded", prefixed=False)
    layout.close("edXML", prefixed=False)
    return layout.finish()


def _status_layout(status: StatusPacket) -> _Layout:
    layout = _Layout()
    _start(layout)

    def description() -> None:
        if status.code in REASON_REQUIRED and not (status.description or "").strip():
            raise EdxmlError(
                "từ chối tiếp nhận phải nêu lý do.",
                "a rejection must give its reason.",
                reason="blank",
                path=layout.path("Description"),
            )
        layout.leaf("Description", status.description)

    def staff() -> None:
        if status.staff is not None:
            _staff(layout, status.staff)

    writers: dict[str, Callable[[], None]] = {
        "ResponseFor": lambda: _response_for(layout, status.response_for),
        "From": lambda: _organisation(layout, "From", status.sender),
        "StatusCode": lambda: layout.leaf("StatusCode", str(status.code)),
        "Description": description,
        "Timestamp": lambda: _timestamp(layout, "Timestamp", status.timestamp),
        "StaffInfo": staff,
    }
    layout.open(STATUS_BLOCK)
    for name in STATUS_ORDER:
        writers[name]()
    layout.close(STATUS_BLOCK)
    layout.slot()
    layout.close("edXMLHeader")
    layout.close("edXMLEnvelope")
    layout.close("edXML", prefixed=False)
    return layout.finish()


# ---------------------------------------------------------------------------------------------
# API


def _render(layout: _Layout, signer: SigningIdentity | None, max_bytes: int) -> bytes:
    if signer is None:
        size = layout.size(_EMPTY_SIGNATURE)
        if size > max_bytes:
            raise too_large(max_bytes, size)
        out = io.BytesIO()
        layout.write(out, _EMPTY_SIGNATURE)
        return out.getvalue()
    # The digest covers the document without its signature (enveloped transform), so the
    # unsigned document is rendered once, signed, and the signature spliced into its slot.
    size = layout.size(b"")
    if size > max_bytes:
        raise too_large(max_bytes, size)
    out = io.BytesIO()
    layout.write(out, b"")
    unsigned = out.getbuffer()
    signature = sign(bytes(unsigned), signer)
    if size + len(signature) > max_bytes:
        raise too_large(max_bytes, size + len(signature))
    offset = layout.slot_offset()
    return b"".join((unsigned[:offset], signature, unsigned[offset:]))


def build_document(
    packet: DocumentPacket,
    *,
    signer: SigningIdentity | None = None,
    max_bytes: int = DEFAULT_MAX_PACKET_BYTES,
) -> bytes:
    """The edXML bytes of a document packet, signed when `signer` is given; raises
    `EdxmlError` for a packet that breaks a rule or would exceed `max_bytes`."""
    validation.check_document(packet)
    return _render(_document_layout(packet), signer, max_bytes)


def write_document(
    packet: DocumentPacket, out: IO[bytes], *, max_bytes: int = DEFAULT_MAX_PACKET_BYTES
) -> int:
    """Stream an unsigned document packet into `out` (a file, a pipe); the bytes written.
    Nothing is written when the packet is refused."""
    validation.check_document(packet)
    layout = _document_layout(packet)
    size = layout.size(_EMPTY_SIGNATURE)
    if size > max_bytes:
        raise too_large(max_bytes, size)
    layout.write(out, _EMPTY_SIGNATURE)
    return size


def build_status(
    status: StatusPacket,
    *,
    signer: SigningIdentity | None = None,
    max_bytes: int = DEFAULT_MAX_PACKET_BYTES,
) -> bytes:
    """The edXML bytes of a status packet (no attachments), signed when `signer` is given."""
    validation.check_status(status)
    return _render(_status_layout(status), signer, max_bytes)


__all__ = ["build_document", "build_status", "write_document"]
