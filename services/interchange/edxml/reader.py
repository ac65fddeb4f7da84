"""Reading edXML packets: bytes -> the model, refusing anything malformed with the element path.

Elements are found by local name, in any namespace and any order (senders differ; spec §1.3,
§1.4 notes, §2.1); a singleton that repeats is refused rather than guessed at. Typed values
(dates, numbers, codes) are read with surrounding whitespace trimmed; free text is kept as it
is. A signature, when present, is verified on the same tree before anything is converted."""

from __future__ import annotations

import binascii
import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Generic, TypeVar

from services.interchange.edxml import errors, validation
from services.interchange.edxml.conventions import (
    BUSINESS_SPELLINGS,
    DATE_FORMAT,
    DEFAULT_MAX_PACKET_BYTES,
    STATUS_BLOCK_ALIASES,
    STATUS_CODE_ALIASES,
    STATUS_TIMESTAMP_FORMATS,
    TIMESTAMP_FORMAT,
)
from services.interchange.edxml.dates import parse_date, parse_timestamp
from services.interchange.edxml.errors import EdxmlError
from services.interchange.edxml.model import (
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
)
from services.interchange.edxml.parsing import Node, Source, parse_xml, read_limited
from services.interchange.edxml.signature import VerifiedSignature, find_signature, verify

logger = logging.getLogger("qlvb.interchange.edxml")

P = TypeVar("P", DocumentPacket, StatusPacket)

_PATTERN_NAMES = {DATE_FORMAT: "yyyy/MM/dd", TIMESTAMP_FORMAT: "yyyy/MM/dd HH:mm:ss"}
_TRUE = frozenset({"1", "true"})
_FALSE = frozenset({"0", "false"})
_BASE64_WHITESPACE = str.maketrans("", "", " \t\r\n")


@dataclass(frozen=True)
class Received(Generic[P]):
    """A packet read from the wire and, when it was signed, its verified signature."""

    packet: P
    signature: VerifiedSignature | None


# ---------------------------------------------------------------------------------------------
# Values


def _date(node: Node) -> date:
    try:
        return parse_date(node.text(), DATE_FORMAT)
    except ValueError as error:
        raise errors.bad_date(node.path, node.text(), "yyyy/MM/dd") from error


def _optional_date(parent: Node, name: str) -> date | None:
    node = parent.optional(name)
    return None if node is None else _date(node)


def _timestamp(node: Node, patterns: tuple[str, ...] = (TIMESTAMP_FORMAT,)) -> datetime:
    for pattern in patterns:
        try:
            return parse_timestamp(node.text(), pattern)
        except ValueError:
            continue
    raise errors.bad_date(node.path, node.text(), _PATTERN_NAMES[patterns[0]])


def _integer(node: Node) -> int:
    text = node.text().strip()
    try:
        return int(text)
    except ValueError as error:
        raise errors.bad_value(node.path, text, "một số nguyên", "an integer") from error


def _optional_integer(parent: Node, name: str) -> int | None:
    node = parent.optional(name)
    return None if node is None else _integer(node)


def _flag(node: Node) -> bool:
    text = node.text().strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise errors.bad_value(node.path, text, "0/1 hoặc true/false", "0/1 or true/false")


def _optional_flag(parent: Node, name: str) -> bool | None:
    node = parent.optional(name)
    return None if node is None else _flag(node)


def _code(parent: Node, name: str) -> str:
    """An agency code: trimmed (the format is checked with the model)."""
    return parent.required_text(name).strip()


def _texts(parent: Node, container: str, name: str) -> tuple[str, ...]:
    node = parent.optional(container)
    return () if node is None else tuple(child.text() for child in node.repeated(name))


# ---------------------------------------------------------------------------------------------
# Blocks


def _organisation(node: Node) -> Organisation:
    return Organisation(
        organ_id=_code(node, "OrganId"),
        organization_in_charge=node.optional_text("OrganizationInCharge"),
        organ_name=node.optional_text("OrganName"),
        address=node.optional_text("OrganAdd"),
        email=node.optional_text("Email"),
        telephone=node.optional_text("Telephone"),
        fax=node.optional_text("Fax"),
        website=node.optional_text("Website"),
    )


