"""Reading the changes a sender asked for, for the document card. Apart from `changes.py` so
that the card (`service.py`) can show them without importing the module that writes them."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.docs.incoming.schemas import ChangeView, FileRef, PreviousVersion
from services.docs.tables import incoming_change

# Who answers a request nobody could (a document never received, already revoked, bad fields).
SYSTEM_ACTOR = "service-account-qlvb-docs"


def _files(value: Any) -> list[FileRef]:
    try:
        return msgspec.convert(value or [], list[FileRef])
    except msgspec.ValidationError:
        return []  # a refused request may carry what could not be read


def view(row: Any) -> ChangeView:
    previous = None
    if row.previous is not None:
        previous = PreviousVersion(
            fields=dict(row.previous.get("fields") or {}),
            files=_files(row.previous.get("files")),
        )
    return ChangeView(
        id=row.id,
        business=row.business,
        state=row.state,
        document_id=row.document_id,
        replacement_id=row.replacement_id,
        sender_code=row.sender_code,
        reason=row.reason,
        received_at=row.received_at,
        fields=dict(row.fields) if isinstance(row.fields, dict) else None,
        files=_files(row.files),
        previous=previous,
        answer_reason=row.answer_reason,
        answered_by=row.answered_by,
        answered_name=row.answered_name,
        answered_at=row.answered_at,
        automatic=row.answered_by == SYSTEM_ACTOR,
    )


async def changes_of(
    conn: AsyncConnection, tenant_id: uuid.UUID, document_id: uuid.UUID
) -> list[ChangeView]:
    """The requests about the document, oldest first; for a replacement document also the
    request that names it as the new one."""
    rows = await conn.execute(
        select(incoming_change)
        .where(
            incoming_change.c.tenant_id == tenant_id,
            or_(
                incoming_change.c.document_id == document_id,
                incoming_change.c.replacement_id == document_id,
            ),
        )
        .order_by(incoming_change.c.received_at, incoming_change.c.id)
    )
    return [view(row) for row in rows]


def replaced_by(document_id: uuid.UUID, changes: list[ChangeView]) -> uuid.UUID | None:
    for change in changes:
        if (
            change.business == "replace"
            and change.state == "accepted"
            and change.document_id == document_id
        ):
            return change.replacement_id
    return None
