"""Every wire choice of the edXML codec, in one place: the facts of the standard and, where
`shared/spec/standards.md` marks a point UNCONFIRMED, the choice made here.

Facts (spec §1.2, §1.3):
* The root is `edXML` with the QCVN 102:2016 URI as default namespace; the envelope declares the
  same URI again under the prefix `edXML`, and every element inside the envelope is written with
  that prefix (the VPCP side's .NET XmlSerializer refused namespace-equivalent XML without it).
* `AttachmentEncoded` and its children are unprefixed; `ContentTransferEncoded` carries the
  prefix with its own `xmlns:edXML` declaration, as in the official sample [S1].
* The business block is spelled `Bussiness*` (double s) on output; both spellings are read.
* Dates are `yyyy/MM/dd`, trace timestamps `yyyy/MM/dd HH:mm:ss` in local time without a zone.

Choices on UNCONFIRMED points (spec §10), each a constant below:
1. Element order of `MessageHeader`: the official sample's order [S1]; `ResponseFor`, whose
   position is unknown, follows `OtherInfo` as in the libraries' field order
   (`MESSAGE_HEADER_ORDER`). Readers do not depend on order.
2. Element order of `Bussiness`: the skeleton's order, with `BussinessDocumentInfo` after the
   reason (QCVN numbering 2.2.3) and `ReplacementInfoList` last (2.2.8) (`BUSINESS_ORDER`).
3. Status packets: the children sit in `edXML:MessageHeader`, as the VNPT library builds them
   (`Header.setMessageHeader(MessageStatus)`, [S7]); the reader also takes `edXML:Status`, and
   looks for the block anywhere in the document (the older provincial SOAP wrapping)
   (`STATUS_BLOCK`, `STATUS_BLOCK_ALIASES`).
4. Status `Timestamp` is written `yyyy/MM/dd HH:mm:ss`, like every other edXML timestamp; the
   older `dd/MM/yyyy HH:mm:ss` is also read (`STATUS_TIMESTAMP_FORMATS`).
5. Local time is Vietnam time, UTC+07:00 (one zone, no daylight saving). Timestamps in the model
   are timezone-aware; the writer converts to UTC+07:00 and drops the zone and the fraction of
   a second, the reader attaches UTC+07:00 (`LOCAL_TIME`).
6. Status code 14 appears once in a VPCP sample where 15 ("agree") is meant; it is read as 15
   and logged (`STATUS_CODE_ALIASES`). Codes 07-12 are refused.
7. `Priority` values: 0 normal (all samples), then the common assumption 1 khẩn, 2 thượng
   khẩn, 3 hỏa tốc (`Priority`). The model keeps the number, so any one-digit value passes.
8. `DocumentType/Type`, `SteeringType`, `ReceiverType` and `Direction` are passed through as
   numbers/booleans without a code table; receivers key on `TypeName`.
9. An unsigned packet carries an empty `<edXML:DigitalSignature/>` (accepted by LGSP Lạng Sơn
   and VDXP [S6]); a signed one carries an XML-DSig `Signature` in the standard
   `http://www.w3.org/2000/09/xmldsig#` namespace as the last child of `edXMLHeader`, signed
   RSA-SHA256 over the whole document (`URI=""`, enveloped, exclusive c14n), so the
   attachments are covered too. The reader verifies a `Signature` in either namespace (the
   official sample's sits in the edXML namespace) and also accepts the sample's SHA-1.
10. Attachments: `ContentId` is written `cid:<token>` in both the manifest and the attachment;
    on reading, the `cid:` prefix is optional and case-insensitive in either place [S1][S6].
11. Size limit of a packet: 100 MiB by default (the axis limit is unknown), a parameter of every
    build and parse function (`DEFAULT_MAX_PACKET_BYTES`).
12. Field lengths: the limits of NĐ 30 Phụ lục VI (spec §1.9), counted in characters
    (`FIELD_LIMITS`).
13. A rejection (status 02) must carry a `Description` when we build it; one received without
    it is still read, so the sender's rejection is not lost (`REASON_REQUIRED`)."""

from __future__ import annotations

import enum
from datetime import timedelta, timezone
from typing import Final

NAMESPACE: Final = "http://www.mic.gov.vn/TBT/QCVN_102_2016"
PREFIX: Final = "edXML"
DSIG_NAMESPACE: Final = "http://www.w3.org/2000/09/xmldsig#"

DATE_FORMAT: Final = "%Y/%m/%d"
TIMESTAMP_FORMAT: Final = "%Y/%m/%d %H:%M:%S"
STATUS_TIMESTAMP_FORMATS: Final = (TIMESTAMP_FORMAT, "%d/%m/%Y %H:%M:%S")
LOCAL_TIME: Final = timezone(timedelta(hours=7), "ICT")

BUSINESS_SPELLINGS: Final = ("Bussiness", "Business")

MESSAGE_HEADER_ORDER: Final = (
    "From",
    "To",
    "DocumentId",
    "Code",
    "PromulgationInfo",
    "DocumentType",
    "Subject",
    "Content",
    "SignerInfo",
    "DueDate",
    "OtherInfo",
    "ResponseFor",
    "SteeringType",
    "ToPlaces",
)
BUSINESS_ORDER: Final = (
    "DocumentId",
    "BussinessDocType",
    "BussinessDocReason",
    "BussinessDocumentInfo",
    "Paper",
    "StaffInfo",
    "ReplacementInfoList",
)
STATUS_ORDER: Final = ("ResponseFor", "From", "StatusCode", "Description", "Timestamp", "StaffInfo")
STATUS_BLOCK: Final = "MessageHeader"
STATUS_BLOCK_ALIASES: Final = ("MessageHeader", "Status")

STATUS_CODE_ALIASES: Final = {"14": "15"}

DEFAULT_MAX_PACKET_BYTES: Final = 100 << 20

# NĐ 30/2020 Phụ lục VI field lengths, by the model's field (spec §1.9).
FIELD_LIMITS: Final = {
    "CodeNumber": 11,
    "CodeNotation": 30,
    "Subject": 500,
    "OrganName": 200,
    "TypeName": 100,
    "Position": 100,
    "FullName": 50,
}

REASON_REQUIRED: Final = frozenset({"02"})


class Priority(enum.IntEnum):
    """`OtherInfo/Priority`: 0 is certain, the others are the common assumption (choice 7)."""

    NORMAL = 0
    URGENT = 1  # Khẩn
    VERY_URGENT = 2  # Thượng khẩn
    FLASH = 3  # Hỏa tốc
