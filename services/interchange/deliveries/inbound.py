"""Taking a packet into an agency: the one pipeline for packets from the axis and from agencies
of this platform alike (ARCHITECTURE §2: one path, one status model).

A document packet is read (safely, bounded; `edxml`), checked to be addressed to the agency,
and then, by its business type:
* new (0) and replace (3): attachments into storage, an inbox row keyed by the edXML DocumentId,
  `delivery.received`, and status 01 back to the sender, in one transaction;
* revoke (1): the revoked delivery is marked, `delivery.revoked` published, 01 answered; docs
  decides (15/16 later); a recall (status 13) is agreed (15) at once;
* update (2): `delivery.updated` published, 01 answered; docs decides (15/16 later).
A status packet updates the recipient's line of the document we sent and becomes a
`delivery.status` event.

Exactly-once effect: the inbox's unique `dedupe_key` (DocumentId and business type; for a
status, document, reporter, code and time) means a packet that arrives twice, under two axis
ids, or again after a crash before the axis was acknowledged, is taken once. A refusal is a
dead letter in the same agency, answered to the sender (02, or 16 for a revoke/update of an
unknown document) whenever the packet could be read far enough to know who sent what.

Signatures: a signed packet's XML-DSig is verified as it is read, and one that does not hold is
refused like any broken packet; who signed (the certificate's subject and fingerprint) is kept
on the inbox row. Whether that certificate is trusted is not decided here."""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import io
import logging
import uuid
import zipfile
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.outbox import publish
from services.interchange.connectors.signing import packet_signer
from services.interchange.context import Context
from services.interchange.dead_letters import service as dead_letters
from services.interchange.deliveries import mapping
from services.interchange.deliveries.events import (
    DELIVERY_RECEIVED,
    DELIVERY_REVOKED,
    DELIVERY_UPDATED,
    DeliveryFields,
    DeliveryFile,
    DeliveryReceived,
    DeliveryRevoked,
    DeliveryUpdated,
)
from services.interchange.deliveries.queueing import (
    publish_status,
    queue_message,
    store_packet,
    to_payload,
)
from services.interchange.edxml import (
    Attachment,
    BusinessDocType,
    DocumentPacket,
    EdxmlError,
    Organisation,
    ResponseFor,
    SigningIdentity,
    StatusCode,
    StatusPacket,
    VerifiedSignature,
    build_status,
    read_document,
    read_status,
)
from services.interchange.failures import Refusal
from services.interchange.metrics import delivered
from services.interchange.platform.agencies import Agency
from services.interchange.tables import axis_receipt, inbox, outbox, outgoing, sent_document

logger = logging.getLogger("qlvb.interchange.inbound")

Source = Literal["axis", "local"]
MessageType = Literal["edoc", "status"]
BUSINESS = {
    BusinessDocType.NEW: "new",
    BusinessDocType.REVOKE: "revoke",
    BusinessDocType.UPDATE: "update",
    BusinessDocType.REPLACE: "replace",
}
# Formats that are ZIP archives by nature; any other name on ZIP bytes is the SDK's per-file
# compression (spec §1.7), unwrapped before the file is stored.
_ZIP_FORMATS = (".zip", ".docx", ".xlsx", ".pptx", ".odt", ".ods", ".odp")
_ZIP_MAGIC = b"PK\x03\x04"
_DESCRIPTION_LIMIT = 2000


