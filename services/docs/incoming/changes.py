"""The receiving side of a revocation (thu hồi), update (cập nhật) or replacement (thay thế) of
an incoming document (edXML business 1-3; standards.md §1.6 and §2.2; NĐ 30, Phụ lục VI).

The interchange service takes the sender's packet and publishes `delivery.revoked` (also for a
recall, status 13) or `delivery.updated`; a replacement arrives as a new document whose
`delivery.received` names the delivery it replaces. Each request becomes an `incoming_change`
on the document the original arrival created (matched by that delivery's id), pending until
the clerk or a leader answers it: agree (15, `change_accepted`) or refuse with a reason (16,
`change_rejected`), sent back as `document.status_changed` naming the request's own delivery
id, which is how the interchange service finds what to answer.

Agreeing to a revocation or a replacement closes the document (`revoked` / `replaced`): it
stays readable with its history, leaves the processing lists, and the assignments still open
on it are cancelled. Agreeing to an update applies the corrected fields and files; what they
replaced is kept on the request (`previous`) and in the audit chain.

A request nobody can agree to (a document never received here, one already revoked or
replaced, corrected fields that are not valid) is recorded as refused at once and answered
with the reason, so the sender is never left without an answer and nothing is lost.

The interchange service itself already answers a revocation 15 when the packet arrives
(Phụ lục VI: the issuer's order is carried out); the clerk's agreement names the same request
and is not sent twice, while a refusal goes out as 16 after it."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

import msgspec
from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.auth.principal import Principal
from services.common.outbox import publish
from services.common.problems import Conflict, Forbidden, InvalidInput, NotFound, Problem
from services.docs.audit import chain
from services.docs.catalog.types import Confidentiality
from services.docs.incoming.change_views import SYSTEM_ACTOR
from services.docs.incoming.schemas import DocumentCard, FileRef, IncomingFields
from services.docs.incoming.service import (
    ASSIGNERS,
    STATUS_TOPIC,
    VIETNAM,
    IncomingService,
    _check_fields,
    _fields_values,
    attach_files,
    visible_to,
)
from services.docs.registers.service import INCOMING
from services.docs.tables import assignment, document, document_file, incoming_change, outbox

logger = logging.getLogger("qlvb.docs.incoming.changes")

REVOKE, UPDATE, REPLACE = "revoke", "update", "replace"
PENDING, ACCEPTED, REFUSED = "pending", "accepted", "refused"
CHANGE_ACCEPTED, CHANGE_REJECTED = "change_accepted", "change_rejected"
# A document a sender took back or replaced is closed; nothing more can be agreed to on it.
CLOSED = ("revoked", "replaced")

SYSTEM = Principal(subject="qlvb-docs", username=SYSTEM_ACTOR, name="Hệ thống quản lý văn bản")

_WORDS = {
    REVOKE: ("thu hồi", "revocation"),
    UPDATE: ("cập nhật", "update"),
    REPLACE: ("thay thế", "replacement"),
}
# What an update may correct; the sender's code and the confidentiality never change (nothing
# confidential travels over the network).
_UPDATED_COLUMNS = (
    "sender_name",
    "number_symbol",
    "doc_type",
    "issued_on",
    "subject",
    "signer",
    "urgency",
    "pages",
    "due_on",
)


class Unreadable(ValueError):
    """A request without the ids needed to record or answer it."""


def _uuid(payload: dict[str, Any], key: str) -> uuid.UUID:
    value = payload.get(key)
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise Unreadable(f"{key}: {value!r}") from exc


def _text(value: Any, default: str) -> str:
    return value.strip() if isinstance(value, str) and value.strip() else default


def _plain(value: Any) -> Any:
    """A column value as JSON keeps it (dates as ISO text)."""
    return value.isoformat() if isinstance(value, dt.date) else value


# ---------------------------------------------------------------------------------------------
# Arrival (the `docs` consumer, in the event's transaction)


async def receive_revocation(
    conn: AsyncConnection, tenant_id: uuid.UUID, payload: dict[str, Any]
) -> uuid.UUID | None:
    """`delivery.revoked`: the change's id, or None when this request was already recorded."""
    return await _receive(
        conn,
        tenant_id,
        business=REVOKE,
        delivery_id=_uuid(payload, "revocation_id"),
        target_delivery_id=_uuid(payload, "delivery_id"),
        payload=payload,
        reason=_text(payload.get("reason"), "Thu hồi văn bản điện tử"),
    )


