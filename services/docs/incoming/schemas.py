"""Request and response bodies of incoming documents."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec

from services.docs.catalog.types import Confidentiality, Urgency
from services.docs.signatures.schemas import SignatureCheck

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
Short = Annotated[str, msgspec.Meta(min_length=1, max_length=300)]


class FileRef(msgspec.Struct, kw_only=True):
    """A file already stored by the storage service."""

    object_id: uuid.UUID
    file_name: Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
    sha256: Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$")]
    size: Annotated[int, msgspec.Meta(ge=1)]
    role: Literal["main", "attachment"] = "main"


class DocumentFile(FileRef, kw_only=True):
    """A file as the document's card lists it: with the verdict of its stored signature
    validation report, none until the worker has checked it (or when it is not a PDF)."""

    signature_check: SignatureCheck | None = None


class IncomingFields(msgspec.Struct, kw_only=True):
    """What the clerk confirms on registration (NĐ 30, Phụ lục VI)."""

    sender_name: Short
    number_symbol: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    doc_type: Annotated[str, msgspec.Meta(min_length=1, max_length=10)]
    issued_on: dt.date
    subject: Text
    sender_code: Annotated[str, msgspec.Meta(max_length=35)] | None = None
    signer: Annotated[str, msgspec.Meta(max_length=200)] = ""
    urgency: Urgency = Urgency.NORMAL
    confidentiality: Confidentiality = Confidentiality.NORMAL
    pages: Annotated[int, msgspec.Meta(ge=1, le=100_000)] | None = None
    due_on: dt.date | None = None


class PaperDocument(IncomingFields, kw_only=True):
    """A paper document entered by the clerk, with its scan."""

    files: list[FileRef] = []
    arrived_at: dt.datetime | None = None
    # Register at once (the usual case for paper) rather than leave it waiting.
    register: bool = True
    register_id: uuid.UUID | None = None


class Registration(msgspec.Struct, kw_only=True):
    register_id: uuid.UUID | None = None
    # Corrections the clerk made to what the sender's packet said.
    fields: IncomingFields | None = None


class Return(msgspec.Struct, kw_only=True):
    reason: Annotated[str, msgspec.Meta(min_length=3, max_length=2000)]


class AssignmentRequest(msgspec.Struct, kw_only=True):
    assignee: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    role: Literal["lead", "cooperate", "inform"]
    deadline: dt.date | None = None
    direction: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class Assign(msgspec.Struct, kw_only=True):
    assignments: Annotated[list[AssignmentRequest], msgspec.Meta(min_length=1, max_length=200)]


class Opinion(msgspec.Struct, kw_only=True):
    text: Text


class ExtensionRequest(msgspec.Struct, kw_only=True):
    deadline: dt.date
    reason: Text


class Completion(msgspec.Struct, kw_only=True):
    result: Text
    reply_document_id: uuid.UUID | None = None


class AssignmentView(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    role: str
    assignee: str
    assignee_name: str
    department: str
    deadline: dt.date | None
    direction: str
    assigned_by: str
    assigned_at: dt.datetime
    state: str
    parent_id: uuid.UUID | None = None
    requested_deadline: dt.date | None = None


class HistoryEntry(msgspec.Struct, kw_only=True):
    seq: int
    at: dt.datetime
    actor: str
    actor_name: str
    acting_for: str | None
    action: str
    data: dict[str, object]


class DocumentSummary(msgspec.Struct):
    """One row of a list. Its fields, `overdue` aside, are the columns the list query selects,
    in order: a row is made into a summary positionally (`incoming.service.SUMMARY_COLUMNS`)."""

    id: uuid.UUID
    state: str
    arrival_number: int | None
    arrival_year: int | None
    arrived_at: dt.datetime
    sender_name: str
    number_symbol: str
    doc_type: str
    issued_on: dt.date
    subject: str
    urgency: str
    confidentiality: str
    due_on: dt.date | None
    overdue: bool = False


class PreviousVersion(msgspec.Struct, kw_only=True):
    """What an accepted update replaced: the fields as they were and the files then attached."""

    fields: dict[str, object]
    files: list[FileRef]


class ChangeView(msgspec.Struct, kw_only=True):
    """A revocation, update or replacement the sender asked for, and its answer."""

    id: uuid.UUID
    business: Literal["revoke", "update", "replace"]
    state: Literal["pending", "accepted", "refused"]
    # The document the request acts on; a replacement also names the new document.
    document_id: uuid.UUID | None
    replacement_id: uuid.UUID | None = None
    sender_code: str | None = None
    reason: str
    received_at: dt.datetime
    # An update: the corrected fields and the files sent again (none: the files stay).
    fields: dict[str, object] | None = None
    files: list[FileRef] = []
    previous: PreviousVersion | None = None
    answer_reason: str | None = None
    answered_by: str | None = None
    answered_name: str | None = None
    answered_at: dt.datetime | None = None
    # Refused by the system on arrival (an unknown or already revoked document, bad fields).
    automatic: bool = False


class ChangeRefusal(msgspec.Struct, kw_only=True):
    reason: Annotated[str, msgspec.Meta(min_length=3, max_length=2000)]


class DocumentCard(DocumentSummary, kw_only=True):
    source: str
    sender_code: str | None
    signer: str
    pages: int | None
    register_id: uuid.UUID | None
    registered_at: dt.datetime | None
    result: str | None
    return_reason: str | None
    files: list[DocumentFile]
    assignments: list[AssignmentView]
    history: list[HistoryEntry]
    # What the sender asked to change after sending it (edXML business 1-3), and the outcome.
    changes: list[ChangeView] = []
    revoked: bool = False
    replaced_by: uuid.UUID | None = None


class Page(msgspec.Struct, kw_only=True):
    items: list[DocumentSummary]
    next_cursor: str | None
