"""After issue: revoking (thu hồi), updating (cập nhật) and replacing (thay thế) a document
(edXML business types 1, 2 and 3; NĐ 30, Điều 18.3-18.4; standards.md §1.6).

The issued document itself never changes. A revocation or an update is a change record naming
it, sent to its electronic recipients as `document.issued` with the change's own id as
`outgoing_id` and the document's as `target_id`; each recipient's answer (agree: 15
`change_accepted`, refuse: 16 `change_rejected`) comes back through `delivery.status` onto the
change. A replacement is a new outgoing document of the same type, drafted, signed and issued
like any other, whose `target_id` names the one it replaces."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.auth.principal import Principal
from services.common.outbox import publish
from services.common.problems import Conflict, InvalidInput
from services.docs.audit import chain
from services.docs.outgoing.records import fetch
from services.docs.outgoing.schemas import ChangeRecipientView, ChangeView, UpdateRequest
from services.docs.outgoing.signing import current_file
from services.docs.tables import (
    outbox,
    outgoing,
    outgoing_change,
    outgoing_change_recipient,
    outgoing_recipient,
)

ISSUED_TOPIC = "document.issued"
REVOKE, UPDATE, REPLACE = "revoke", "update", "replace"
_WORDS = {
    REVOKE: ("thu hồi", "revoked"),
    UPDATE: ("cập nhật", "updated"),
    REPLACE: ("thay thế", "replaced"),
}


async def revoked(conn: AsyncConnection, tenant_id: uuid.UUID, outgoing_id: uuid.UUID) -> bool:
    found = await conn.execute(
        select(outgoing_change.c.id).where(
            outgoing_change.c.tenant_id == tenant_id,
            outgoing_change.c.outgoing_id == outgoing_id,
            outgoing_change.c.business == REVOKE,
        )
    )
    return found.first() is not None


async def check_target(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    target_id: uuid.UUID | None,
    business: str,
    *,
    for_update: bool = False,
) -> Any:
    """The issued document a change acts on; another agency's is not found (404)."""
    if target_id is None:
        raise InvalidInput("Cần nêu văn bản gốc.", "The original document is required.")
    target = await fetch(conn, tenant_id, target_id, for_update=for_update)
    vi, en = _WORDS[business]
    if target.state != "issued":
        raise Conflict(
            f"Chỉ {vi} được văn bản đã ban hành.", f"Only an issued document can be {en}."
        )
    if await revoked(conn, tenant_id, target_id):
        raise Conflict(
            f"Văn bản {target.number_symbol} đã bị thu hồi; không {vi} được nữa.",
            f"{target.number_symbol} was revoked; it can no longer be {en}.",
        )
    return target