async def receive_update(
    conn: AsyncConnection, tenant_id: uuid.UUID, payload: dict[str, Any]
) -> uuid.UUID | None:
    """`delivery.updated`: the change's id, or None when this request was already recorded."""
    return await _receive(
        conn,
        tenant_id,
        business=UPDATE,
        delivery_id=_uuid(payload, "update_id"),
        target_delivery_id=_uuid(payload, "delivery_id"),
        payload=payload,
        reason=_text(payload.get("reason"), "Cập nhật văn bản điện tử"),
    )


async def receive_replacement(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    replacement_id: uuid.UUID,
    payload: dict[str, Any],
) -> uuid.UUID | None:
    """A `delivery.received` naming the delivery it replaces; `replacement_id` is the incoming
    document it just created."""
    fields = payload.get("fields") or {}
    return await _receive(
        conn,
        tenant_id,
        business=REPLACE,
        delivery_id=_uuid(payload, "delivery_id"),
        target_delivery_id=_uuid(payload, "replaces_delivery_id"),
        payload={
            "edxml_document_id": payload.get("edxml_document_id"),
            "sender_code": fields.get("sender_code") if isinstance(fields, dict) else None,
        },
        reason=(
            f"Thay thế bằng văn bản {fields.get('number_symbol')}"
            if isinstance(fields, dict) and fields.get("number_symbol")
            else "Thay thế văn bản điện tử"
        ),
        replacement_id=replacement_id,
    )


def _update_body(
    payload: dict[str, Any], target: Any
) -> tuple[dict[str, Any] | None, list[Any] | None, Problem | None]:
    """The corrected fields and files as recorded, and why they cannot be agreed to, if so."""
    raw_fields = payload.get("fields")
    raw_files = payload.get("files") or []
    try:
        fields = msgspec.convert(raw_fields, IncomingFields)
        files = msgspec.convert(raw_files, list[FileRef])
    except (msgspec.ValidationError, TypeError) as malformed:
        return (
            raw_fields if isinstance(raw_fields, dict) else None,
            raw_files if isinstance(raw_files, list) else None,
            InvalidInput(
                f"Thông tin cập nhật không đúng cấu trúc: {malformed}",
                f"The update does not match the contract: {malformed}",
            ),
        )
    recorded = msgspec.to_builtins(fields), msgspec.to_builtins(files)
    if fields.confidentiality is not Confidentiality.NORMAL:
        return (
            *recorded,
            InvalidInput(
                "Văn bản mật không được gửi qua mạng; không nhận bản cập nhật.",
                "Confidential documents may not travel over the network; update refused.",
            ),
        )
    if len({f.object_id for f in files}) != len(files):
        return (
            *recorded,
            InvalidInput("Một tệp được đính kèm hai lần.", "A file is attached twice."),
        )
    if target is not None:
        try:
            _check_fields(fields, target.arrived_at.astimezone(VIETNAM).date())
        except InvalidInput as invalid:
            return (*recorded, invalid)
    return (*recorded, None)


