"""The rules of dossiers (hồ sơ công việc, NĐ 30/2020 Điều 28-29; Phụ lục V, VI).

An entry of the year's catalogue is opened when the work starts, collects the agency's
documents (links to incoming, outgoing and internal documents, numbered 1, 2, 3... without gaps
inside the dossier) and is closed when the work ends. A closed dossier may be reopened with a
reason; once the agency archive has accepted it, it is read-only. Every change is one tenant
transaction together with its audit entry."""

from __future__ import annotations

import uuid
from typing import Any

from msgspec import UnsetType
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from services.common.auth.principal import Principal, Role
from services.common.db import Database
from services.common.problems import Conflict, Forbidden, InvalidInput, NotFound
from services.docs.audit import chain
from services.docs.dossiers import retention
from services.docs.dossiers.reading import build_card, fetch, item_kind, items_statement, summary_of
from services.docs.dossiers.rules import (
    ISSUED_STATES,
    KEEPERS,
    UNREGISTERED_STATES,
    check_day,
    require_changeable,
    require_keeper,
    require_open,
    required,
    years_of,
)
from services.docs.dossiers.schemas import (
    AddDocuments,
    CloseRequest,
    DossierCard,
    DossierCreate,
    DossierSummary,
    DossierUpdate,
    OpenRequest,
    ReopenRequest,
)
from services.docs.incoming.service import Directory, Member, today
from services.docs.registers.service import INCOMING
from services.docs.tables import document, dossier, dossier_disposal, dossier_item, outgoing
from services.docs.visibility import incoming_visible, outgoing_visible


def _duplicate_code(code: str, year: int) -> Conflict:
    return Conflict(
        f"Số, ký hiệu hồ sơ {code} đã có trong danh mục hồ sơ năm {year}.",
        f"Dossier code {code} is already in the {year} catalogue.",
    )