def _response_for(node: Node) -> ResponseFor:
    return ResponseFor(
        organ_id=_code(node, "OrganId"),
        code=node.required_text("Code").strip(),
        promulgation_date=_date(node.required("PromulgationDate")),
        document_id=node.required_text("DocumentId").strip(),
    )


def _staff(node: Node) -> StaffInfo:
    return StaffInfo(
        department=node.optional_text("Department"),
        staff=node.optional_text("Staff"),
        mobile=node.optional_text("Mobile"),
        email=node.optional_text("Email"),
    )


def _message_header(node: Node) -> MessageHeader:
    code = node.required("Code")
    promulgation = node.required("PromulgationInfo")
    kind = node.required("DocumentType")
    signer = node.required("SignerInfo")
    other = node.optional("OtherInfo")
    return MessageHeader(
        sender=_organisation(node.required("From")),
        recipients=tuple(_organisation(to) for to in node.repeated("To")),
        document_id=node.required_text("DocumentId").strip(),
        code=Code(
            number=code.required_text("CodeNumber").strip(),
            notation=code.required_text("CodeNotation").strip(),
        ),
        promulgation=PromulgationInfo(
            place=promulgation.optional_text("Place") or "",
            date=_date(promulgation.required("PromulgationDate")),
        ),
        document_type=DocumentType(
            type=_integer(kind.required("Type")),
            type_name=kind.required_text("TypeName"),
            type_detail=_optional_integer(kind, "TypeDetail"),
        ),
        subject=node.required_text("Subject"),
        content=node.optional_text("Content"),
        signer=SignerInfo(
            competence=signer.optional_text("Competence"),
            position=signer.optional_text("Position"),
            full_name=signer.optional_text("FullName") or "",
        ),
        due_date=_optional_date(node, "DueDate"),
        other=OtherInfo() if other is None else _other_info(other),
        response_for=tuple(_response_for(r) for r in node.repeated("ResponseFor")),
        steering_type=_optional_integer(node, "SteeringType") or 0,
        to_places=_texts(node, "ToPlaces", "Place"),
    )


def _other_info(node: Node) -> OtherInfo:
    return OtherInfo(
        priority=_optional_integer(node, "Priority") or 0,
        sphere_of_promulgation=node.optional_text("SphereOfPromulgation"),
        typer_notation=node.optional_text("TyperNotation"),
        promulgation_amount=_optional_integer(node, "PromulgationAmount"),
        page_amount=_optional_integer(node, "PageAmount"),
        direction=_optional_flag(node, "Direction"),
        appendixes=_texts(node, "Appendixes", "Appendix"),
    )


def _spellings(suffix: str) -> tuple[str, ...]:
    """`BussinessDocType` or `BusinessDocType`: both spellings are read (spec §1.3 item 4)."""
    return tuple(f"{spelling}{suffix}" for spelling in BUSINESS_SPELLINGS)


def _business(node: Node) -> Business:
    type_node = node.required(*_spellings("DocType"))
    number = _integer(type_node)
    if number not in BusinessDocType.__members__.values():
        raise errors.bad_value(type_node.path, str(number), "0, 1, 2 hoặc 3", "0, 1, 2 or 3")
    reason = node.optional(*_spellings("DocReason"))
    info = node.optional(*_spellings("DocumentInfo"))
    replacements = node.optional("ReplacementInfoList")
    document_id = node.optional_text("DocumentId")
    paper = node.optional("Paper")
    return Business(
        doc_type=BusinessDocType(number),
        reason=None if reason is None else reason.text(),
        document_id=None if document_id is None else document_id.strip() or None,
        paper=False if paper is None else _flag(paper),
        staff=tuple(_staff(s) for s in node.repeated("StaffInfo")),
        document_info=None if info is None else _document_info(info),
        replacements=()
        if replacements is None
        else tuple(_replacement(r) for r in replacements.repeated("ReplacementInfo")),
    )


def _document_info(node: Node) -> BusinessDocumentInfo:
    receivers = node.optional("ReceiverList")
    return BusinessDocumentInfo(
        document_info=_flag(node.required("DocumentInfo")),
        document_receiver=_flag(node.required("DocumentReceiver")),
        receivers=()
        if receivers is None
        else tuple(
            Receiver(
                receiver_type=_integer(r.required("ReceiverType")), organ_id=_code(r, "OrganId")
            )
            for r in receivers.repeated("Receiver")
        ),
    )


