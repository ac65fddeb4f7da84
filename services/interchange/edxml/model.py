"""The typed model between edXML bytes and the rest of the service (QCVN 102:2016, spec §1-2).

Field names are English (GLOSSARY.md); each docstring names the element it stands for. Optional
text is `None` when the element is absent and `""` when it is present but empty, so a packet
reads back exactly as it was built. Timestamps are timezone-aware (conventions, choice 5) and
carry whole seconds on the wire. The structs are frozen: a packet is a value."""

from __future__ import annotations

import enum
from datetime import date, datetime

import msgspec

from services.interchange.edxml.codes import document_id


class Model(msgspec.Struct, frozen=True, kw_only=True):
    pass


class Organisation(Model, frozen=True, kw_only=True):
    """`From` / `To` (1.1, 1.2) and the `From` of a status packet."""

    organ_id: str  # OrganId: QCVN 102 agency code
    organization_in_charge: str | None = None  # OrganizationInCharge: the governing body
    organ_name: str | None = None  # OrganName
    address: str | None = None  # OrganAdd
    email: str | None = None
    telephone: str | None = None
    fax: str | None = None
    website: str | None = None


class Code(Model, frozen=True, kw_only=True):
    """`Code` (1.3): số and ký hiệu, `7816/VPCP-TTĐT` -> number `7816`, notation `VPCP-TTĐT`.
    The number is text: some senders put non-digits there (spec §3.6)."""

    number: str  # CodeNumber
    notation: str  # CodeNotation

    @property
    def text(self) -> str:
        return f"{self.number}/{self.notation}"


class PromulgationInfo(Model, frozen=True, kw_only=True):
    """`PromulgationInfo` (1.4): place and date of issue."""

    place: str  # Place
    date: date  # PromulgationDate, yyyy/MM/dd


class DocumentType(Model, frozen=True, kw_only=True):
    """`DocumentType` (1.5). The `Type` code table is unconfirmed; `TypeName` is what counts."""

    type: int  # Type
    type_name: str  # TypeName
    type_detail: int | None = None  # TypeDetail


class SignerInfo(Model, frozen=True, kw_only=True):
    """`SignerInfo` (1.8): `KT. CHỦ TỊCH` / `PHÓ CHỦ TỊCH` / the signer's name."""

    competence: str | None = None  # Competence
    position: str | None = None  # Position
    full_name: str  # FullName


class OtherInfo(Model, frozen=True, kw_only=True):
    """`OtherInfo` (1.11)."""

    priority: int = 0  # Priority: see conventions.Priority
    sphere_of_promulgation: str | None = None  # SphereOfPromulgation
    typer_notation: str | None = None  # TyperNotation: the drafter's initials
    promulgation_amount: int | None = None  # PromulgationAmount: copies issued
    page_amount: int | None = None  # PageAmount
    direction: bool | None = None  # Direction: meaning unconfirmed
    appendixes: tuple[str, ...] = ()  # Appendixes/Appendix*


class ResponseFor(Model, frozen=True, kw_only=True):
    """`ResponseFor` (1.12, and the head of a status packet): the earlier document answered."""

    organ_id: str  # OrganId: the agency that issued it
    code: str  # Code: the full số/ký hiệu, `267/VPCP-TTĐT`
    promulgation_date: date  # PromulgationDate
    document_id: str  # DocumentId


class MessageHeader(Model, frozen=True, kw_only=True):
    """`MessageHeader` (1.1-1.14): the document's metadata."""

    sender: Organisation  # From
    recipients: tuple[Organisation, ...]  # To+: one per recipient
    document_id: str  # DocumentId
    code: Code
    promulgation: PromulgationInfo  # PromulgationInfo
    document_type: DocumentType
    subject: str  # Subject (trích yếu)
    content: str | None = None  # Content
    signer: SignerInfo  # SignerInfo
    due_date: date | None = None  # DueDate
    other: OtherInfo = OtherInfo()  # OtherInfo
    response_for: tuple[ResponseFor, ...] = ()  # ResponseFor*
    steering_type: int = 0  # SteeringType
    to_places: tuple[str, ...] = ()  # ToPlaces/Place*

    def expected_document_id(self) -> str:
        """The id a new document must carry: sender, date of issue, number/symbol (1.14)."""
        return document_id(
            self.sender.organ_id, self.promulgation.date, self.code.number, self.code.notation
        )


