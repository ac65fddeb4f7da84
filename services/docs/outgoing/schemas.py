"""Request and response bodies of outgoing documents."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec

from services.docs.catalog.types import Confidentiality, Urgency
from services.docs.incoming.schemas import FileRef

Username = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Authority = Literal["", "TM.", "KT.", "TL.", "Q.", "TUQ."]
# The PIN that opens a server-held signing key (the passphrase of its PKCS#12).
Pin = Annotated[str, msgspec.Meta(min_length=4, max_length=64)]
Sha256 = Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$")]
SigningStep = Literal["initials", "leader", "seal"]


class Recipient(msgspec.Struct, kw_only=True):
    code: Annotated[str, msgspec.Meta(min_length=3, max_length=35)]
    name: Annotated[str, msgspec.Meta(max_length=300)] = ""
    # False: the document goes on paper (by post) to this recipient.
    electronic: bool = True


class DraftRequest(msgspec.Struct, kw_only=True):
    doc_type: Annotated[str, msgspec.Meta(min_length=1, max_length=10)]
    subject: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
    signer: Username
    file: FileRef
    authority: Authority = ""
    urgency: Urgency = Urgency.NORMAL
    confidentiality: Confidentiality = Confidentiality.NORMAL
    reply_due_on: dt.date | None = None
    answers_id: uuid.UUID | None = None
    # The drafting unit's or field's abbreviation, for a công văn's ký hiệu (UBND-VX).
    unit_abbr: Annotated[str, msgspec.Meta(max_length=20)] = ""
    # A legal document (VBQPPL): the year goes into the symbol and it has its own series.
    legal: bool = False
    # Internal documents stay inside the agency: no recipients, no dispatch.
    internal: bool = False
    recipients: Annotated[list[Recipient], msgspec.Meta(max_length=500)] = []


class VersionRequest(msgspec.Struct, kw_only=True):
    file: FileRef
    note: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class SubmitRequest(msgspec.Struct, kw_only=True):
    # The department head checks the content, the office checks the form (NĐ 30, Điều 12).
    content_reviewer: Username
    form_reviewer: Username


class StepDecision(msgspec.Struct, kw_only=True):
    comment: Annotated[str, msgspec.Meta(max_length=4000)] = ""


class ReturnRequest(msgspec.Struct, kw_only=True):
    reason: Annotated[str, msgspec.Meta(min_length=3, max_length=4000)]


class OpinionRequest(msgspec.Struct, kw_only=True):
    assignees: Annotated[list[Username], msgspec.Meta(min_length=1, max_length=100)]
    due_on: dt.date | None = None


class OpinionAnswer(msgspec.Struct, kw_only=True):
    answer: Literal["agree", "disagree", "other"]
    comment: Annotated[str, msgspec.Meta(max_length=4000)] = ""


class IssueRequest(msgspec.Struct, kw_only=True):
    register_id: uuid.UUID | None = None
    # A number reserved earlier for this paper document signed by hand.
    reserved_number: Annotated[int, msgspec.Meta(ge=1)] | None = None
    # The agency seal's PIN: the clerk stamps the number, applies the agency's signature and
    # issues in one go (without it, the seal must already be applied, or not be needed).
    pin: Pin | None = None


class BoxRequest(msgspec.Struct, frozen=True, kw_only=True):
    """A box on a page of the PDF: page from 1, corners in points from the lower left."""

    page: Annotated[int, msgspec.Meta(ge=1, le=10000)]
    box: tuple[float, float, float, float]


class SigningOptions(msgspec.Struct, kw_only=True):
    # The hash of the file the signer was shown (`current_file` on the card): signing refuses
    # if the document changed since.
    document_sha256: Sha256 | None = None
    # The leader's signature: the line after the authority prefix ("Ủy ban nhân dân" for TM.,
    # the head's title for KT., TL., TUQ.); by default the agency's name for TM.
    authority_line: Annotated[str, msgspec.Meta(max_length=200)] = ""
    # Where the leader's block goes, for whoever signs the version first (default: bottom
    # right of the last page).
    leader_box: BoxRequest | None = None
    # The agency's signature: the register and a number reserved for a paper original.
    register_id: uuid.UUID | None = None
    reserved_number: Annotated[int, msgspec.Meta(ge=1)] | None = None


class PinSignRequest(SigningOptions, kw_only=True):
    pin: Pin


class PrepareRequest(SigningOptions, kw_only=True):
    step: SigningStep
    # The signer's certificate as their device or signing service reads it (PEM, or base64
    # DER); it must be the certificate enrolled for the signer.
    certificate: Annotated[str, msgspec.Meta(min_length=100, max_length=20000)]


class PreparedSignatureView(msgspec.Struct, kw_only=True):
    """What the external signer signs: `signed_attributes` (DER) with SHA-256, or, for devices
    that take a digest, `digest` (SHA-256 of `signed_attributes`). Bytes are base64."""

    session_id: uuid.UUID
    step: str
    digest_algorithm: str
    digest: bytes
    signed_attributes: bytes
    expires_at: dt.datetime


class CompleteRequest(msgspec.Struct, kw_only=True):
    # Base64: the raw signature value (PKCS#1 v1.5 or ECDSA over `signed_attributes`), or a CMS
    # SignedData whose signer signed exactly those attributes.
    signature: Annotated[bytes, msgspec.Meta(min_length=32, max_length=65536)]


class ChangeRequest(msgspec.Struct, kw_only=True):
    reason: Annotated[str, msgspec.Meta(min_length=3, max_length=2000)]


class UpdateRequest(ChangeRequest, kw_only=True):
    # What changes (cập nhật: the metadata of the same document, spec §1.6).
    subject: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)] | None = None
    reply_due_on: dt.date | None = None


class ReservationRequest(msgspec.Struct, kw_only=True):
    register_id: uuid.UUID | None = None
    confidential: bool = False
    count: Annotated[int, msgspec.Meta(ge=1, le=50)] = 1


class VersionView(msgspec.Struct, kw_only=True):
    version: int
    object_id: uuid.UUID
    file_name: str
    sha256: str
    size: int
    note: str
    created_by: str
    created_at: dt.datetime


class VersionComparison(msgspec.Struct, kw_only=True):
    first: VersionView
    second: VersionView
    same_content: bool
    size_change: int
    renamed: bool


class StepView(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    kind: str
    seq: int
    assignee: str
    assignee_name: str
    state: str
    comment: str
    due_on: dt.date | None
    decided_at: dt.datetime | None


class RecipientView(msgspec.Struct, kw_only=True):
    code: str
    name: str
    electronic: bool
    status: str
    reason: str | None


class FileView(msgspec.Struct, kw_only=True):
    version: int
    object_id: uuid.UUID
    file_name: str
    sha256: str
    size: int


class SignatureView(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    version: int
    kind: str
    field_name: str
    signer: str
    signer_name: str
    acting_for: str | None
    method: str
    certificate_subject: str
    certificate_serial: str
    certificate_issuer: str
    level: str
    signed_at: dt.datetime
    object_id: uuid.UUID
    sha256: str
    number_symbol: str | None


class ChangeRecipientView(msgspec.Struct, kw_only=True):
    code: str
    name: str
    status: str
    reason: str | None


class ChangeView(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    business: str
    reason: str
    subject: str | None
    reply_due_on: dt.date | None
    requested_by: str
    requested_at: dt.datetime
    recipients: list[ChangeRecipientView]


class OpinionReport(msgspec.Struct, kw_only=True):
    agree: int
    disagree: int
    other: int
    waiting: int
    answers: list[StepView]


class OutgoingCard(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    state: str
    internal: bool
    business: str
    target_id: uuid.UUID | None
    doc_type: str
    subject: str
    drafter: str
    drafter_name: str
    signer: str
    signer_name: str
    authority: str
    urgency: str
    confidentiality: str
    reply_due_on: dt.date | None
    answers_id: uuid.UUID | None
    number_symbol: str | None
    issued_on: dt.date | None
    versions: list[VersionView]
    steps: list[StepView]
    recipients: list[RecipientView]
    history: list[dict[str, object]]
    # The file to read and sign now: the latest signed state of the latest version.
    current_file: FileView | None = None
    signatures: list[SignatureView] = []
    # Revocations and updates sent after issue, with each recipient's answer.
    changes: list[ChangeView] = []
    revoked: bool = False


class ReservedNumbers(msgspec.Struct, kw_only=True):
    register_id: uuid.UUID
    year: int
    numbers: list[int]