async def _receive(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    *,
    business: str,
    delivery_id: uuid.UUID,
    target_delivery_id: uuid.UUID,
    payload: dict[str, Any],
    reason: str,
    replacement_id: uuid.UUID | None = None,
) -> uuid.UUID | None:
    already = await conn.execute(
        select(incoming_change.c.id).where(
            incoming_change.c.tenant_id == tenant_id,
            incoming_change.c.delivery_id == delivery_id,
        )
    )
    if already.first() is not None:
        return None
    # Locked: an answer being given to another request about it waits for this one.
    target = (
        await conn.execute(
            select(document)
            .where(
                document.c.tenant_id == tenant_id,
                document.c.direction == INCOMING,
                document.c.delivery_id == target_delivery_id,
            )
            .with_for_update()
        )
    ).one_or_none()
    fields: dict[str, Any] | None = None
    files: list[Any] | None = None
    refusal: Problem | None = None
    if business == UPDATE:
        fields, files, refusal = _update_body(payload, target)
    edxml_document_id = payload.get("edxml_document_id")
    sender_code = payload.get("sender_code")
    vi, en = _WORDS[business]
    if target is None:
        refusal = InvalidInput(
            f"Cơ quan chưa từng nhận văn bản {edxml_document_id or target_delivery_id}"
            f" của {sender_code or 'nơi gửi'}; không {vi} được.",
            f"No document {edxml_document_id or target_delivery_id} from "
            f"{sender_code or 'the sender'} was ever received here; {en} refused.",
        )
    elif target.state in CLOSED:
        refusal = Conflict(
            f"Văn bản {target.number_symbol} đã bị thu hồi hoặc thay thế; không {vi} được nữa.",
            f"{target.number_symbol} was already revoked or replaced; {en} refused.",
        )
    change_id = uuid.uuid4()
    values: dict[str, Any] = {
        "tenant_id": tenant_id,
        "id": change_id,
        "business": business,
        "delivery_id": delivery_id,
        "target_delivery_id": target_delivery_id,
        "document_id": target.id if target is not None else None,
        "replacement_id": replacement_id,
        "edxml_document_id": str(edxml_document_id)[:100] if edxml_document_id else None,
        "sender_code": str(sender_code)[:35] if sender_code else None,
        "reason": reason,
        "fields": fields,
        "files": files,
        "state": PENDING,
    }
    if refusal is not None:
        values.update(
            state=REFUSED,
            answer_reason=refusal.detail_vi,
            answered_by=SYSTEM.username,
            answered_name=SYSTEM.name,
            answered_at=func.now(),
        )
    inserted = await conn.execute(
        pg_insert(incoming_change)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["tenant_id", "delivery_id"])
        .returning(incoming_change.c.id)
    )
    if inserted.first() is None:
        return None  # recorded by a concurrent copy of the same event a moment ago
    data: dict[str, Any] = {
        "change_id": str(change_id),
        "business": business,
        "reason": reason,
        "delivery_id": str(delivery_id),
    }
    if replacement_id is not None:
        data["replacement_id"] = str(replacement_id)
    if refusal is None and target is not None:
        await chain.append(
            conn, tenant_id, SYSTEM, "incoming.change_requested", "document", target.id, data
        )
        return change_id
    assert refusal is not None  # no target is always a refusal
    logger.warning(
        "incoming change refused",
        extra={"change_id": str(change_id), "reason": refusal.detail_en},
    )
    await chain.append(
        conn,
        tenant_id,
        SYSTEM,
        "incoming.change_refused",
        "document" if target is not None else "incoming_change",
        target.id if target is not None else change_id,
        {**data, "automatic": True, "answer_reason": refusal.detail_vi},
    )
    await _answer_sender(
        conn,
        tenant_id,
        values,
        document_id=target.id if target is not None else None,
        status=CHANGE_REJECTED,
        reason=refusal.detail_vi,
    )
    return change_id


async def _answer_sender(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    change: Any,
    *,
    document_id: uuid.UUID | None,
    status: str,
    reason: str | None,
) -> None:
    """15 or 16 to the sender: the interchange service answers the request `delivery_id`."""
    get = change.get if isinstance(change, dict) else change._mapping.get
    await publish(
        conn,
        outbox,
        tenant_id,
        STATUS_TOPIC,
        {
            "document_id": str(document_id) if document_id else None,
            "status": status,
            "delivery_id": str(get("delivery_id")),
            "edxml_document_id": get("edxml_document_id"),
            "sender_code": get("sender_code"),
            "reason": reason,
        },
    )


# ---------------------------------------------------------------------------------------------
# The answer (HTTP)