class TraceHeader(Model, frozen=True, kw_only=True):
    """`TraceHeaderList/TraceHeader`: one hop."""

    organ_id: str  # OrganId
    timestamp: datetime  # Timestamp, yyyy/MM/dd HH:mm:ss local time


class StaffInfo(Model, frozen=True, kw_only=True):
    """`StaffInfo`: the clerk who sent the document or changed its status."""

    department: str | None = None
    staff: str | None = None
    mobile: str | None = None
    email: str | None = None


class BusinessDocType(enum.IntEnum):
    """`BussinessDocType` (2.2.1)."""

    NEW = 0  # văn bản mới
    REVOKE = 1  # thu hồi
    UPDATE = 2  # cập nhật
    REPLACE = 3  # thay thế


class Receiver(Model, frozen=True, kw_only=True):
    """`ReceiverList/Receiver` of an update; `ReceiverType` 0/1 has no confirmed meaning."""

    receiver_type: int  # ReceiverType
    organ_id: str  # OrganId


class BusinessDocumentInfo(Model, frozen=True, kw_only=True):
    """`BussinessDocumentInfo` (2.2.3), for updates: what changed."""

    document_info: bool  # DocumentInfo: the metadata changed
    document_receiver: bool  # DocumentReceiver: the recipient list changed
    receivers: tuple[Receiver, ...] = ()  # ReceiverList/Receiver*


class ReplacementInfo(Model, frozen=True, kw_only=True):
    """`ReplacementInfoList/ReplacementInfo` (2.2.8), for replacements."""

    document_id: str  # DocumentId of the replaced document
    organ_ids: tuple[str, ...] = ()  # OrganIdList/OrganId*


class Business(Model, frozen=True, kw_only=True):
    """The `Bussiness` block (2.2): what the packet does to the document."""

    doc_type: BusinessDocType  # BussinessDocType
    reason: str | None = None  # BussinessDocReason
    document_id: str | None = None  # DocumentId: the original, required for types 1-3
    paper: bool = False  # Paper: a paper copy follows
    staff: tuple[StaffInfo, ...] = ()  # StaffInfo*
    document_info: BusinessDocumentInfo | None = None  # BussinessDocumentInfo
    replacements: tuple[ReplacementInfo, ...] = ()  # ReplacementInfoList/ReplacementInfo*


class Attachment(Model, frozen=True, kw_only=True):
    """One file: a manifest `Reference` and an `Attachment` linked by `cid:<content_id>`."""

    content_id: str  # the token after `cid:`
    name: str  # AttachmentName
    content_type: str  # ContentType
    description: str | None = None  # Description
    content: bytes  # ContentTransferEncoded, base64 on the wire

    def __repr__(self) -> str:
        # A packet's repr (in a log or a failed assertion) must not dump megabytes of content.
        return (
            f"Attachment(content_id={self.content_id!r}, name={self.name!r}, "
            f"content_type={self.content_type!r}, description={self.description!r}, "
            f"content=<{len(self.content)} bytes>)"
        )


class DocumentPacket(Model, frozen=True, kw_only=True):
    """A document packet: new, revoke, update or replace (`business.doc_type`)."""

    header: MessageHeader
    trace: tuple[TraceHeader, ...]  # TraceHeaderList/TraceHeader+
    business: Business  # TraceHeaderList/Bussiness
    attachments: tuple[Attachment, ...] = ()


class StatusCode(enum.StrEnum):
    """`StatusCode` of a status packet (spec §2.2)."""

    RECEIVED = "01"  # Đã đến
    REJECTED = "02"  # Từ chối tiếp nhận
    ACCEPTED = "03"  # Đã tiếp nhận
    ASSIGNED = "04"  # Phân công
    PROCESSING = "05"  # Đang xử lý
    COMPLETED = "06"  # Hoàn thành
    RECALLED = "13"  # Lấy lại: the sender recalls its document
    CHANGE_ACCEPTED = "15"  # Đồng ý yêu cầu cập nhật / lấy lại
    CHANGE_REJECTED = "16"  # Từ chối yêu cầu cập nhật / lấy lại


class StatusPacket(Model, frozen=True, kw_only=True):
    """A status packet: one agency reports the state of a document (spec §2.1)."""

    response_for: ResponseFor  # the document the status is about
    sender: Organisation  # From: the agency reporting
    code: StatusCode  # StatusCode
    description: str | None = None  # Description
    timestamp: datetime  # Timestamp
    staff: StaffInfo | None = None  # StaffInfo
