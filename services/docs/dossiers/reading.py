"""Reading a dossier: its row, its documents as the caller may see them, its card."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.auth.principal import Principal
from services.common.problems import NotFound
from services.docs.dossiers import retention
from services.docs.dossiers.schemas import (
    AcceptanceView,
    DisposalView,
    DossierCard,
    DossierSummary,
    HistoryEntry,
    ItemView,
)
from services.docs.tables import (
    audit_entry,
    document,
    dossier,
    dossier_disposal,
    dossier_item,
    dossier_reminder,
    outgoing,
)
from services.docs.visibility import incoming_visible, outgoing_visible


def not_found(dossier_id: uuid.UUID) -> NotFound:
    return NotFound(f"Không tìm thấy hồ sơ {dossier_id}.", f"No dossier {dossier_id}.")


def summary_of(row: Any) -> DossierSummary:
    years = row.retention_years
    return DossierSummary(
        id=row.id,
        year=row.year,
        code=row.code,
        heading=row.heading,
        title=row.title,
        retention=retention.PERMANENT if years is None else int(years),
        retention_label=retention.label(years),
        responsible=row.responsible,
        responsible_name=row.responsible_name,
        department=row.department,
        state=row.state,
        start_on=row.start_on,
        end_on=row.end_on,
        doc_total=row.last_ordinal,
        transfer_due_on=row.transfer_due_on,
        retention_ends_on=row.retention_ends_on,
    )


def disposal_view(row: Any) -> DisposalView:
    return DisposalView(
        reason=row.reason,
        listed_by=row.listed_by,
        listed_at=row.listed_at,
        decision_number=row.decision_number,
        decided_on=row.decided_on,
        decided_by=row.decided_by,
        note=row.note,
    )


async def fetch(
    conn: AsyncConnection, tenant_id: uuid.UUID, dossier_id: uuid.UUID, *, for_update: bool = False
) -> Any:
    statement = select(dossier).where(dossier.c.tenant_id == tenant_id, dossier.c.id == dossier_id)
    if for_update:
        statement = statement.with_for_update()
    row = (await conn.execute(statement)).one_or_none()
    if row is None:
        raise not_found(dossier_id)
    return row


def items_statement(tenant_id: uuid.UUID, principal: Principal, dossier_id: uuid.UUID) -> Any:
    """The dossier's documents in ordinal order, each with whether the caller may see it."""
    visible = case(
        (dossier_item.c.document_id.is_not(None), incoming_visible(tenant_id, principal)),
        else_=outgoing_visible(tenant_id, principal),
    )
    joined = dossier_item.outerjoin(
        document,
        and_(
            document.c.tenant_id == dossier_item.c.tenant_id,
            document.c.id == dossier_item.c.document_id,
        ),
    ).outerjoin(
        outgoing,
        and_(
            outgoing.c.tenant_id == dossier_item.c.tenant_id,
            outgoing.c.id == dossier_item.c.outgoing_id,
        ),
    )
    return (
        select(
            dossier_item.c.ordinal,
            dossier_item.c.document_id,
            dossier_item.c.outgoing_id,
            dossier_item.c.added_by,
            dossier_item.c.added_at,
            outgoing.c.internal,
            func.coalesce(document.c.state, outgoing.c.state).label("doc_state"),
            func.coalesce(document.c.number_symbol, outgoing.c.number_symbol).label(
                "number_symbol"
            ),
            func.coalesce(document.c.doc_type, outgoing.c.doc_type).label("doc_type"),
            func.coalesce(document.c.issued_on, outgoing.c.issued_on).label("issued_on"),
            func.coalesce(document.c.subject, outgoing.c.subject).label("subject"),
            func.coalesce(document.c.sender_name, outgoing.c.signer_name).label("author"),
            func.coalesce(document.c.confidentiality, outgoing.c.confidentiality).label(
                "confidentiality"
            ),
            document.c.pages,
            visible.label("visible"),
        )
        .select_from(joined)
        .where(dossier_item.c.tenant_id == tenant_id, dossier_item.c.dossier_id == dossier_id)
        .order_by(dossier_item.c.ordinal)
    )


def item_kind(row: Any) -> str:
    if row.document_id is not None:
        return "incoming"
    return "internal" if row.internal else "outgoing"


def item_view(row: Any) -> ItemView:
    return ItemView(
        ordinal=row.ordinal,
        kind=item_kind(row),  # type: ignore[arg-type]
        document_id=row.document_id or row.outgoing_id,
        number_symbol=row.number_symbol,
        doc_type=row.doc_type,
        issued_on=row.issued_on,
        subject=row.subject,
        author=row.author,
        confidentiality=row.confidentiality,
        pages=row.pages,
        added_by=row.added_by,
        added_at=row.added_at,
    )


async def build_card(
    conn: AsyncConnection, tenant_id: uuid.UUID, principal: Principal, dossier_id: uuid.UUID
) -> DossierCard:
    row = await fetch(conn, tenant_id, dossier_id)
    items = (await conn.execute(items_statement(tenant_id, principal, dossier_id))).all()
    reminded_at = None
    if row.transfer_due_on is not None:
        reminded_at = (
            await conn.execute(
                select(dossier_reminder.c.sent_at).where(
                    dossier_reminder.c.tenant_id == tenant_id,
                    dossier_reminder.c.dossier_id == dossier_id,
                    dossier_reminder.c.due_on == row.transfer_due_on,
                )
            )
        ).scalar_one_or_none()
    disposal = (
        await conn.execute(
            select(dossier_disposal).where(
                dossier_disposal.c.tenant_id == tenant_id,
                dossier_disposal.c.dossier_id == dossier_id,
            )
        )
    ).one_or_none()
    history = (
        await conn.execute(
            select(audit_entry)
            .where(audit_entry.c.tenant_id == tenant_id, audit_entry.c.entity_id == dossier_id)
            .order_by(audit_entry.c.seq)
        )
    ).all()
    acceptance = None
    if row.receipt_number is not None:
        acceptance = AcceptanceView(
            receipt_number=row.receipt_number,
            accepted_on=row.accepted_on,
            accepted_by=row.accepted_by,
            accepted_at=row.accepted_at,
        )
    return DossierCard(
        **msgspec.structs.asdict(summary_of(row)),
        language=row.language,
        access=row.access,
        access_label=retention.ACCESS_LABELS[row.access],
        description=row.description,
        hidden_items=sum(not i.visible for i in items),
        items=[item_view(i) for i in items if i.visible],
        transfer_reminded_at=reminded_at,
        acceptance=acceptance,
        disposal=disposal_view(disposal) if disposal is not None else None,
        history=[
            HistoryEntry(
                seq=h.seq,
                at=h.at,
                actor=h.actor,
                actor_name=h.actor_name,
                action=h.action,
                data=h.data,
            )
            for h in history
        ],
    )
