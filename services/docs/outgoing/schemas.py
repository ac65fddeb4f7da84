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


class ReservedNumbers(msgspec.Struct, kw_only=True):
    register_id: uuid.UUID
    year: int
    numbers: list[int]