class DossierService:
    def __init__(self, db: Database, directory: Directory) -> None:
        self.db = db
        self.directory = directory

    async def _member(self, tenant_id: uuid.UUID, username: str) -> Member:
        member = await self.directory.member(tenant_id, username)
        if member is None:
            raise InvalidInput(
                f"“{username}” không làm việc tại cơ quan này.",
                f"{username!r} does not work in this agency.",
                errors=[{"field": "responsible", "message": "Không làm việc tại cơ quan này."}],
            )
        return member

    # -- the catalogue ------------------------------------------------------------------------

    async def create(
        self, tenant_id: uuid.UUID, principal: Principal, body: DossierCreate
    ) -> DossierCard:
        username = body.responsible or principal.username
        if username != principal.username and not principal.has_role(
            *KEEPERS, Role.DEPARTMENT_HEAD
        ):
            raise Forbidden(
                "Chỉ văn thư, trưởng phòng hoặc lãnh đạo giao hồ sơ cho người khác lập.",
                "Only clerks, department heads and leaders name another keeper.",
            )
        member = await self._member(tenant_id, username)
        dossier_id = uuid.uuid4()
        years = years_of(body.retention)
        async with self.db.transaction(tenant_id) as conn:
            taken = (
                await conn.execute(
                    select(dossier.c.id).where(
                        dossier.c.tenant_id == tenant_id,
                        dossier.c.year == body.year,
                        dossier.c.code == body.code,
                    )
                )
            ).first()
            if taken is not None:
                raise _duplicate_code(body.code, body.year)
            try:
                await conn.execute(
                    insert(dossier).values(
                        tenant_id=tenant_id,
                        id=dossier_id,
                        year=body.year,
                        code=body.code,
                        heading=body.heading.strip(),
                        title=required(body.title, "title", "Tiêu đề hồ sơ"),
                        retention_years=years,
                        responsible=member.username,
                        responsible_name=member.name,
                        department=(
                            body.department if body.department is not None else member.department
                        ),
                        language=required(body.language, "language", "Ngôn ngữ"),
                        access=body.access,
                        description=body.description,
                        state="planned",
                        created_by=principal.username,
                    )
                )
            except IntegrityError as exc:  # the same code, created a moment ago
                raise _duplicate_code(body.code, body.year) from exc
            await chain.append(
                conn,
                tenant_id,
                principal,
                "dossier.created",
                "dossier",
                dossier_id,
                {
                    "year": body.year,
                    "code": body.code,
                    "title": body.title,
                    "retention": retention.label(years),
                    "responsible": member.username,
                },
            )
            return await build_card(conn, tenant_id, principal, dossier_id)

    async def list(
        self, tenant_id: uuid.UUID, year: int, state: str | None = None
    ) -> list[DossierSummary]:
        statement = select(dossier).where(dossier.c.tenant_id == tenant_id, dossier.c.year == year)
        if state is not None:
            statement = statement.where(dossier.c.state == state)
        async with self.db.transaction(tenant_id, read_only=True) as conn:
            rows = (await conn.execute(statement.order_by(dossier.c.heading, dossier.c.code))).all()
        return [summary_of(r) for r in rows]

    async def card(
        self, tenant_id: uuid.UUID, principal: Principal, dossier_id: uuid.UUID
    ) -> DossierCard:
        async with self.db.transaction(tenant_id, read_only=True) as conn:
            return await build_card(conn, tenant_id, principal, dossier_id)

    async def update(
        self,
        tenant_id: uuid.UUID,
        principal: Principal,
        dossier_id: uuid.UUID,
        body: DossierUpdate,
    ) -> DossierCard:
        changes: dict[str, Any] = {}
        for name in ("code", "heading", "access", "description", "department"):
            value = getattr(body, name)
            if not isinstance(value, UnsetType):
                changes[name] = value.strip()
        if not isinstance(body.title, UnsetType):
            changes["title"] = required(body.title, "title", "Tiêu đề hồ sơ")
        if not isinstance(body.language, UnsetType):
            changes["language"] = required(body.language, "language", "Ngôn ngữ")
        if not isinstance(body.retention, UnsetType):
            changes["retention_years"] = years_of(body.retention)
        if not isinstance(body.responsible, UnsetType):
            member = await self._member(tenant_id, body.responsible)
            changes["responsible"] = member.username
            changes["responsible_name"] = member.name
        if not changes:
            raise InvalidInput("Không có thông tin nào cần sửa.", "Nothing to change.")
        async with self.db.transaction(tenant_id) as conn:
            row = await fetch(conn, tenant_id, dossier_id, for_update=True)
            require_changeable(row)
            require_keeper(principal, row)
            if "retention_years" in changes and row.end_on is not None:
                years = changes["retention_years"]
                changes["transfer_due_on"] = retention.transfer_due(row.end_on, years)
                changes["retention_ends_on"] = retention.retention_ends(row.end_on, years)
            code = changes.get("code", row.code)
            if code != row.code:
                taken = (
                    await conn.execute(
                        select(dossier.c.id).where(
                            dossier.c.tenant_id == tenant_id,
                            dossier.c.year == row.year,
                            dossier.c.code == code,
                        )
                    )
                ).first()
                if taken is not None:
                    raise _duplicate_code(code, row.year)
            try:
                await conn.execute(
                    update(dossier)
                    .where(dossier.c.tenant_id == tenant_id, dossier.c.id == dossier_id)
                    .values(**changes)
                )
            except IntegrityError as exc:
                raise _duplicate_code(code, row.year) from exc
            await chain.append(
                conn,
                tenant_id,
                principal,
                "dossier.updated",
                "dossier",
                dossier_id,
                {
                    "before": {k: getattr(row, k) for k in changes},
                    "after": changes,
                },
            )
            return await build_card(conn, tenant_id, principal, dossier_id)

    # -- the life of a dossier ----------------------------------------------------------------

    async def open(
        self,
        tenant_id: uuid.UUID,
        principal: Principal,
        dossier_id: uuid.UUID,
        body: OpenRequest,
    ) -> DossierCard:
        start_on = body.start_on or today()
        check_day(start_on, "start_on", "Ngày bắt đầu", None)
        async with self.db.transaction(tenant_id) as conn:
            row = await fetch(conn, tenant_id, dossier_id, for_update=True)
            require_changeable(row)
            if row.state == "closed":
                raise Conflict(
                    f"Hồ sơ {row.code} đã kết thúc; hãy dùng chức năng mở lại (kèm lý do).",
                    f"Dossier {row.code} is closed; reopen it with a reason.",
                )
            if row.state != "planned":
                raise Conflict(
                    f"Hồ sơ {row.code} đã được mở từ ngày {row.start_on:%d/%m/%Y}.",
                    f"Dossier {row.code} is already open.",
                )
            require_keeper(principal, row)
            await conn.execute(
                update(dossier)
                .where(dossier.c.tenant_id == tenant_id, dossier.c.id == dossier_id)
                .values(state="open", start_on=start_on)
            )
            await chain.append(
                conn,
                tenant_id,
                principal,
                "dossier.opened",
                "dossier",
                dossier_id,
                {"start_on": start_on.isoformat()},
            )
            return await build_card(conn, tenant_id, principal, dossier_id)

    async def add_documents(
        self,
        tenant_id: uuid.UUID,
        principal: Principal,
        dossier_id: uuid.UUID,
        body: AddDocuments,
    ) -> DossierCard:
        wanted = [(ref.kind, ref.id) for ref in body.documents]
        if len(set(wanted)) != len(wanted):
            raise InvalidInput(
                "Một văn bản được nêu hai lần trong yêu cầu.", "A document is listed twice."
            )
        incoming_ids = [i for kind, i in wanted if kind == "incoming"]
        outgoing_ids = [i for kind, i in wanted if kind == "outgoing"]
        async with self.db.transaction(tenant_id) as conn:
            row = await fetch(conn, tenant_id, dossier_id, for_update=True)
            require_open(row, "thêm văn bản")
            require_keeper(principal, row)
            found_in = {
                r.id: r.state
                for r in await conn.execute(
                    select(document.c.id, document.c.state).where(
                        document.c.tenant_id == tenant_id,
                        document.c.id.in_(incoming_ids),
                        document.c.direction == INCOMING,
                        incoming_visible(tenant_id, principal),
                    )
                )
            }
            found_out = {
                r.id
                for r in await conn.execute(
                    select(outgoing.c.id).where(
                        outgoing.c.tenant_id == tenant_id,
                        outgoing.c.id.in_(outgoing_ids),
                        outgoing_visible(tenant_id, principal),
                    )
                )
            }
            missing = [
                {"kind": kind, "id": str(i)}
                for kind, i in wanted
                if i not in (found_in if kind == "incoming" else found_out)
            ]
            if missing:
                names = ", ".join(m["id"] for m in missing)
                raise InvalidInput(
                    f"Không tìm thấy văn bản trong cơ quan: {names}.",
                    f"No such documents in this agency: {names}.",
                    errors=[
                        {**m, "message": "Không tìm thấy văn bản trong cơ quan."} for m in missing
                    ],
                )
            unregistered = [str(i) for i, state in found_in.items() if state in UNREGISTERED_STATES]
            if unregistered:
                raise Conflict(
                    "Văn bản đến chưa vào sổ hoặc đã trả lại nơi gửi không đưa vào hồ sơ được: "
                    + ", ".join(unregistered)
                    + ".",
                    "Incoming documents not registered, or returned, cannot join a dossier.",
                )
            present = (
                await conn.execute(
                    select(dossier_item.c.ordinal).where(
                        dossier_item.c.tenant_id == tenant_id,
                        dossier_item.c.dossier_id == dossier_id,
                        (dossier_item.c.document_id.in_(incoming_ids))
                        | (dossier_item.c.outgoing_id.in_(outgoing_ids)),
                    )
                )
            ).scalars()
            already = sorted(present)
            if already:
                raise Conflict(
                    "Văn bản đã có trong hồ sơ (số thứ tự "
                    + ", ".join(str(o) for o in already)
                    + ").",
                    "A document is already in the dossier.",
                )
            added = []
            for kind, document_id in wanted:
                # The dossier's row is the counter of its series (gapless, locked until commit).
                ordinal = (
                    await conn.execute(
                        update(dossier)
                        .where(dossier.c.tenant_id == tenant_id, dossier.c.id == dossier_id)
                        .values(last_ordinal=dossier.c.last_ordinal + 1)
                        .returning(dossier.c.last_ordinal)
                    )
                ).scalar_one()
                await conn.execute(
                    insert(dossier_item).values(
                        tenant_id=tenant_id,
                        dossier_id=dossier_id,
                        ordinal=ordinal,
                        document_id=document_id if kind == "incoming" else None,
                        outgoing_id=document_id if kind == "outgoing" else None,
                        added_by=principal.username,
                    )
                )
                added.append({"ordinal": ordinal, "kind": kind, "id": str(document_id)})
            await chain.append(
                conn,
                tenant_id,
                principal,
                "dossier.documents_added",
                "dossier",
                dossier_id,
                {"documents": added},
            )
            return await build_card(conn, tenant_id, principal, dossier_id)

    async def remove_item(
        self, tenant_id: uuid.UUID, principal: Principal, dossier_id: uuid.UUID, ordinal: int
    ) -> DossierCard:
        async with self.db.transaction(tenant_id) as conn:
            row = await fetch(conn, tenant_id, dossier_id, for_update=True)
            require_open(row, "bỏ văn bản khỏi hồ sơ")
            require_keeper(principal, row)
            items = (await conn.execute(items_statement(tenant_id, principal, dossier_id))).all()
            item = next((i for i in items if i.ordinal == ordinal and i.visible), None)
            if item is None:
                raise NotFound(
                    f"Hồ sơ {row.code} không có văn bản số thứ tự {ordinal}.",
                    f"Dossier {row.code} has no document number {ordinal}.",
                )
            await conn.execute(
                delete(dossier_item).where(
                    dossier_item.c.tenant_id == tenant_id,
                    dossier_item.c.dossier_id == dossier_id,
                    dossier_item.c.ordinal == ordinal,
                )
            )
            # The ordinals after it move down by one: the series stays gapless.
            await conn.execute(
                update(dossier_item)
                .where(
                    dossier_item.c.tenant_id == tenant_id,
                    dossier_item.c.dossier_id == dossier_id,
                    dossier_item.c.ordinal > ordinal,
                )
                .values(ordinal=dossier_item.c.ordinal - 1)
            )
            await conn.execute(
                update(dossier)
                .where(dossier.c.tenant_id == tenant_id, dossier.c.id == dossier_id)
                .values(last_ordinal=dossier.c.last_ordinal - 1)
            )
            await chain.append(
                conn,
                tenant_id,
                principal,
                "dossier.document_removed",
                "dossier",
                dossier_id,
                {
                    "ordinal": ordinal,
                    "kind": item_kind(item),
                    "id": str(item.document_id or item.outgoing_id),
                },
            )
            return await build_card(conn, tenant_id, principal, dossier_id)

    async def close(
        self,
        tenant_id: uuid.UUID,
        principal: Principal,
        dossier_id: uuid.UUID,
        body: CloseRequest,
    ) -> DossierCard:
        async with self.db.transaction(tenant_id) as conn:
            row = await fetch(conn, tenant_id, dossier_id, for_update=True)
            require_changeable(row)
            if row.state == "closed":
                raise Conflict(
                    f"Hồ sơ {row.code} đã kết thúc ngày {row.end_on:%d/%m/%Y}.",
                    f"Dossier {row.code} is already closed.",
                )
            require_open(row, "kết thúc hồ sơ")
            require_keeper(principal, row)
            end_on = body.end_on or today()
            check_day(end_on, "end_on", "Ngày kết thúc", row.start_on)
            items = (await conn.execute(items_statement(tenant_id, principal, dossier_id))).all()
            if not items:
                raise Conflict(
                    f"Hồ sơ {row.code} chưa có văn bản nào; không kết thúc được.",
                    f"Dossier {row.code} holds no documents.",
                )
            drafts = [
                str(i.ordinal)
                for i in items
                if i.outgoing_id is not None and i.doc_state not in ISSUED_STATES
            ]
            if drafts:
                raise Conflict(
                    "Hồ sơ còn bản dự thảo chưa ban hành (số thứ tự "
                    + ", ".join(drafts)
                    + "); hãy bỏ bản nháp trước khi kết thúc (NĐ 30, Điều 29).",
                    "The dossier still holds drafts; remove them before closing.",
                )
            years = row.retention_years
            transfer_due_on = retention.transfer_due(end_on, years)
            retention_ends_on = retention.retention_ends(end_on, years)
            await conn.execute(
                update(dossier)
                .where(dossier.c.tenant_id == tenant_id, dossier.c.id == dossier_id)
                .values(
                    state="closed",
                    end_on=end_on,
                    transfer_due_on=transfer_due_on,
                    retention_ends_on=retention_ends_on,
                )
            )
            await chain.append(
                conn,
                tenant_id,
                principal,
                "dossier.closed",
                "dossier",
                dossier_id,
                {
                    "end_on": end_on.isoformat(),
                    "documents": len(items),
                    "transfer_due_on": transfer_due_on.isoformat() if transfer_due_on else None,
                    "note": body.note,
                },
            )
            return await build_card(conn, tenant_id, principal, dossier_id)

    async def reopen(
        self,
        tenant_id: uuid.UUID,
        principal: Principal,
        dossier_id: uuid.UUID,
        body: ReopenRequest,
    ) -> DossierCard:
        reason = required(body.reason, "reason", "Lý do mở lại")
        async with self.db.transaction(tenant_id) as conn:
            row = await fetch(conn, tenant_id, dossier_id, for_update=True)
            require_changeable(row)
            if row.state == "planned":
                raise Conflict(
                    f"Hồ sơ {row.code} chưa được mở; hãy mở hồ sơ.",
                    f"Dossier {row.code} was never opened.",
                )
            if row.state != "closed":
                raise Conflict(
                    f"Hồ sơ {row.code} chưa kết thúc; không cần mở lại.",
                    f"Dossier {row.code} is not closed.",
                )
            require_keeper(principal, row)
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
                    f"Hồ sơ {row.code} đang ở danh sách tiêu hủy; không mở lại được.",
                    f"Dossier {row.code} is on the disposal list.",
                )
            await conn.execute(
                update(dossier)
                .where(dossier.c.tenant_id == tenant_id, dossier.c.id == dossier_id)
                .values(state="open", end_on=None, transfer_due_on=None, retention_ends_on=None)
            )
            await chain.append(
                conn,
                tenant_id,
                principal,
                "dossier.reopened",
                "dossier",
                dossier_id,
                {"reason": reason, "previous_end_on": row.end_on.isoformat()},
            )
            return await build_card(conn, tenant_id, principal, dossier_id)