class IncomingChanges:
    """The clerk's or a leader's answer to a request, over the incoming documents' service."""

    def __init__(self, incoming: IncomingService) -> None:
        self.incoming = incoming

    async def accept(
        self,
        tenant_id: uuid.UUID,
        principal: Principal,
        document_id: uuid.UUID,
        change_id: uuid.UUID,
    ) -> DocumentCard:
        return await self._answer(tenant_id, principal, document_id, change_id, None)

    async def refuse(
        self,
        tenant_id: uuid.UUID,
        principal: Principal,
        document_id: uuid.UUID,
        change_id: uuid.UUID,
        reason: str,
    ) -> DocumentCard:
        reason = reason.strip()
        if len(reason) < 3:
            raise InvalidInput(
                "Cần nêu lý do từ chối (ít nhất 3 ký tự).",
                "Give the reason for the refusal (3 characters at least).",
                errors=[{"field": "reason", "message": "Cần nêu lý do từ chối."}],
            )
        return await self._answer(tenant_id, principal, document_id, change_id, reason)

    async def _answer(
        self,
        tenant_id: uuid.UUID,
        principal: Principal,
        document_id: uuid.UUID,
        change_id: uuid.UUID,
        refusal: str | None,
    ) -> DocumentCard:
        if not principal.has_role(*ASSIGNERS):
            raise Forbidden(
                "Chỉ văn thư hoặc lãnh đạo trả lời yêu cầu thu hồi, cập nhật, thay thế.",
                "Only clerks and leaders answer revocations, updates and replacements.",
            )
        ocr = False
        async with self.incoming.db.transaction(tenant_id) as conn:
            await self._document(conn, tenant_id, principal, document_id)
            change = (
                await conn.execute(
                    select(incoming_change)
                    .where(
                        incoming_change.c.tenant_id == tenant_id,
                        incoming_change.c.id == change_id,
                        (incoming_change.c.document_id == document_id)
                        | (incoming_change.c.replacement_id == document_id),
                    )
                    .with_for_update()
                )
            ).one_or_none()
            if change is None:
                raise NotFound(
                    f"Không tìm thấy yêu cầu {change_id} của văn bản này.",
                    f"No request {change_id} about this document.",
                )
            if change.state != PENDING:
                raise Conflict("Yêu cầu này đã được trả lời.", "This request was already answered.")
            target = await self._document(conn, tenant_id, principal, change.document_id)
            data: dict[str, Any] = {
                "change_id": str(change.id),
                "business": change.business,
                "delivery_id": str(change.delivery_id),
            }
            values: dict[str, Any] = {
                "answered_by": principal.username,
                "answered_name": principal.name or principal.username,
                "answered_at": func.now(),
            }
            if refusal is None:
                if target.state in CLOSED:
                    raise Conflict(
                        f"Văn bản {target.number_symbol} đã bị thu hồi hoặc thay thế.",
                        f"{target.number_symbol} was already revoked or replaced.",
                    )
                if change.business == UPDATE:
                    previous, corrected, ocr = await self._apply_update(
                        conn, tenant_id, target, change
                    )
                    values["previous"] = previous
                    data["changed"] = corrected
                else:
                    await self._close(conn, tenant_id, target, change)
                    if change.replacement_id is not None:
                        data["replacement_id"] = str(change.replacement_id)
                values["state"] = ACCEPTED
                action, status = "incoming.change_accepted", CHANGE_ACCEPTED
            else:
                values.update(state=REFUSED, answer_reason=refusal)
                data["answer_reason"] = refusal
                action, status = "incoming.change_refused", CHANGE_REJECTED
            await conn.execute(
                update(incoming_change)
                .where(
                    incoming_change.c.tenant_id == tenant_id,
                    incoming_change.c.id == change.id,
                )
                .values(**values)
            )
            await chain.append(conn, tenant_id, principal, action, "document", target.id, data)
            await _answer_sender(
                conn, tenant_id, change, document_id=target.id, status=status, reason=refusal
            )
        if ocr and self.incoming.jobs is not None:
            # The new scan becomes searchable in the background; a lost job only delays search.
            try:
                await self.incoming.jobs.ocr(tenant_id, target.id)
            except Exception as exc:
                logger.warning(
                    "ocr not queued", extra={"document_id": str(target.id), "error": repr(exc)}
                )
        if "files" in data.get("changed", {}) and self.incoming.jobs is not None:
            # The files sent again get their signatures checked, as on arrival.
            try:
                await self.incoming.jobs.check_signatures(tenant_id, target.id)
            except Exception as exc:
                logger.warning(
                    "signature check not queued",
                    extra={"document_id": str(target.id), "error": repr(exc)},
                )
        return await self.incoming.card(tenant_id, principal, document_id)

    async def _document(
        self,
        conn: AsyncConnection,
        tenant_id: uuid.UUID,
        principal: Principal,
        document_id: uuid.UUID,
    ) -> Any:
        mine = select(assignment.c.document_id).where(
            assignment.c.tenant_id == tenant_id, assignment.c.assignee == principal.username
        )
        row = (
            await conn.execute(
                select(document)
                .where(
                    document.c.tenant_id == tenant_id,
                    document.c.id == document_id,
                    document.c.direction == INCOMING,
                    visible_to(principal.username, mine),
                )
                .with_for_update(of=document)
            )
        ).one_or_none()
        if row is None:
            raise NotFound(f"Không tìm thấy văn bản {document_id}.", f"No document {document_id}.")
        return row

    async def _close(
        self, conn: AsyncConnection, tenant_id: uuid.UUID, target: Any, change: Any
    ) -> None:
        """Revoked or replaced: out of every processing list, its open work cancelled."""
        await conn.execute(
            update(document)
            .where(document.c.tenant_id == tenant_id, document.c.id == target.id)
            .values(state="revoked" if change.business == REVOKE else "replaced")
        )
        await conn.execute(
            update(assignment)
            .where(
                assignment.c.tenant_id == tenant_id,
                assignment.c.document_id == target.id,
                assignment.c.state == "open",
            )
            .values(state="cancelled", closed_at=func.now())
        )

    async def _apply_update(
        self, conn: AsyncConnection, tenant_id: uuid.UUID, target: Any, change: Any
    ) -> tuple[dict[str, Any], dict[str, Any], bool]:
        """The corrected fields and files on the document; returns what they replaced, what
        changed (old and new), and whether a new main file waits for OCR."""
        fields = msgspec.convert(change.fields, IncomingFields)
        files = msgspec.convert(change.files or [], list[FileRef])
        # Checked on arrival; checked again, as the document may have moved on since.
        _check_fields(fields, target.arrived_at.astimezone(VIETNAM).date())
        corrected = {
            name: value
            for name, value in _fields_values(fields).items()
            if name in _UPDATED_COLUMNS
            # An update that leaves these out keeps what the document has.
            and not (value is None and name in ("pages", "due_on"))
        }
        before = {name: _plain(getattr(target, name)) for name in corrected}
        changed = {
            name: [before[name], _plain(value)]
            for name, value in corrected.items()
            if before[name] != _plain(value)
        }
        old_files = (
            await conn.execute(
                select(document_file).where(
                    document_file.c.tenant_id == tenant_id,
                    document_file.c.document_id == target.id,
                )
            )
        ).all()
        previous: dict[str, Any] = {
            "fields": before,
            "files": [
                {
                    "object_id": str(f.object_id),
                    "file_name": f.file_name,
                    "sha256": f.sha256,
                    "size": f.size,
                    "role": f.role,
                }
                for f in old_files
                if f.role in ("main", "attachment")
            ],
        }
        values: dict[str, Any] = dict(corrected)
        if files:
            # The old files stay in storage, named by `previous`; the OCR of the old scan no
            # longer describes the document.
            await conn.execute(
                delete(document_file).where(
                    document_file.c.tenant_id == tenant_id,
                    document_file.c.document_id == target.id,
                )
            )
            await attach_files(conn, tenant_id, target.id, files)
            values["ocr_text"] = None
            changed["files"] = [
                [f["file_name"] for f in previous["files"]],
                [f.file_name for f in files],
            ]
        if values:
            await conn.execute(
                update(document)
                .where(document.c.tenant_id == tenant_id, document.c.id == target.id)
                .values(**values)
            )
        return previous, changed, any(f.role == "main" for f in files)
