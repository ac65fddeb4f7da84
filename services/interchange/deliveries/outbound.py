"""Documents leaving an agency: `document.issued` becomes a request row (in the event's own
transaction: no network there, so one agency's trouble never holds up the consumer), and the
agency's send job turns requests into edXML packets, in issue order, one queued message per
recipient.

Building fetches the attachments from storage and checks each against the SHA-256 the docs
service recorded. A storage outage leaves the request pending with backoff, and later requests
wait behind it so that each recipient still gets documents in issue order. A request that can
never be built (a file whose hash does not match, a revoke of a document never sent, a packet
over the size limit) fails as a dead letter, with `delivery.status failed` for its recipients.
A recipient code that is not a QCVN 102 code fails alone; the others are sent. The packet is
signed with the agency's packet-signing identity when its connector holds one
(`connectors/signing.py`)."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import msgspec
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from services.interchange.connectors.service import backoff
from services.interchange.connectors.signing import packet_signer
from services.interchange.context import Context
from services.interchange.dead_letters import service as dead_letters
from services.interchange.deliveries import mapping
from services.interchange.deliveries.events import DocumentIssued, Recipient
from services.interchange.deliveries.queueing import (
    kept_packet,
    publish_status,
    queue_message,
    store_packet,
)
from services.interchange.edxml import (
    Attachment,
    Business,
    BusinessDocType,
    BusinessDocumentInfo,
    Code,
    DocumentPacket,
    DocumentType,
    EdxmlError,
    MessageHeader,
    Organisation,
    OtherInfo,
    PromulgationInfo,
    ReplacementInfo,
    SignerInfo,
    SigningIdentity,
    StaffInfo,
    TraceHeader,
    build_document,
    document_id,
    is_agency_code,
    parse_document,
)
from services.interchange.failures import Refusal, TemporaryFailure
from services.interchange.platform.agencies import Agency
from services.interchange.tables import sent_document

logger = logging.getLogger("qlvb.interchange.outbound")

_BUSINESS = {
    "new": BusinessDocType.NEW,
    "revoke": BusinessDocType.REVOKE,
    "update": BusinessDocType.UPDATE,
    "replace": BusinessDocType.REPLACE,
}
# BussinessDocReason when docs gives none: the wording of the VPCP samples (spec §1.6).
_REASONS = {
    "new": "Văn bản điện tử mới",
    "revoke": "Thu hồi văn bản điện tử",
    "update": "Cập nhật văn bản điện tử",
    "replace": "Thay thế văn bản điện tử",
}


def decode_issued(payload: dict[str, Any]) -> DocumentIssued:
    try:
        issued = msgspec.convert(payload, DocumentIssued, strict=False)
    except msgspec.ValidationError as error:
        raise Refusal(
            "invalid-event",
            f"Sự kiện document.issued không hợp lệ: {error}",
            f"The document.issued event is invalid: {error}",
        ) from error
    if issued.business != "new" and issued.target_id is None:
        raise Refusal(
            "invalid-event",
            "Thu hồi, cập nhật, thay thế phải nêu văn bản gốc (target_id).",
            "A revoke, update or replace must name the original document (target_id).",
        )
    return issued


async def accept_issued(
    ctx: Context, conn: AsyncConnection, tenant_id: uuid.UUID, payload: dict[str, Any]
) -> bool:
    """Record the request (once per outgoing document); True when it is new."""
    issued = decode_issued(payload)
    now = ctx.now()
    inserted = await conn.execute(
        pg_insert(sent_document)
        .values(
            tenant_id=tenant_id,
            id=uuid.uuid4(),
            outgoing_id=issued.outgoing_id,
            business=issued.business,
            request=payload,
            state="pending",
            next_attempt_at=now,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["tenant_id", "outgoing_id"])
        .returning(sent_document.c.id)
    )
    return inserted.first() is not None


# ---------------------------------------------------------------------------------------------
# Building packets


def _split(number_symbol: str) -> Code:
    """`7816/VPCP-TTĐT` -> number `7816`, notation `VPCP-TTĐT`: split at the first "/" (1.3)."""
    number, _, notation = number_symbol.partition("/")
    return Code(number=number.strip(), notation=notation.strip())


def _organisation(agency: Agency) -> Organisation:
    return Organisation(
        organ_id=agency.code,
        organization_in_charge=agency.name,
        organ_name=agency.name,
        address=agency.address or None,
        email=agency.email or None,
        telephone=agency.phone or None,
        website=agency.website or None,
    )


def _header(
    issued: DocumentIssued,
    sender: Agency,
    recipients: list[Recipient],
    *,
    edxml_id: str | None = None,
) -> MessageHeader:
    code = _split(issued.number_symbol)
    own_id = document_id(sender.code, issued.issued_on, code.number, code.notation)
    return MessageHeader(
        sender=_organisation(sender),
        recipients=tuple(
            Organisation(organ_id=r.code, organ_name=r.name or None) for r in recipients
        ),
        document_id=edxml_id or own_id,
        code=code,
        promulgation=PromulgationInfo(
            place=issued.place or sender.address or "", date=issued.issued_on
        ),
        document_type=DocumentType(
            type=mapping.type_number(issued.doc_type),
            type_name=mapping.type_name(issued.doc_type),
            type_detail=0,
        ),
        subject=issued.subject,
        signer=SignerInfo(
            competence=issued.authority or None,
            position=issued.signer_position,
            full_name=issued.signer,
        ),
        due_date=issued.reply_due_on,
        other=OtherInfo(
            priority=mapping.priority(issued.urgency),
            sphere_of_promulgation=issued.sphere,
            typer_notation=issued.typer_notation,
            promulgation_amount=issued.copies,
            page_amount=issued.pages,
        ),
        to_places=tuple(issued.to_places or [r.name for r in recipients if r.name]),
    )


def _business(
    issued: DocumentIssued, target_id: str | None, recipients: list[Recipient]
) -> Business:
    staff = issued.staff
    return Business(
        doc_type=_BUSINESS[issued.business],
        reason=issued.reason or _REASONS[issued.business],
        document_id=target_id,
        paper=issued.paper,
        staff=(
            ()
            if staff is None
            else (
                StaffInfo(
                    department=staff.department,
                    staff=staff.staff,
                    mobile=staff.mobile,
                    email=staff.email,
                ),
            )
        ),
        document_info=(
            BusinessDocumentInfo(document_info=True, document_receiver=False)
            if issued.business == "update"
            else None
        ),
        replacements=(
            (ReplacementInfo(document_id=target_id, organ_ids=tuple(r.code for r in recipients)),)
            if issued.business == "replace" and target_id
            else ()
        ),
    )


class Builder:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def build_pending(self, tenant_id: uuid.UUID) -> int:
        """Build the agency's waiting requests in order; how many were built or failed."""
        now = self.ctx.now()
        async with self.ctx.db.transaction(tenant_id, read_only=True) as conn:
            rows = (
                await conn.execute(
                    select(sent_document)
                    .where(sent_document.c.state == "pending")
                    .order_by(sent_document.c.seq)
                    .limit(self.ctx.settings.send_batch)
                )
            ).all()
        done = 0
        for row in rows:
            if row.next_attempt_at > now:
                break  # the head of the line is backing off; later ones keep their place
            try:
                await self._build(tenant_id, row)
            except TemporaryFailure as failure:
                await self._retry_later(tenant_id, row, failure.detail_en or str(failure))
                break
            except Refusal as refusal:
                await self._fail(tenant_id, row, refusal)
            done += 1
        return done

    async def _retry_later(self, tenant_id: uuid.UUID, row: Any, error: str) -> None:
        now = self.ctx.now()
        async with self.ctx.db.transaction(tenant_id) as conn:
            await conn.execute(
                update(sent_document)
                .where(sent_document.c.id == row.id)
                .values(
                    attempts=sent_document.c.attempts + 1,
                    next_attempt_at=now + backoff(self.ctx, row.attempts + 1),
                    last_error=error[:1000],
                )
            )

    async def _fail(self, tenant_id: uuid.UUID, row: Any, refusal: Refusal) -> None:
        logger.warning(
            "document_not_built",
            extra={
                "tenant_id": str(tenant_id),
                "outgoing_id": str(row.outgoing_id),
                "reason": refusal.reason,
            },
        )
        now = self.ctx.now()
        recipients = _recipients_of(row.request)
        async with self.ctx.db.transaction(tenant_id) as conn:
            await conn.execute(
                update(sent_document)
                .where(sent_document.c.id == row.id)
                .values(state="failed", last_error=refusal.detail[:1000])
            )
            await dead_letters.record(
                conn,
                tenant_id,
                refusal,
                direction="outgoing",
                now=now,
                sent_document_id=row.id,
            )
            for code in recipients:
                await publish_status(
                    conn,
                    tenant_id,
                    outgoing_id=row.outgoing_id,
                    business=row.business,
                    edxml_document_id=None,
                    recipient_code=code,
                    status="failed",
                    description=refusal.detail_vi,
                    at=now,
                )

    async def _target(self, tenant_id: uuid.UUID, issued: DocumentIssued) -> Any:
        """The sent document a revoke, update or replace acts on."""
        async with self.ctx.db.transaction(tenant_id, read_only=True) as conn:
            target = (
                await conn.execute(
                    select(sent_document).where(
                        sent_document.c.outgoing_id == issued.target_id,
                        sent_document.c.business.in_(("new", "replace")),
                        sent_document.c.state == "built",
                    )
                )
            ).one_or_none()
        if target is None:
            raise Refusal(
                "target-never-sent",
                f"Văn bản gốc {issued.target_id} chưa từng được gửi đi.",
                f"The original document {issued.target_id} was never sent.",
            )
        return target

    async def _original_header(
        self, tenant_id: uuid.UUID, target: Any, sender: Agency
    ) -> MessageHeader:
        """The header of the document a revoke names, as it was sent: read from its packet, or,
        once the packet was purged, rebuilt from the request it was built from (the same
        fields, the same DocumentId)."""
        async with self.ctx.db.transaction(tenant_id, read_only=True) as conn:
            original = await kept_packet(conn, target.packet_id)
        if original is None:
            earlier = decode_issued(target.request)
            recipients = [r for r in earlier.recipients if is_agency_code(r.code)]
            return _header(earlier, sender, recipients, edxml_id=target.edxml_document_id)
        try:
            return parse_document(original, max_bytes=self.ctx.settings.max_packet_bytes).header
        except EdxmlError as error:
            raise Refusal(
                "target-unreadable", error.detail_vi, error.detail_en, path=error.path
            ) from error

    async def _signer(self, tenant_id: uuid.UUID) -> SigningIdentity | None:
        async with self.ctx.db.transaction(tenant_id, read_only=True) as conn:
            return await packet_signer(self.ctx, conn, tenant_id)

    async def _files(self, tenant_id: uuid.UUID, issued: DocumentIssued) -> list[Attachment]:
        limit = self.ctx.settings.max_packet_bytes
        if sum(f.size for f in issued.files) > limit * 3 // 4:
            raise Refusal(
                "too-large",
                f"Các tệp vượt giới hạn gói tin {limit} byte (sau khi mã hoá base64).",
                f"The files exceed the packet limit of {limit} bytes once base64-encoded.",
            )
        attachments: list[Attachment] = []
        for file in issued.files:
            content, content_type = await self.ctx.storage.download(
                tenant_id, file.object_id, file.sha256, limit
            )
            attachments.append(
                Attachment(
                    content_id=file.object_id.hex,
                    name=file.file_name,
                    content_type=content_type,
                    description=file.file_name,
                    content=content,
                )
            )
        return attachments

    async def _build(self, tenant_id: uuid.UUID, row: Any) -> None:
        issued = decode_issued(row.request)
        sender = await self.ctx.agencies.by_id(tenant_id)
        if sender is None:
            raise Refusal(
                "unknown-agency",
                f"Cơ quan gửi {tenant_id} không có trong danh mục.",
                f"The sending agency {tenant_id} is not in the registry.",
            )
        valid = [r for r in issued.recipients if is_agency_code(r.code)]
        invalid = [r for r in issued.recipients if not is_agency_code(r.code)]
        valid = list({r.code: r for r in valid}.values())  # a recipient named twice gets one
        if not valid:
            raise Refusal(
                "unknown-recipients",
                "Không có nơi nhận nào có mã định danh hợp lệ (QCVN 102).",
                "No recipient has a valid agency code (QCVN 102).",
            )
        now = self.ctx.now()
        target_edxml_id: str | None = None
        if issued.business == "revoke":
            target = await self._target(tenant_id, issued)
            target_edxml_id = target.edxml_document_id
            earlier = await self._original_header(tenant_id, target, sender)
            # Thu hồi names the original document: its header, no files (spec §1.6).
            packet = DocumentPacket(
                header=msgspec.structs.replace(
                    earlier,
                    recipients=tuple(
                        Organisation(organ_id=r.code, organ_name=r.name or None) for r in valid
                    ),
                ),
                trace=(TraceHeader(organ_id=sender.code, timestamp=now),),
                business=_business(issued, target_edxml_id, valid),
            )
        else:
            if issued.business in ("update", "replace"):
                target = await self._target(tenant_id, issued)
                target_edxml_id = target.edxml_document_id
            header = _header(
                issued,
                sender,
                valid,
                # An update changes the metadata of the same document: the same DocumentId.
                edxml_id=target_edxml_id if issued.business == "update" else None,
            )
            packet = DocumentPacket(
                header=header,
                trace=(TraceHeader(organ_id=sender.code, timestamp=now),),
                business=_business(issued, target_edxml_id, valid),
                attachments=tuple(await self._files(tenant_id, issued)),
            )
        try:
            data = build_document(
                packet,
                signer=await self._signer(tenant_id),
                max_bytes=self.ctx.settings.max_packet_bytes,
            )
        except EdxmlError as error:
            raise Refusal(
                f"edxml-{error.reason}", error.detail_vi, error.detail_en, path=error.path
            ) from error
        # Statuses about this delivery will name the document they concern: the original for a
        # revoke or update, this one otherwise.
        status_id = (
            target_edxml_id
            if issued.business in ("revoke", "update") and target_edxml_id
            else packet.header.document_id
        )
        try:
            async with self.ctx.db.transaction(tenant_id) as conn:
                packet_id = await store_packet(conn, tenant_id, data, now)
                await conn.execute(
                    update(sent_document)
                    .where(sent_document.c.id == row.id)
                    .values(
                        state="built",
                        edxml_document_id=packet.header.document_id,
                        target_document_id=target_edxml_id,
                        packet_id=packet_id,
                        built_at=now,
                        attempts=sent_document.c.attempts + 1,
                    )
                )
                for recipient in valid:
                    await queue_message(
                        conn,
                        tenant_id,
                        kind="edoc",
                        dedupe_key=f"edoc:{row.id}:{recipient.code}",
                        packet_id=packet_id,
                        edxml_document_id=status_id,
                        sender_code=sender.code,
                        recipient_code=recipient.code,
                        recipient_name=recipient.name,
                        sent_document_id=row.id,
                        business=issued.business,
                        now=now,
                    )
                for recipient in invalid:
                    refusal = Refusal(
                        "unknown-recipient",
                        f"Mã nơi nhận {recipient.code!r} không đúng dạng QCVN 102.",
                        f"Recipient code {recipient.code!r} is not a QCVN 102 code.",
                    )
                    await dead_letters.record(
                        conn,
                        tenant_id,
                        refusal,
                        direction="outgoing",
                        now=now,
                        sent_document_id=row.id,
                        edxml_document_id=packet.header.document_id,
                        recipient_code=recipient.code,
                    )
                    await publish_status(
                        conn,
                        tenant_id,
                        outgoing_id=row.outgoing_id,
                        business=row.business,
                        edxml_document_id=packet.header.document_id,
                        recipient_code=recipient.code,
                        status="failed",
                        description=refusal.detail_vi,
                        at=now,
                    )
        except IntegrityError as error:
            raise Refusal(
                "duplicate-document-id",
                f"Đã gửi một văn bản khác có cùng DocumentId {packet.header.document_id}.",
                f"Another document with DocumentId {packet.header.document_id} was sent.",
            ) from error


def _recipients_of(request: dict[str, Any]) -> list[str]:
    recipients = request.get("recipients")
    if not isinstance(recipients, list):
        return []
    return [str(r.get("code")) for r in recipients if isinstance(r, dict) and r.get("code")]