def _replacement(node: Node) -> ReplacementInfo:
    organ_ids = node.optional("OrganIdList")
    return ReplacementInfo(
        document_id=node.required_text("DocumentId").strip(),
        organ_ids=()
        if organ_ids is None
        else tuple(o.text().strip() for o in organ_ids.repeated("OrganId")),
    )


# ---------------------------------------------------------------------------------------------
# Attachments


def _content_id(node: Node) -> str:
    """`cid:209` and `209` name the same attachment (spec §1.7)."""
    text = node.text().strip()
    token = (text[4:] if text[:4].lower() == "cid:" else text).strip()
    if not token:
        raise errors.bad_value(node.path, text, "cid:<mã>", "cid:<token>")
    return token


def _base64(node: Node) -> bytes:
    text = node.text()
    try:
        return binascii.a2b_base64(text, strict_mode=True)
    except (binascii.Error, ValueError):
        pass
    # Line-wrapped base64 (MIME style, as some encoders write it) is still base64.
    try:
        return binascii.a2b_base64(text.translate(_BASE64_WHITESPACE), strict_mode=True)
    except (binascii.Error, ValueError) as error:
        raise EdxmlError(
            "nội dung tệp đính kèm không phải base64 hợp lệ.",
            "the attachment content is not valid base64.",
            reason="bad-base64",
            path=node.path,
        ) from error


def _attachments(root: Node, envelope: Node) -> tuple[Attachment, ...]:
    """The manifest's references, each joined with its encoded attachment by content id."""
    body = envelope.optional("edXMLBody")
    manifest = None if body is None else body.optional("edXMLManifest")
    references = [] if manifest is None else manifest.repeated("Reference")
    encoded = root.optional("AttachmentEncoded")
    stored = [] if encoded is None else encoded.repeated("Attachment")

    by_cid: dict[str, Node] = {}
    for node in stored:
        cid_node = node.required("ContentId")
        cid = _content_id(cid_node)
        if cid in by_cid:
            raise EdxmlError(
                f"ContentId {errors.quote(cid)} bị trùng.",
                f"ContentId {errors.quote(cid)} is used twice.",
                reason="duplicate-cid",
                path=cid_node.path,
            )
        by_cid[cid] = node

    attachments: list[Attachment] = []
    referenced: set[str] = set()
    for reference in references:
        cid_node = reference.required("ContentId")
        cid = _content_id(cid_node)
        if cid in referenced:
            raise EdxmlError(
                f"ContentId {errors.quote(cid)} được tham chiếu hai lần.",
                f"ContentId {errors.quote(cid)} is referenced twice.",
                reason="duplicate-cid",
                path=cid_node.path,
            )
        referenced.add(cid)
        found = by_cid.get(cid)
        if found is None:
            raise EdxmlError(
                f"tham chiếu {errors.quote(cid)} không có tệp đính kèm tương ứng.",
                f"reference {errors.quote(cid)} has no matching attachment.",
                reason="cid-without-attachment",
                path=cid_node.path,
            )

        def field(name: str, attachment: Node = found, ref: Node = reference) -> str | None:
            # The attachment's own copy first; the manifest's when the sender left it out.
            value = attachment.optional_text(name)
            return ref.optional_text(name) if value is None else value

        attachments.append(
            Attachment(
                content_id=cid,
                name=field("AttachmentName") or "",
                content_type=field("ContentType") or "",
                description=field("Description"),
                content=_base64(found.required("ContentTransferEncoded")),
            )
        )
    for cid, node in by_cid.items():
        if cid not in referenced:
            raise EdxmlError(
                f"tệp đính kèm {errors.quote(cid)} không được khai báo trong edXMLManifest.",
                f"attachment {errors.quote(cid)} is not listed in the edXMLManifest.",
                reason="attachment-without-reference",
                path=f"{node.path}/ContentId",
            )
    return tuple(attachments)


# ---------------------------------------------------------------------------------------------
# Packets


