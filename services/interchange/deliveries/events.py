"""The events between the interchange service and the docs service, as typed payloads.

Consumed:
* `document.issued` (docs -> interchange): an outgoing document to deliver (`DocumentIssued`).
  A revocation, update or replacement is an outgoing document of its own whose `business`
  says so and whose `target_id` names the document acted on.
* `document.status_changed` (docs -> interchange): an incoming document moved on; the sender
  is answered with a status packet (`DocumentStatusChanged`).

Published:
* `delivery.received`: a document for the agency, its attachments already in storage.
* `delivery.revoked`: the sender revoked (thu hồi) or recalled a document delivered earlier;
  for a revocation docs answers `change_accepted` / `change_rejected` naming the revocation's
  id as `delivery_id` (a recall is agreed at once).
* `delivery.updated`: the sender sent corrected metadata (cập nhật) of a delivered document;
  docs answers with `document.status_changed` `change_accepted` / `change_rejected` naming
  the update's id as `delivery_id`.
* `delivery.status`: how one recipient of an outgoing document stands: `sent`, `failed`, then
  what its system reported (`received` 01, `rejected` 02, `accepted` 03, `assigned` 04,
  `processing` 05, `completed` 06, `change_accepted` 15, `change_rejected` 16). Statuses can
  arrive out of order; `code` ranks them."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec

DOCUMENT_ISSUED = "document.issued"
DOCUMENT_STATUS_CHANGED = "document.status_changed"
DELIVERY_RECEIVED = "delivery.received"
DELIVERY_REVOKED = "delivery.revoked"
DELIVERY_UPDATED = "delivery.updated"
DELIVERY_STATUS = "delivery.status"

Business = Literal["new", "revoke", "update", "replace"]
Urgency = Literal["normal", "khan", "thuong_khan", "hoa_toc", "hoa_toc_hen_gio"]
Code102 = Annotated[str, msgspec.Meta(min_length=1, max_length=35)]


class Recipient(msgspec.Struct, frozen=True, kw_only=True):
    code: Code102  # QCVN 102 agency code; checked per recipient (a bad one fails alone)
    name: Annotated[str, msgspec.Meta(max_length=300)] = ""


class IssuedFile(msgspec.Struct, frozen=True, kw_only=True):
    """A file of the document, already in storage under the sending agency."""

    object_id: uuid.UUID
    file_name: Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
    sha256: Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$")]
    size: Annotated[int, msgspec.Meta(ge=1)]
    role: Literal["main", "attachment"] = "main"


class Staff(msgspec.Struct, frozen=True, kw_only=True):
    """The clerk who sends it (edXML StaffInfo)."""

    department: str | None = None
    staff: str | None = None
    mobile: str | None = None
    email: str | None = None


class DocumentIssued(msgspec.Struct, frozen=True, kw_only=True):
    """`document.issued`. The first block is what docs publishes; the optional fields after it
    fill edXML elements that would otherwise be left out or derived."""

    outgoing_id: uuid.UUID  # docs' id of the outgoing document
    business: Business = "new"
    target_id: uuid.UUID | None = None  # revoke/update/replace: docs' id of the earlier one
    number_symbol: Annotated[str, msgspec.Meta(min_length=3, max_length=100)]  # "123/UBND-VX"
    doc_type: Annotated[str, msgspec.Meta(min_length=1, max_length=10)]  # NĐ 30 code, "CV"
    issued_on: dt.date
    subject: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
    signer: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]  # full name
    authority: str = ""  # "", "TM.", "KT.", "TL.", "Q.", "TUQ."
    urgency: Urgency = "normal"
    reply_due_on: dt.date | None = None
    recipients: Annotated[list[Recipient], msgspec.Meta(min_length=1, max_length=500)]
    files: Annotated[list[IssuedFile], msgspec.Meta(max_length=100)] = []
    # Optional:
    place: str | None = None  # địa danh; the agency's address when absent
    signer_position: str | None = None  # "PHÓ CHỦ TỊCH"
    pages: int | None = None
    copies: int | None = None
    sphere: str | None = None  # SphereOfPromulgation
    typer_notation: str | None = None
    to_places: list[str] = []
    staff: Staff | None = None
    paper: bool = False  # a paper copy follows
    reason: str | None = None  # BussinessDocReason; a default per business type


class DocumentStatusChanged(msgspec.Struct, frozen=True, kw_only=True):
    """`document.status_changed`; only those with a `delivery_id` came through interchange."""

    status: str
    document_id: uuid.UUID | None = None
    delivery_id: uuid.UUID | None = None
    edxml_document_id: str | None = None
    sender_code: str | None = None
    reason: str | None = None


class DeliveryFields(msgspec.Struct, frozen=True, kw_only=True):
    sender_name: str
    sender_code: str
    number_symbol: str
    doc_type: str
    issued_on: dt.date
    subject: str
    signer: str
    urgency: str
    confidentiality: str = "normal"  # nothing else travels over the network
    pages: int | None = None
    due_on: dt.date | None = None


class DeliveryFile(msgspec.Struct, frozen=True, kw_only=True):
    object_id: uuid.UUID
    file_name: str
    sha256: str
    size: int
    role: Literal["main", "attachment"]


class DeliveryReceived(msgspec.Struct, frozen=True, kw_only=True):
    """`delivery.received`: `delivery_id` is unique per recipient agency."""

    delivery_id: uuid.UUID
    edxml_document_id: str
    fields: DeliveryFields
    files: list[DeliveryFile]
    # A replacement (BussinessDocType 3): the delivery it replaces, when it came here.
    replaces_delivery_id: uuid.UUID | None = None


class DeliveryRevoked(msgspec.Struct, frozen=True, kw_only=True):
    delivery_id: uuid.UUID  # the document revoked
    revocation_id: uuid.UUID
    edxml_document_id: str
    sender_code: str
    reason: str


class DeliveryUpdated(msgspec.Struct, frozen=True, kw_only=True):
    delivery_id: uuid.UUID  # the document updated
    update_id: uuid.UUID  # answer with document.status_changed naming this as delivery_id
    edxml_document_id: str
    sender_code: str
    reason: str
    fields: DeliveryFields
    files: list[DeliveryFile]


class DeliveryStatus(msgspec.Struct, frozen=True, kw_only=True):
    outgoing_id: uuid.UUID  # docs' id of the outgoing document
    business: str
    edxml_document_id: str | None
    recipient_code: str
    status: str
    code: str | None = None  # the edXML status code, for statuses from the recipient
    description: str | None = None
    at: dt.datetime
