"""edXML (QCVN 102:2016/BTTTT) packets: the typed model, the codec and the packet signature.

    build_document(packet, signer=None) -> bytes      parse_document(bytes | stream) -> packet
    build_status(status, signer=None) -> bytes        parse_status(bytes | stream) -> status
    write_document(packet, out) -> size               read_document / read_status -> Received
                                                        (the packet and its verified signature)

Every refusal is an `EdxmlError` (422, code `edxml-invalid`) with the element `path` and a
`reason` slug. The wire choices on points the standard leaves open are in `conventions`."""

from services.interchange.edxml.codes import document_id, is_agency_code, is_document_id
from services.interchange.edxml.conventions import DEFAULT_MAX_PACKET_BYTES, Priority
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
from services.interchange.edxml.reader import (
    Received,
    parse_document,
    parse_status,
    read_document,
    read_status,
)
from services.interchange.edxml.signature import SigningIdentity, VerifiedSignature
from services.interchange.edxml.writer import build_document, build_status, write_document

__all__ = [
    "DEFAULT_MAX_PACKET_BYTES",
    "Attachment",
    "Business",
    "BusinessDocType",
    "BusinessDocumentInfo",
    "Code",
    "DocumentPacket",
    "DocumentType",
    "EdxmlError",
    "MessageHeader",
    "Organisation",
    "OtherInfo",
    "Priority",
    "PromulgationInfo",
    "Received",
    "Receiver",
    "ReplacementInfo",
    "ResponseFor",
    "SignerInfo",
    "SigningIdentity",
    "StaffInfo",
    "StatusCode",
    "StatusPacket",
    "TraceHeader",
    "VerifiedSignature",
    "build_document",
    "build_status",
    "document_id",
    "is_agency_code",
    "is_document_id",
    "parse_document",
    "parse_status",
    "read_document",
    "read_status",
    "write_document",
]