def _open(
    source: Source, max_bytes: int, declared_size: int | None
) -> tuple[Node, Node, Node, VerifiedSignature | None]:
    """Nodes of the root, the envelope and its header; the signature, if any, checked."""
    element = parse_xml(read_limited(source, max_bytes, declared_size))
    root = Node(element, "edXML")
    if root.name != "edXML":
        raise EdxmlError(
            f"phần tử gốc là {errors.quote(root.name)}, không phải edXML.",
            f"the root element is {errors.quote(root.name)}, not edXML.",
            reason="not-edxml",
            path=root.name,
        )
    envelope = root.required("edXMLEnvelope")
    header = envelope.required("edXMLHeader")
    signature = find_signature(header)
    verified = None if signature is None else verify(element, signature)
    return root, envelope, header, verified


def read_document(
    source: Source,
    *,
    max_bytes: int = DEFAULT_MAX_PACKET_BYTES,
    declared_size: int | None = None,
) -> Received[DocumentPacket]:
    """A document packet and its verified signature (None when unsigned).

    `declared_size` is the size announced before the bytes (a Content-Length): above
    `max_bytes`, the packet is refused before anything is read."""
    root, envelope, header, verified = _open(source, max_bytes, declared_size)
    trace_list = header.required("TraceHeaderList")
    business_node = trace_list.required(*BUSINESS_SPELLINGS)
    business = _business(business_node)
    packet = DocumentPacket(
        header=_message_header(header.required("MessageHeader")),
        trace=tuple(
            TraceHeader(
                organ_id=_code(hop, "OrganId"), timestamp=_timestamp(hop.required("Timestamp"))
            )
            for hop in trace_list.repeated("TraceHeader")
        ),
        business=business,
        attachments=_attachments(root, envelope),
    )
    # The business block first, at its real path (either spelling); then the whole packet.
    validation.check_business(business, business_node.path)
    validation.check_document(packet)
    return Received(packet, verified)


def parse_document(
    source: Source,
    *,
    max_bytes: int = DEFAULT_MAX_PACKET_BYTES,
    declared_size: int | None = None,
) -> DocumentPacket:
    """A document packet from edXML bytes or a binary stream; a signature, when present, must
    hold. Raises `EdxmlError` naming the element and the reason."""
    return read_document(source, max_bytes=max_bytes, declared_size=declared_size).packet


def _status_block(root: Node, header: Node) -> Node:
    """`edXML:MessageHeader` (our choice), `edXML:Status`, or such a block anywhere, as the
    older SOAP-wrapped format had it (conventions, choice 3)."""
    for name in STATUS_BLOCK_ALIASES:
        node = header.optional(name)
        if node is not None and node.optional("StatusCode") is not None:
            return node
    for node in root.descendants(*STATUS_BLOCK_ALIASES):
        if node.optional("StatusCode") is not None:
            return node
    raise errors.missing(f"{header.path}/MessageHeader/StatusCode")


def _status_code(node: Node) -> StatusCode:
    text = node.text().strip()
    alias = STATUS_CODE_ALIASES.get(text)
    if alias is not None:
        logger.warning("edxml_status_code_alias", extra={"code": text, "read_as": alias})
        text = alias
    try:
        return StatusCode(text)
    except ValueError as error:
        raise errors.bad_value(
            node.path,
            text,
            "01-06, 13, 15 hoặc 16",
            "01-06, 13, 15 or 16",
        ) from error


def read_status(
    source: Source,
    *,
    max_bytes: int = DEFAULT_MAX_PACKET_BYTES,
    declared_size: int | None = None,
) -> Received[StatusPacket]:
    """A status packet and its verified signature (None when unsigned)."""
    root, _, header, verified = _open(source, max_bytes, declared_size)
    block = _status_block(root, header)
    staff = block.optional("StaffInfo")
    status = StatusPacket(
        response_for=_response_for(block.required("ResponseFor")),
        sender=_organisation(block.required("From")),
        code=_status_code(block.required("StatusCode")),
        description=block.optional_text("Description"),
        timestamp=_timestamp(block.required("Timestamp"), STATUS_TIMESTAMP_FORMATS),
        staff=None if staff is None else _staff(staff),
    )
    validation.check_status(status, block.path)
    return Received(status, verified)


def parse_status(
    source: Source,
    *,
    max_bytes: int = DEFAULT_MAX_PACKET_BYTES,
    declared_size: int | None = None,
) -> StatusPacket:
    """A status packet from edXML bytes or a binary stream (see `parse_document`)."""
    return read_status(source, max_bytes=max_bytes, declared_size=declared_size).packet
