"""Request and response bodies of dossiers (hồ sơ công việc) and their archive life."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, UnsetType

# Số và ký hiệu hồ sơ (Phụ lục V: "01.TCCB"); FileNotation is String20 in Phụ lục VI.
Code = Annotated[
    str,
    msgspec.Meta(min_length=1, max_length=20, pattern=r"^[0-9A-Za-zĐđ][0-9A-Za-zĐđ.\-]*$"),
]
Title = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
Username = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Department = Annotated[str, msgspec.Meta(max_length=200)]
Heading = Annotated[str, msgspec.Meta(max_length=200)]
Language = Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
Description = Annotated[str, msgspec.Meta(max_length=500)]
Reason = Annotated[str, msgspec.Meta(min_length=3, max_length=2000)]
Note = Annotated[str, msgspec.Meta(max_length=2000)]
Year = Annotated[int, msgspec.Meta(ge=1945, le=2100)]
# A number of years, or "permanent" (vĩnh viễn).
Retention = Annotated[int, msgspec.Meta(ge=1, le=99)] | Literal["permanent"]
# Chế độ sử dụng: công khai, sử dụng có điều kiện, mật.
Access = Literal["public", "conditional", "confidential"]
DossierState = Literal["planned", "open", "closed", "archived", "disposed"]
ItemKind = Literal["incoming", "outgoing", "internal"]


class DossierCreate(msgspec.Struct, kw_only=True):
    """An entry of the year's catalogue (danh mục hồ sơ)."""

    year: Year
    code: Code
    title: Title
    retention: Retention
    # The person who keeps the dossier (người lập hồ sơ); the caller when left out.
    responsible: Username | None = None
    # Their department, from the directory when left out.
    department: Department | None = None
    # The catalogue heading it is listed under (đề mục), e.g. "I. Tổ chức cán bộ".
    heading: Heading = ""
    language: Language = "Tiếng Việt"
    access: Access = "public"
    description: Description = ""


class DossierUpdate(msgspec.Struct, kw_only=True):
    """Corrections before the archive accepts the dossier (re-assessed retention, title, code)."""

    code: Code | UnsetType = UNSET
    title: Title | UnsetType = UNSET
    retention: Retention | UnsetType = UNSET
    responsible: Username | UnsetType = UNSET
    department: Department | UnsetType = UNSET
    heading: Heading | UnsetType = UNSET
    language: Language | UnsetType = UNSET
    access: Access | UnsetType = UNSET
    description: Description | UnsetType = UNSET


class OpenRequest(msgspec.Struct, kw_only=True):
    # When the work began; today when left out.
    start_on: dt.date | None = None


class CloseRequest(msgspec.Struct, kw_only=True):
    # When the work ended; today when left out. Transfer and retention count from it.
    end_on: dt.date | None = None
    note: Note = ""


class ReopenRequest(msgspec.Struct, kw_only=True):
    reason: Reason


class DocumentRef(msgspec.Struct, kw_only=True):
    # An internal document is an outgoing one (`internal: true`): give it as "outgoing".
    kind: Literal["incoming", "outgoing"]
    id: uuid.UUID


class AddDocuments(msgspec.Struct, kw_only=True):
    documents: Annotated[list[DocumentRef], msgspec.Meta(min_length=1, max_length=200)]


class Acceptance(msgspec.Struct, kw_only=True):
    """The agency archive's receipt (biên bản giao nhận)."""

    receipt_number: Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
    accepted_on: dt.date | None = None
    note: Note = ""


class DisposalListing(msgspec.Struct, kw_only=True):
    reason: Reason


class DisposalDecision(msgspec.Struct, kw_only=True):
    """The head of the agency's decision to destroy (quyết định hủy tài liệu hết giá trị)."""

    decision_number: Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
    decided_on: dt.date | None = None
    note: Note = ""


class ItemView(msgspec.Struct, kw_only=True):
    ordinal: int
    kind: ItemKind
    document_id: uuid.UUID
    number_symbol: str | None
    doc_type: str
    issued_on: dt.date | None
    subject: str
    # The sender of an incoming document, the signer of an outgoing one.
    author: str
    confidentiality: str
    pages: int | None
    added_by: str
    added_at: dt.datetime


class AcceptanceView(msgspec.Struct, kw_only=True):
    receipt_number: str
    accepted_on: dt.date
    accepted_by: str
    accepted_at: dt.datetime


class DisposalView(msgspec.Struct, kw_only=True):
    reason: str
    listed_by: str
    listed_at: dt.datetime
    decision_number: str | None
    decided_on: dt.date | None
    decided_by: str | None
    note: str


class DossierSummary(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    year: int
    code: str
    heading: str
    title: str
    retention: int | Literal["permanent"]
    retention_label: str
    responsible: str
    responsible_name: str
    department: str
    state: DossierState
    start_on: dt.date | None
    end_on: dt.date | None
    doc_total: int
    transfer_due_on: dt.date | None
    retention_ends_on: dt.date | None


class HistoryEntry(msgspec.Struct, kw_only=True):
    seq: int
    at: dt.datetime
    actor: str
    actor_name: str
    action: str
    data: dict[str, object]


class DossierCard(DossierSummary, kw_only=True):
    language: str
    access: Access
    access_label: str
    description: str
    # What the caller may not see (confidential documents of other people) is counted, not shown.
    hidden_items: int
    items: list[ItemView]
    transfer_reminded_at: dt.datetime | None
    acceptance: AcceptanceView | None
    disposal: DisposalView | None
    history: list[HistoryEntry]


class DisposalEntry(msgspec.Struct, kw_only=True):
    dossier: DossierSummary
    disposal: DisposalView