class Outcome(enum.StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    REFUSED = "refused"


@dataclass(frozen=True)
class Taken:
    outcome: Outcome
    inbox_id: uuid.UUID | None = None
    refusal: Refusal | None = None
    dead_letter_id: uuid.UUID | None = None
    # A refusal the sender was told about with a status packet (02 or 16).
    answered: bool = False


@dataclass(frozen=True)
class _Answer:
    """What a refusal is answered with, once the packet was read far enough."""

    response_for: ResponseFor
    code: StatusCode


class _Refused(Exception):
    def __init__(self, refusal: Refusal, answer: _Answer | None, document_id: str | None) -> None:
        super().__init__(refusal.reason)
        self.refusal = refusal
        self.answer = answer
        self.document_id = document_id


def _edxml_refusal(error: EdxmlError) -> Refusal:
    return Refusal(f"edxml-{error.reason}", error.detail_vi, error.detail_en, path=error.path)


def _now(ctx: Context) -> dt.datetime:
    return ctx.now()


# ---------------------------------------------------------------------------------------------
# Status packets we answer with


def answer_packet(
    response_for: ResponseFor,
    reporter: Organisation,
    code: StatusCode,
    description: str | None,
    now: dt.datetime,
    signer: SigningIdentity | None,
) -> bytes:
    text = (description or "").strip() or mapping.STATUS_LABELS[code]
    return build_status(
        StatusPacket(
            response_for=response_for,
            sender=reporter,
            code=code,
            description=text[:_DESCRIPTION_LIMIT],
            timestamp=now,
        ),
        signer=signer,
    )


async def queue_answer(
    ctx: Context,
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    *,
    response_for: ResponseFor,
    reporter: Organisation,
    code: StatusCode,
    description: str | None,
    dedupe_key: str,
    now: dt.datetime,
    inbox_id: uuid.UUID | None = None,
) -> uuid.UUID | None:
    """Queue a status packet to the sender of `response_for` (its OrganId), signed with the
    agency's packet-signing identity when it has one."""
    signer = await packet_signer(ctx, conn, tenant_id)
    try:
        data = answer_packet(response_for, reporter, code, description, now, signer)
    except EdxmlError as error:  # what we hold about the document cannot name it on the wire
        raise _edxml_refusal(error) from error
    packet_id = await store_packet(conn, tenant_id, data, now)
    return await queue_message(
        conn,
        tenant_id,
        kind="status",
        dedupe_key=dedupe_key,
        packet_id=packet_id,
        edxml_document_id=response_for.document_id,
        sender_code=reporter.organ_id,
        recipient_code=response_for.organ_id,
        inbox_id=inbox_id,
        status_code=code.value,
        now=now,
    )


def _reporter(agency: Agency) -> Organisation:
    return Organisation(
        organ_id=agency.code, organ_name=agency.name, organization_in_charge=agency.name
    )


async def write_receipt(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    *,
    axis_doc_id: str | None,
    kind: MessageType,
    outcome: Outcome,
    now: dt.datetime,
    inbox_id: uuid.UUID | None = None,
    dead_letter_id: uuid.UUID | None = None,
) -> None:
    """The axis item is taken: written with the effect, so the two cannot part."""
    if axis_doc_id is None:
        return
    await conn.execute(
        pg_insert(axis_receipt)
        .values(
            tenant_id=tenant_id,
            axis_doc_id=axis_doc_id,
            message_type=kind,
            outcome=outcome.value,
            inbox_id=inbox_id,
            dead_letter_id=dead_letter_id,
            received_at=now,
        )
        .on_conflict_do_nothing()
    )


def _signer_columns(signature: VerifiedSignature | None) -> dict[str, str | None]:
    """Who signed a packet, as the inbox keeps it (None for an unsigned packet)."""
    if signature is None:
        return {"signer_subject": None, "signer_fingerprint": None}
    return {
        "signer_subject": signature.subject,
        "signer_fingerprint": signature.fingerprint_sha256,
    }


def response_for_row(row: Any) -> ResponseFor:
    """The document an inbox row holds, as a status packet names it."""
    return ResponseFor(
        organ_id=row.sender_code,
        code=row.code_text or "",
        promulgation_date=row.promulgation_date,
        document_id=row.edxml_document_id,
    )


# ---------------------------------------------------------------------------------------------
# The pipeline


class Receiver:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def receive(
        self,
        tenant_id: uuid.UUID,
        data: bytes,
        *,
        message_type: MessageType,
        source: Source,
        axis_doc_id: str | None = None,
        record_refusal: bool = True,
    ) -> Taken:
        """Take one packet into `tenant_id`. A `TemporaryFailure` (storage, identity) leaves
        nothing behind and should be retried; anything refused comes back as REFUSED, recorded
        as a dead letter (or raised as the `Refusal`, for a replay of one)."""
        taken = await self._receive(
            tenant_id,
            data,
            message_type=message_type,
            source=source,
            axis_doc_id=axis_doc_id,
            record_refusal=record_refusal,
        )
        delivered("incoming", taken.outcome.value, source, message_type)
        return taken

    async def _receive(
        self,
        tenant_id: uuid.UUID,
        data: bytes,
        *,
        message_type: MessageType,
        source: Source,
        axis_doc_id: str | None,
        record_refusal: bool,
    ) -> Taken:
        agency = await self.ctx.agencies.by_id(tenant_id)
        if agency is None:
            raise Refusal(
                "unknown-agency",
                f"Cơ quan {tenant_id} không có trong danh mục.",
                f"Agency {tenant_id} is not in the registry.",
            )
        try:
            if message_type == "status":
                return await self._status(tenant_id, agency, data, source, axis_doc_id)
            return await self._document(tenant_id, agency, data, source, axis_doc_id)
        except _Refused as refused:
            if not record_refusal:
                raise refused.refusal from refused
            return await self._record_refusal(
                tenant_id, agency, data, source, message_type, axis_doc_id, refused
            )

    async def _record_refusal(
        self,
        tenant_id: uuid.UUID,
        agency: Agency,
        data: bytes,
        source: Source,
        message_type: MessageType,
        axis_doc_id: str | None,
        refused: _Refused,
    ) -> Taken:
        refusal = refused.refusal
        now = _now(self.ctx)
        logger.warning(
            "packet_refused",
            extra={
                "tenant_id": str(tenant_id),
                "reason": refusal.reason,
                "axis_doc_id": axis_doc_id,
            },
        )
        async with self.ctx.db.transaction(tenant_id) as conn:
            packet_id = await store_packet(conn, tenant_id, data, now)
            answer = refused.answer
            letter_id = await dead_letters.record(
                conn,
                tenant_id,
                refusal,
                direction="incoming",
                now=now,
                source=source,
                message_type=message_type,
                axis_doc_id=axis_doc_id,
                edxml_document_id=refused.document_id,
                sender_code=answer.response_for.organ_id if answer else None,
                recipient_code=agency.code,
                packet_id=packet_id,
            )
            await write_receipt(
                conn,
                tenant_id,
                axis_doc_id=axis_doc_id,
                kind=message_type,
                outcome=Outcome.REFUSED,
                now=now,
                dead_letter_id=letter_id,
            )
            if answer is not None:
                digest = hashlib.sha256(data).hexdigest()
                try:
                    await queue_answer(
                        self.ctx,
                        conn,
                        tenant_id,
                        response_for=answer.response_for,
                        reporter=_reporter(agency),
                        code=answer.code,
                        description=refusal.detail_vi,
                        dedupe_key=f"refusal:{answer.code.value}:"
                        f"{answer.response_for.document_id}:{digest}",
                        now=now,
                    )
                except Refusal as unanswerable:  # built before anything is written
                    logger.warning("refusal_unanswered", extra={"reason": unanswerable.reason})
                    answer = None
        if answer is not None:
            await self.ctx.jobs.send(tenant_id)
        return Taken(
            Outcome.REFUSED, refusal=refusal, dead_letter_id=letter_id, answered=answer is not None
        )

    # -- documents ---------------------------------------------------------------------------

    async def _document(
        self,
        tenant_id: uuid.UUID,
        agency: Agency,
        data: bytes,
        source: Source,
        axis_doc_id: str | None,
    ) -> Taken:
        try:
            received = read_document(data, max_bytes=self.ctx.settings.max_packet_bytes)
        except EdxmlError as error:  # a signature that does not verify is refused here too
            raise _Refused(_edxml_refusal(error), None, None) from error
        packet, signature = received.packet, received.signature
        header = packet.header
        business = packet.business.doc_type
        answer_code = (
            StatusCode.CHANGE_REJECTED
            if business in (BusinessDocType.REVOKE, BusinessDocType.UPDATE)
            else StatusCode.REJECTED
        )
        answer = _Answer(
            ResponseFor(
                organ_id=header.sender.organ_id,
                code=header.code.text,
                promulgation_date=header.promulgation.date,
                document_id=packet.business.document_id
                if business in (BusinessDocType.REVOKE, BusinessDocType.UPDATE)
                and packet.business.document_id
                else header.document_id,
            ),
            answer_code,
        )
        try:
            if agency.code not in {recipient.organ_id for recipient in header.recipients}:
                raise Refusal(
                    "not-addressed-to-us",
                    f"Gói tin không gửi cho {agency.code}.",
                    f"The packet is not addressed to {agency.code}.",
                )
            if business in (BusinessDocType.NEW, BusinessDocType.REPLACE):
                return await self._new(tenant_id, agency, packet, signature, source, axis_doc_id)
            if business == BusinessDocType.REVOKE:
                return await self._revoke(
                    tenant_id,
                    agency,
                    sender=header.sender.organ_id,
                    original=packet.business.document_id or header.document_id,
                    reason=packet.business.reason or "",
                    source=source,
                    axis_doc_id=axis_doc_id,
                    signature=signature,
                )
            return await self._update(
                tenant_id, agency, packet, signature, data, source, axis_doc_id
            )
        except Refusal as refusal:
            raise _Refused(refusal, answer, header.document_id) from refusal

    async def _target(
        self, conn: AsyncConnection, sender: str, document_id: str, reason: str
    ) -> Any:
        row = (
            await conn.execute(
                select(inbox).where(
                    inbox.c.dedupe_key == f"new:{document_id}", inbox.c.sender_code == sender
                )
            )
        ).one_or_none()
        if row is None:
            raise Refusal(
                reason,
                f"Không có văn bản {document_id} nào của {sender} đã nhận.",
                f"No document {document_id} from {sender} was ever received here.",
            )
        return row

    async def _existing(self, tenant_id: uuid.UUID, key: str) -> uuid.UUID | None:
        async with self.ctx.db.transaction(tenant_id, read_only=True) as conn:
            found = await conn.execute(select(inbox.c.id).where(inbox.c.dedupe_key == key))
            value = found.scalar_one_or_none()
        return None if value is None else uuid.UUID(str(value))

    def _fields(self, packet: DocumentPacket) -> DeliveryFields:
        header = packet.header
        sender = header.sender
        pages = header.other.page_amount
        return DeliveryFields(
            sender_name=(sender.organ_name or sender.organization_in_charge or sender.organ_id)[
                :300
            ],
            sender_code=sender.organ_id,
            number_symbol=header.code.text[:100],
            doc_type=mapping.type_code(header.document_type.type_name),
            issued_on=header.promulgation.date,
            subject=header.subject[:2000],
            signer=header.signer.full_name[:200],
            urgency=mapping.urgency(header.other.priority),
            pages=pages if pages is not None and 1 <= pages <= 100_000 else None,
            due_on=header.due_date,
        )

    async def _store(self, tenant_id: uuid.UUID, packet: DocumentPacket) -> list[DeliveryFile]:
        files: list[DeliveryFile] = []
        try:
            for index, attachment in enumerate(packet.attachments):
                name, content = _unwrapped(attachment, self.ctx.settings.max_packet_bytes)
                stored = await self.ctx.storage.upload(tenant_id, name, content)
                files.append(
                    DeliveryFile(
                        object_id=stored.id,
                        file_name=stored.file_name[:255],
                        sha256=stored.sha256,
                        size=stored.size,
                        role="main" if index == 0 else "attachment",
                    )
                )
        except BaseException:
            await self._discard(tenant_id, files)
            raise
        return files

    async def _discard(self, tenant_id: uuid.UUID, files: list[DeliveryFile]) -> None:
        for file in files:
            await self.ctx.storage.delete(tenant_id, file.object_id)

    async def _insert(self, conn: AsyncConnection, values: dict[str, Any]) -> bool:
        inserted = await conn.execute(
            pg_insert(inbox)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["tenant_id", "dedupe_key"])
            .returning(inbox.c.id)
        )
        return inserted.first() is not None

    def _inbox_values(
        self,
        tenant_id: uuid.UUID,
        agency: Agency,
        packet: DocumentPacket,
        signature: VerifiedSignature | None,
        *,
        inbox_id: uuid.UUID,
        key: str,
        source: Source,
        axis_doc_id: str | None,
        target_id: uuid.UUID | None = None,
    ) -> dict[str, Any]:
        header = packet.header
        return {
            "tenant_id": tenant_id,
            "id": inbox_id,
            "kind": "edoc",
            "business": BUSINESS[packet.business.doc_type],
            "dedupe_key": key,
            "source": source,
            "axis_doc_id": axis_doc_id,
            "edxml_document_id": header.document_id,
            "sender_code": header.sender.organ_id,
            "sender_name": (header.sender.organ_name or header.sender.organ_id)[:300],
            "recipient_code": agency.code,
            "recipient_name": agency.name[:300],
            "code_text": header.code.text[:100],
            "promulgation_date": header.promulgation.date,
            "target_id": target_id,
            "state": "received",
            "received_at": _now(self.ctx),
            **_signer_columns(signature),
        }

    async def _new(
        self,
        tenant_id: uuid.UUID,
        agency: Agency,
        packet: DocumentPacket,
        signature: VerifiedSignature | None,
        source: Source,
        axis_doc_id: str | None,
    ) -> Taken:
        header = packet.header
        key = f"new:{header.document_id}"
        if packet.attachments:
            # Files are stored before the transaction; a copy already taken stores none.
            existing = await self._existing(tenant_id, key)
            if existing is not None:
                return Taken(Outcome.DUPLICATE, inbox_id=existing)
        files = await self._store(tenant_id, packet)
        delivery_id = uuid.uuid4()
        now = _now(self.ctx)
        async with self.ctx.db.transaction(tenant_id) as conn:
            replaced: uuid.UUID | None = None
            if packet.business.doc_type == BusinessDocType.REPLACE and packet.business.document_id:
                found = await conn.execute(
                    select(inbox.c.id).where(
                        inbox.c.dedupe_key == f"new:{packet.business.document_id}",
                        inbox.c.sender_code == header.sender.organ_id,
                    )
                )
                replaced = found.scalar_one_or_none()
            values = self._inbox_values(
                tenant_id,
                agency,
                packet,
                signature,
                inbox_id=delivery_id,
                key=key,
                source=source,
                axis_doc_id=axis_doc_id,
                target_id=replaced,
            )
            if await self._insert(conn, values):
                event = DeliveryReceived(
                    delivery_id=delivery_id,
                    edxml_document_id=header.document_id,
                    fields=self._fields(packet),
                    files=files,
                    replaces_delivery_id=replaced,
                )
                payload = to_payload(event)
                if replaced is None:
                    payload.pop("replaces_delivery_id")
                await publish(conn, outbox, tenant_id, DELIVERY_RECEIVED, payload)
                await queue_answer(
                    self.ctx,
                    conn,
                    tenant_id,
                    response_for=ResponseFor(
                        organ_id=header.sender.organ_id,
                        code=header.code.text,
                        promulgation_date=header.promulgation.date,
                        document_id=header.document_id,
                    ),
                    reporter=_reporter(agency),
                    code=StatusCode.RECEIVED,
                    description=None,
                    dedupe_key=f"status:{delivery_id}:{StatusCode.RECEIVED.value}",
                    now=now,
                    inbox_id=delivery_id,
                )
                await write_receipt(
                    conn,
                    tenant_id,
                    axis_doc_id=axis_doc_id,
                    kind="edoc",
                    outcome=Outcome.ACCEPTED,
                    now=now,
                    inbox_id=delivery_id,
                )
                inserted = True
            else:
                inserted = False
        if not inserted:  # taken by a concurrent copy of the same packet a moment ago
            await self._discard(tenant_id, files)
            return Taken(Outcome.DUPLICATE, inbox_id=await self._existing(tenant_id, key))
        await self.ctx.jobs.send(tenant_id)
        return Taken(Outcome.ACCEPTED, inbox_id=delivery_id)

    async def _revoke(
        self,
        tenant_id: uuid.UUID,
        agency: Agency,
        *,
        sender: str,
        original: str,
        reason: str,
        source: Source,
        axis_doc_id: str | None,
        signature: VerifiedSignature | None,
        kind: MessageType = "edoc",
        unknown_reason: str = "revoke-unknown-document",
    ) -> Taken:
        """Thu hồi (BussinessDocType 1) or lấy lại (status 13): NĐ 30 Phụ lục VI asks the
        receiving system to destroy the document; docs does that on `delivery.revoked`."""
        key = f"revoke:{original}"
        now = _now(self.ctx)
        async with self.ctx.db.transaction(tenant_id) as conn:
            target = await self._target(conn, sender, original, unknown_reason)
            revocation_id = uuid.uuid4()
            values = {
                "tenant_id": tenant_id,
                "id": revocation_id,
                "kind": "edoc",
                "business": "revoke",
                "dedupe_key": key,
                "source": source,
                "axis_doc_id": axis_doc_id,
                "edxml_document_id": original,
                "sender_code": sender,
                "sender_name": target.sender_name,
                "recipient_code": agency.code,
                "recipient_name": agency.name[:300],
                "code_text": target.code_text,
                "promulgation_date": target.promulgation_date,
                "target_id": target.id,
                "state": "received",
                "received_at": now,
                **_signer_columns(signature),
            }
            if not await self._insert(conn, values):
                return Taken(Outcome.DUPLICATE, inbox_id=target.id)
            await conn.execute(update(inbox).where(inbox.c.id == target.id).values(state="revoked"))
            revoked = DeliveryRevoked(
                delivery_id=target.id,
                revocation_id=revocation_id,
                edxml_document_id=original,
                sender_code=sender,
                reason=reason or "Thu hồi văn bản điện tử",
            )
            await publish(conn, outbox, tenant_id, DELIVERY_REVOKED, to_payload(revoked))
            # A recall (13) before the document was handled needs nobody's decision: agreed at
            # once. A revocation (thu hồi) is the receiving agency's to agree to or refuse: it is
            # acknowledged (01) and docs answers 15/16 once the clerk decides.
            code = StatusCode.CHANGE_ACCEPTED if kind == "status" else StatusCode.RECEIVED
            await queue_answer(
                self.ctx,
                conn,
                tenant_id,
                response_for=response_for_row(target),
                reporter=_reporter(agency),
                code=code,
                description=None,
                dedupe_key=f"status:{revocation_id}:{code.value}",
                now=now,
                inbox_id=revocation_id,
            )
            await write_receipt(
                conn,
                tenant_id,
                axis_doc_id=axis_doc_id,
                kind=kind,
                outcome=Outcome.ACCEPTED,
                now=now,
                inbox_id=revocation_id,
            )
        await self.ctx.jobs.send(tenant_id)
        return Taken(Outcome.ACCEPTED, inbox_id=revocation_id)

    async def _update(
        self,
        tenant_id: uuid.UUID,
        agency: Agency,
        packet: DocumentPacket,
        signature: VerifiedSignature | None,
        data: bytes,
        source: Source,
        axis_doc_id: str | None,
    ) -> Taken:
        header = packet.header
        original = packet.business.document_id or header.document_id
        key = f"update:{original}:{hashlib.sha256(data).hexdigest()}"
        async with self.ctx.db.transaction(tenant_id, read_only=True) as conn:
            target = await self._target(
                conn, header.sender.organ_id, original, "update-unknown-document"
            )
        existing = await self._existing(tenant_id, key)
        if existing is not None:
            return Taken(Outcome.DUPLICATE, inbox_id=existing)
        files = await self._store(tenant_id, packet)
        update_id = uuid.uuid4()
        now = _now(self.ctx)
        async with self.ctx.db.transaction(tenant_id) as conn:
            values = self._inbox_values(
                tenant_id,
                agency,
                packet,
                signature,
                inbox_id=update_id,
                key=key,
                source=source,
                axis_doc_id=axis_doc_id,
                target_id=target.id,
            )
            values["edxml_document_id"] = original
            inserted = await self._insert(conn, values)
            if inserted:
                updated = DeliveryUpdated(
                    delivery_id=target.id,
                    update_id=update_id,
                    edxml_document_id=original,
                    sender_code=header.sender.organ_id,
                    reason=packet.business.reason or "Cập nhật văn bản điện tử",
                    fields=self._fields(packet),
                    files=files,
                )
                await publish(conn, outbox, tenant_id, DELIVERY_UPDATED, to_payload(updated))
                await queue_answer(
                    self.ctx,
                    conn,
                    tenant_id,
                    response_for=response_for_row(target),
                    reporter=_reporter(agency),
                    code=StatusCode.RECEIVED,
                    description=None,
                    dedupe_key=f"status:{update_id}:{StatusCode.RECEIVED.value}",
                    now=now,
                    inbox_id=update_id,
                )
                await write_receipt(
                    conn,
                    tenant_id,
                    axis_doc_id=axis_doc_id,
                    kind="edoc",
                    outcome=Outcome.ACCEPTED,
                    now=now,
                    inbox_id=update_id,
                )
        if not inserted:
            await self._discard(tenant_id, files)
            return Taken(Outcome.DUPLICATE, inbox_id=await self._existing(tenant_id, key))
        await self.ctx.jobs.send(tenant_id)
        return Taken(Outcome.ACCEPTED, inbox_id=update_id)

    # -- status packets ----------------------------------------------------------------------

    async def _status(
        self,
        tenant_id: uuid.UUID,
        agency: Agency,
        data: bytes,
        source: Source,
        axis_doc_id: str | None,
    ) -> Taken:
        try:
            received = read_status(data, max_bytes=self.ctx.settings.max_packet_bytes)
        except EdxmlError as error:
            raise _Refused(_edxml_refusal(error), None, None) from error
        status, signature = received.packet, received.signature
        ref = status.response_for
        reporter = status.sender.organ_id
        try:
            if status.code == StatusCode.RECALLED:
                # Lấy lại: the sender recalls a document it delivered to us (spec §2.2).
                return await self._revoke(
                    tenant_id,
                    agency,
                    sender=reporter,
                    original=ref.document_id,
                    reason=status.description or "",
                    source=source,
                    axis_doc_id=axis_doc_id,
                    signature=signature,
                    kind="status",
                    unknown_reason="recall-unknown-document",
                )
            return await self._apply_status(tenant_id, status, signature, source, axis_doc_id)
        except Refusal as refusal:
            # Statuses are not answered: a status about a status does not exist.
            raise _Refused(refusal, None, ref.document_id) from refusal

    async def _apply_status(
        self,
        tenant_id: uuid.UUID,
        status: StatusPacket,
        signature: VerifiedSignature | None,
        source: Source,
        axis_doc_id: str | None,
    ) -> Taken:
        ref = status.response_for
        reporter = status.sender.organ_id
        code = status.code
        change = code in (StatusCode.CHANGE_ACCEPTED, StatusCode.CHANGE_REJECTED)
        key = f"status:{ref.document_id}:{reporter}:{code.value}:{status.timestamp.isoformat()}"
        now = _now(self.ctx)
        async with self.ctx.db.transaction(tenant_id) as conn:
            candidates = (
                await conn.execute(
                    select(outgoing, sent_document.c.outgoing_id.label("docs_id"))
                    .join(
                        sent_document,
                        (sent_document.c.tenant_id == outgoing.c.tenant_id)
                        & (sent_document.c.id == outgoing.c.sent_document_id),
                    )
                    .where(
                        outgoing.c.kind == "edoc",
                        outgoing.c.edxml_document_id == ref.document_id,
                        outgoing.c.recipient_code == reporter,
                    )
                    .order_by(outgoing.c.seq.desc())
                )
            ).all()
            documents = [row for row in candidates if row.business in ("new", "replace")]
            changes = [row for row in candidates if row.business in ("revoke", "update")]
            # 15/16 answer the latest revoke or update request; 01-06 are about the document.
            pool = (changes or documents) if change else documents
            row = pool[0] if pool else None
            if row is None:
                raise Refusal(
                    "status-for-unknown-document",
                    f"Trạng thái cho văn bản {ref.document_id} mà cơ quan chưa từng gửi cho "
                    f"{reporter}.",
                    f"A status about document {ref.document_id}, never sent to {reporter}.",
                )
            status_id = uuid.uuid4()
            inserted = await self._insert(
                conn,
                {
                    "tenant_id": tenant_id,
                    "id": status_id,
                    "kind": "status",
                    "business": None,
                    "dedupe_key": key[:400],
                    "source": source,
                    "axis_doc_id": axis_doc_id,
                    "edxml_document_id": ref.document_id,
                    "sender_code": reporter,
                    "sender_name": (status.sender.organ_name or reporter)[:300],
                    "recipient_code": row.sender_code,
                    "recipient_name": "",
                    "code_text": ref.code[:100],
                    "promulgation_date": ref.promulgation_date,
                    "target_id": row.id,
                    "status_code": code.value,
                    "state": "received",
                    "received_at": now,
                    **_signer_columns(signature),
                },
            )
            outcome = Outcome.ACCEPTED if inserted else Outcome.DUPLICATE
            await write_receipt(
                conn,
                tenant_id,
                axis_doc_id=axis_doc_id,
                kind="status",
                outcome=outcome,
                now=now,
                inbox_id=status_id if inserted else None,
            )
            if not inserted:
                return Taken(Outcome.DUPLICATE)
            if change:
                await conn.execute(
                    update(outgoing).where(outgoing.c.id == row.id).values(change_code=code.value)
                )
            else:
                reached = (
                    mapping.RECEIPT_RANK.get(StatusCode(row.receipt_code), 0)
                    if row.receipt_code
                    else 0
                )
                if mapping.RECEIPT_RANK.get(code, 0) > reached:
                    await conn.execute(
                        update(outgoing)
                        .where(outgoing.c.id == row.id)
                        .values(
                            receipt_code=code.value,
                            receipt_description=status.description,
                            receipt_at=status.timestamp,
                        )
                    )
            await publish_status(
                conn,
                tenant_id,
                outgoing_id=row.docs_id,
                business=row.business,
                edxml_document_id=ref.document_id,
                recipient_code=reporter,
                status=mapping.EVENT_OF_STATUS[code],
                code=code.value,
                description=status.description,
                at=status.timestamp,
            )
        return Taken(Outcome.ACCEPTED, inbox_id=status_id)


def _unwrapped(attachment: Attachment, max_bytes: int) -> tuple[str, bytes]:
    """The file inside an SDK-compressed attachment (ZIP of one file under a non-ZIP name)."""
    content = attachment.content
    name = attachment.name
    if not content.startswith(_ZIP_MAGIC) or name.lower().endswith(_ZIP_FORMATS):
        return name, content
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            entries = [entry for entry in archive.infolist() if not entry.is_dir()]
            if len(entries) != 1 or entries[0].file_size > max_bytes:
                return name, content
            with archive.open(entries[0]) as inner:
                unpacked = inner.read(max_bytes + 1)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return name, content
    if len(unpacked) > max_bytes:
        return name, content
    return name, unpacked
