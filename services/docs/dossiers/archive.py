"""The archive's side of a dossier: transfer to the agency archive (nộp lưu), the review of
dossiers whose retention has ended, and the disposal list with its decision (NĐ 30/2020
Điều 30-31; Luật Lưu trữ 2024).

Who does what: the agency archive is kept by the clerk's office (văn thư - lưu trữ) or the
agency's administrator, who accept transfers and propose disposal; only the head of the agency
decides a disposal. A disposal is a recorded decision: no row is ever deleted."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import insert, select, update

from services.common.auth.principal import Principal, Role
from services.common.db import Database
from services.common.problems import Conflict, Forbidden, NotFound
from services.docs.audit import chain
from services.docs.dossiers import retention
from services.docs.dossiers.reading import build_card, disposal_view, fetch, summary_of
from services.docs.dossiers.rules import check_day, require_changeable, required
from services.docs.dossiers.schemas import (
    Acceptance,
    DisposalDecision,
    DisposalEntry,
    DisposalListing,
    DossierCard,
    DossierSummary,
)
from services.docs.incoming.service import VIETNAM, today
from services.docs.tables import dossier, dossier_disposal

ARCHIVISTS = (Role.CLERK, Role.AGENCY_ADMIN)
REVIEWERS = (Role.CLERK, Role.AGENCY_ADMIN, Role.LEADER, Role.DEPUTY_LEADER)
DECIDERS = (Role.LEADER,)
LIST_LIMIT = 1000
# Joined to the dossier's own columns, whose names they do not share.
_DISPOSAL_COLUMNS = tuple(
    dossier_disposal.c[name]
    for name in (
        "reason",
        "listed_by",
        "listed_at",
        "decision_number",
        "decided_on",
        "decided_by",
        "note",
    )
)


def _require(principal: Principal, roles: tuple[Role, ...], action_vi: str, action_en: str) -> None:
    if not principal.has_role(*roles):
        raise Forbidden(f"Bạn không có quyền {action_vi}.", f"You may not {action_en}.")


class ArchiveService:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- transfer to the agency archive -------------------------------------------------------

    async def transfer_due(
        self, tenant_id: uuid.UUID, principal: Principal, within_days: int
    ) -> list[DossierSummary]:
        """Closed dossiers to hand over within `within_days` (or already late)."""
        _require(principal, REVIEWERS, "xem danh sách hồ sơ đến hạn nộp lưu", "see this list")
        horizon = today() + dt.timedelta(days=within_days)
        async with self.db.transaction(tenant_id, read_only=True) as conn:
            rows = (
                await conn.execute(
                    select(dossier)
                    .where(
                        dossier.c.tenant_id == tenant_id,
                        dossier.c.state == "closed",
                        dossier.c.transfer_due_on <= horizon,
                    )
                    .order_by(dossier.c.transfer_due_on, dossier.c.code)
                    .limit(LIST_LIMIT)
                )
            ).all()
        return [summary_of(r) for r in rows]

    async def accept(
        self,
        tenant_id: uuid.UUID,
        principal: Principal,
        dossier_id: uuid.UUID,
        body: Acceptance,
    ) -> DossierCard:
        _require(principal, ARCHIVISTS, "tiếp nhận hồ sơ nộp lưu", "accept transfers")
        async with self.db.transaction(tenant_id) as conn:
            row = await fetch(conn, tenant_id, dossier_id, for_update=True)
            require_changeable(row)
            if row.state != "closed":
                raise Conflict(
                    f"Hồ sơ {row.code} chưa kết thúc; chỉ nhận nộp lưu hồ sơ đã kết thúc.",
                    f"Dossier {row.code} is not closed.",
                )
            if not retention.goes_to_archive(row.retention_years):
                raise Conflict(
                    f"Hồ sơ {row.code} có thời hạn bảo quản {retention.label(row.retention_years)}"
                    f", dưới {retention.TRANSFER_MIN_YEARS} năm: lưu tại đơn vị, không nộp lưu "
                    "vào Lưu trữ cơ quan (NĐ 30, Điều 30).",
                    "Dossiers kept under five years stay with the unit.",
                )
            receipt = required(body.receipt_number, "receipt_number", "Số biên bản giao nhận")
            accepted_on = body.accepted_on or today()
            check_day(accepted_on, "accepted_on", "Ngày tiếp nhận", row.end_on)
            await conn.execute(
                update(dossier)
                .where(dossier.c.tenant_id == tenant_id, dossier.c.id == dossier_id)
                .values(
                    state="archived",
                    receipt_number=receipt,
                    accepted_on=accepted_on,
                    accepted_by=principal.username,
                    accepted_at=dt.datetime.now(dt.UTC),
                )
            )
            await chain.append(
                conn,
                tenant_id,
                principal,
                "dossier.accepted",
                "dossier",
                dossier_id,
                {
                    "receipt_number": receipt,
                    "accepted_on": accepted_on.isoformat(),
                    "transfer_due_on": (
                        row.transfer_due_on.isoformat() if row.transfer_due_on else None
                    ),
                    "note": body.note,
                },
            )
            return await build_card(conn, tenant_id, principal, dossier_id)

    # -- retention review and disposal --------------------------------------------------------

    async def expired(
        self, tenant_id: uuid.UUID, principal: Principal, as_of: dt.date, year: int | None
    ) -> list[DossierSummary]:
        """Hết thời hạn bảo quản: dossiers whose retention ended before `as_of`, not yet on
        the disposal list."""
        _require(principal, REVIEWERS, "xem danh sách hồ sơ hết thời hạn bảo quản", "review")
        listed = select(dossier_disposal.c.dossier_id).where(
            dossier_disposal.c.tenant_id == tenant_id
        )
        statement = select(dossier).where(
            dossier.c.tenant_id == tenant_id,
            dossier.c.state.in_(("closed", "archived")),
            dossier.c.retention_ends_on < as_of,
            dossier.c.id.not_in(listed),
        )
        if year is not None:
            statement = statement.where(dossier.c.year == year)
        async with self.db.transaction(tenant_id, read_only=True) as conn:
            rows = (
                await conn.execute(
                    statement.order_by(dossier.c.retention_ends_on, dossier.c.code).limit(
                        LIST_LIMIT
                    )
                )
            ).all()
        return [summary_of(r) for r in rows]

    async def list_for_disposal(
        self,
        tenant_id: uuid.UUID,
        principal: Principal,
        dossier_id: uuid.UUID,
        body: DisposalListing,
    ) -> DossierCard:
        _require(principal, ARCHIVISTS, "lập danh sách tài liệu hết giá trị", "list disposals")
        reason = required(body.reason, "reason", "Lý do")
        async with self.db.transaction(tenant_id) as conn:
            row = await fetch(conn, tenant_id, dossier_id, for_update=True)
            if row.state == "disposed":
                raise Conflict(
                    f"Hồ sơ {row.code} đã có quyết định tiêu hủy.",
                    f"Dossier {row.code} was already disposed of.",
                )
            on = today()
            if row.retention_ends_on is None or row.retention_ends_on >= on:
                until = (
                    f"đến hết ngày {row.retention_ends_on:%d/%m/%Y}"
                    if row.retention_ends_on
                    else ("vĩnh viễn" if row.retention_years is None else "khi chưa kết thúc")
                )
                raise Conflict(
                    f"Hồ sơ {row.code} còn thời hạn bảo quản ({until}); chưa đưa vào danh sách "
                    "tiêu hủy được.",
                    f"Dossier {row.code} is still within its retention period.",
                )
            listed = (
                await conn.execute(
                    select(dossier_disposal.c.dossier_id).where(
                        dossier_disposal.c.tenant_id == tenant_id,
                        dossier_disposal.c.dossier_id == dossier_id,
                    )
                )
            ).first()
            if listed is not None:
                raise Conflict(
                    f"Hồ sơ {row.code} đã có trong danh sách tiêu hủy.",
                    f"Dossier {row.code} is already on the disposal list.",
                )
            await conn.execute(
                insert(dossier_disposal).values(
                    tenant_id=tenant_id,
                    dossier_id=dossier_id,
                    reason=reason,
                    listed_by=principal.username,
                )
            )
            await chain.append(
                conn,
                tenant_id,
                principal,
                "dossier.disposal_listed",
                "dossier",
                dossier_id,
                {
                    "reason": reason,
                    "retention_ends_on": row.retention_ends_on.isoformat(),
                },
            )
            return await build_card(conn, tenant_id, principal, dossier_id)

    async def disposal_list(
        self, tenant_id: uuid.UUID, principal: Principal, decided: bool
    ) -> list[DisposalEntry]:
        _require(principal, REVIEWERS, "xem danh sách tiêu hủy", "see the disposal list")
        condition = (
            dossier_disposal.c.decided_at.is_not(None)
            if decided
            else dossier_disposal.c.decided_at.is_(None)
        )
        async with self.db.transaction(tenant_id, read_only=True) as conn:
            rows = (
                await conn.execute(
                    select(dossier, *_DISPOSAL_COLUMNS)
                    .join(
                        dossier_disposal,
                        (dossier_disposal.c.tenant_id == dossier.c.tenant_id)
                        & (dossier_disposal.c.dossier_id == dossier.c.id),
                    )
                    .where(dossier.c.tenant_id == tenant_id, condition)
                    .order_by(dossier_disposal.c.listed_at, dossier.c.code)
                    .limit(LIST_LIMIT)
                )
            ).all()
        return [DisposalEntry(dossier=summary_of(r), disposal=disposal_view(r)) for r in rows]

    async def decide_disposal(
        self,
        tenant_id: uuid.UUID,
        principal: Principal,
        dossier_id: uuid.UUID,
        body: DisposalDecision,
    ) -> DossierCard:
        _require(
            principal,
            DECIDERS,
            "quyết định tiêu hủy (thẩm quyền của người đứng đầu cơ quan)",
            "decide disposals (the head of the agency does)",
        )
        decided_on = body.decided_on or today()
        decision_number = required(body.decision_number, "decision_number", "Số quyết định")
        async with self.db.transaction(tenant_id) as conn:
            row = await fetch(conn, tenant_id, dossier_id, for_update=True)
            entry = (
                await conn.execute(
                    select(dossier_disposal)
                    .where(
                        dossier_disposal.c.tenant_id == tenant_id,
                        dossier_disposal.c.dossier_id == dossier_id,
                    )
                    .with_for_update()
                )
            ).one_or_none()
            if entry is None:
                raise NotFound(
                    f"Hồ sơ {row.code} không có trong danh sách tiêu hủy.",
                    f"Dossier {row.code} is not on the disposal list.",
                )
            if entry.decided_at is not None:
                raise Conflict(
                    f"Hồ sơ {row.code} đã có quyết định tiêu hủy số {entry.decision_number}.",
                    f"Dossier {row.code} already has a disposal decision.",
                )
            check_day(
                decided_on,
                "decided_on",
                "Ngày quyết định",
                entry.listed_at.astimezone(VIETNAM).date(),
            )
            await conn.execute(
                update(dossier_disposal)
                .where(
                    dossier_disposal.c.tenant_id == tenant_id,
                    dossier_disposal.c.dossier_id == dossier_id,
                )
                .values(
                    decision_number=decision_number,
                    decided_on=decided_on,
                    decided_by=principal.username,
                    decided_at=dt.datetime.now(dt.UTC),
                    note=body.note,
                )
            )
            await conn.execute(
                update(dossier)
                .where(dossier.c.tenant_id == tenant_id, dossier.c.id == dossier_id)
                .values(state="disposed")
            )
            await chain.append(
                conn,
                tenant_id,
                principal,
                "dossier.disposed",
                "dossier",
                dossier_id,
                {
                    "decision_number": decision_number,
                    "decided_on": decided_on.isoformat(),
                    "previous_state": row.state,
                    "note": body.note,
                },
            )
            return await build_card(conn, tenant_id, principal, dossier_id)