async def request_change(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    principal: Principal,
    target_id: uuid.UUID,
    business: str,
    body: UpdateRequest,
) -> uuid.UUID:
    """Record a revocation or update of an issued document and send it to the document's
    electronic recipients; returns the change's id."""
    target = await check_target(conn, tenant_id, target_id, business, for_update=True)
    if business == UPDATE and body.subject is None and body.reply_due_on is None:
        raise InvalidInput(
            "Cần nêu điều được cập nhật (trích yếu hoặc hạn trả lời).",
            "Say what the update changes (subject or reply date).",
        )
    change_id = uuid.uuid4()
    try:
        # The target's row lock (check_target) already orders concurrent requests; the unique
        # index on revocations is the backstop, and its violation aborts the transaction.
        await conn.execute(
            insert(outgoing_change).values(
                tenant_id=tenant_id,
                id=change_id,
                outgoing_id=target_id,
                business=business,
                reason=body.reason.strip(),
                subject=body.subject.strip() if body.subject else None,
                reply_due_on=body.reply_due_on,
                requested_by=principal.username,
                requested_name=principal.name or principal.username,
            )
        )
    except IntegrityError as exc:
        raise Conflict(
            f"Văn bản {target.number_symbol} đã bị thu hồi.",
            f"{target.number_symbol} is already revoked.",
        ) from exc
    recipients = (
        await conn.execute(
            select(outgoing_recipient).where(
                outgoing_recipient.c.tenant_id == tenant_id,
                outgoing_recipient.c.outgoing_id == target_id,
                outgoing_recipient.c.electronic.is_(True),
            )
        )
    ).all()
    for recipient in recipients:
        await conn.execute(
            insert(outgoing_change_recipient).values(
                tenant_id=tenant_id,
                change_id=change_id,
                code=recipient.code,
                name=recipient.name,
                status="sending",
            )
        )
    if recipients and not target.internal:
        final = await current_file(conn, tenant_id, target_id)
        await publish(
            conn,
            outbox,
            tenant_id,
            ISSUED_TOPIC,
            {
                "outgoing_id": str(change_id),
                "business": business,
                "target_id": str(target_id),
                "number_symbol": target.number_symbol,
                "doc_type": target.doc_type,
                "issued_on": target.issued_on.isoformat(),
                "subject": body.subject or target.subject,
                "signer": target.signer_name,
                "authority": target.authority,
                "urgency": target.urgency,
                "reply_due_on": (
                    (body.reply_due_on or target.reply_due_on).isoformat()
                    if (body.reply_due_on or target.reply_due_on)
                    else None
                ),
                "reason": body.reason.strip(),
                "recipients": [{"code": r.code, "name": r.name} for r in recipients],
                # A revocation names the document and carries no file; an update sends the
                # signed original again with the corrected metadata.
                "files": (
                    []
                    if business == REVOKE
                    else [
                        {
                            "object_id": str(final.object_id),
                            "file_name": final.file_name,
                            "sha256": final.sha256,
                            "size": final.size,
                            "role": "main",
                        }
                    ]
                ),
            },
        )
    await chain.append(
        conn,
        tenant_id,
        principal,
        f"outgoing.{business}_requested",
        "outgoing",
        target_id,
        {
            "change_id": str(change_id),
            "reason": body.reason,
            "subject": body.subject,
            "recipients": [r.code for r in recipients],
        },
    )
    return change_id


async def changes_of(
    conn: AsyncConnection, tenant_id: uuid.UUID, outgoing_id: uuid.UUID
) -> list[ChangeView]:
    """Revocations and updates of the document, and the documents that replace it."""
    changes = (
        await conn.execute(
            select(outgoing_change)
            .where(
                outgoing_change.c.tenant_id == tenant_id,
                outgoing_change.c.outgoing_id == outgoing_id,
            )
            .order_by(outgoing_change.c.requested_at)
        )
    ).all()
    answers: dict[uuid.UUID, list[ChangeRecipientView]] = {c.id: [] for c in changes}
    if changes:
        for r in await conn.execute(
            select(outgoing_change_recipient)
            .where(
                outgoing_change_recipient.c.tenant_id == tenant_id,
                outgoing_change_recipient.c.change_id.in_(list(answers)),
            )
            .order_by(outgoing_change_recipient.c.code)
        ):
            answers[r.change_id].append(
                ChangeRecipientView(code=r.code, name=r.name, status=r.status, reason=r.reason)
            )
    views = [
        ChangeView(
            id=c.id,
            business=c.business,
            reason=c.reason,
            subject=c.subject,
            reply_due_on=c.reply_due_on,
            requested_by=c.requested_by,
            requested_at=c.requested_at,
            recipients=answers[c.id],
        )
        for c in changes
    ]
    replacements = (
        await conn.execute(
            select(outgoing)
            .where(
                outgoing.c.tenant_id == tenant_id,
                outgoing.c.target_id == outgoing_id,
                outgoing.c.business == REPLACE,
                outgoing.c.state == "issued",
            )
            .order_by(outgoing.c.issued_at)
        )
    ).all()
    for replacement in replacements:
        recipients = await conn.execute(
            select(outgoing_recipient)
            .where(
                outgoing_recipient.c.tenant_id == tenant_id,
                outgoing_recipient.c.outgoing_id == replacement.id,
            )
            .order_by(outgoing_recipient.c.code)
        )
        views.append(
            ChangeView(
                id=replacement.id,
                business=REPLACE,
                reason=f"Thay thế bằng văn bản {replacement.number_symbol}",
                subject=replacement.subject,
                reply_due_on=replacement.reply_due_on,
                requested_by=replacement.issued_by or replacement.drafter,
                requested_at=replacement.issued_at,
                recipients=[
                    ChangeRecipientView(code=r.code, name=r.name, status=r.status, reason=r.reason)
                    for r in recipients
                ],
            )
        )
    return views
