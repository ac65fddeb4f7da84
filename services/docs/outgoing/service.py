"""The rules of outgoing documents (NĐ 30/2020, Điều 10-19).

Draft (versions kept) -> opinions (optional) -> submitted: content review by the department
head, form review by the office, approval by the signer, in that order; a return at any step
sends the draft back to its drafter -> approved -> issued by the clerk: the number from the
register's yearly series (or a number reserved for a paper original), the symbol built per
Phụ lục I, the register entry, and for each electronic recipient a dispatch through the
interchange service. An issued document never changes."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.auth.principal import Principal, Role
from services.common.db import Database
from services.common.outbox import publish
from services.common.problems import Conflict, Forbidden, InvalidInput, NotFound
from services.docs.audit import chain
from services.docs.catalog.types import BY_CODE, Confidentiality
from services.docs.incoming.schemas import FileRef
from services.docs.incoming.service import Directory, FileChecker, Member, today
from services.docs.outgoing.agencies import Agencies
from services.docs.outgoing.schemas import (
    DraftRequest,
    IssueRequest,
    OpinionAnswer,
    OpinionReport,
    OutgoingCard,
    RecipientView,
    ReservationRequest,
    ReservedNumbers,
    StepView,
    SubmitRequest,
    VersionComparison,
    VersionRequest,
    VersionView,
)
from services.docs.outgoing.symbols import build_symbol
from services.docs.registers.numbering import next_number
from services.docs.registers.service import OUTGOING, default_register_id, ensure_defaults
from services.docs.tables import (
    audit_entry,
    number_reservation,
    outbox,
    outgoing,
    outgoing_recipient,
    outgoing_step,
    outgoing_version,
    register,
)

ISSUED_TOPIC = "document.issued"
REVIEW_KINDS = ("content_review", "form_review", "approval")
CODE_102 = re.compile(r"^[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-Z][0-9]{2}$")
SIGNERS = (Role.LEADER, Role.DEPUTY_LEADER)


def _not_found(outgoing_id: uuid.UUID) -> NotFound:
    return NotFound(f"Không tìm thấy văn bản đi {outgoing_id}.", f"No outgoing {outgoing_id}.")


def _version_view(row: Any) -> VersionView:
    return VersionView(
        version=row.version,
        object_id=row.object_id,
        file_name=row.file_name,
        sha256=row.sha256,
        size=row.size,
        note=row.note,
        created_by=row.created_by,
        created_at=row.created_at,
    )


def _step_view(row: Any) -> StepView:
    return StepView(
        id=row.id,
        kind=row.kind,
        seq=row.seq,
        assignee=row.assignee,
        assignee_name=row.assignee_name,
        state=row.state,
        comment=row.comment,
        due_on=row.due_on,
        decided_at=row.decided_at,
    )


class OutgoingService:
    def __init__(
        self,
        db: Database,
        directory: Directory,
        agencies: Agencies,
        files: FileChecker | None = None,
    ) -> None:
        self.db = db
        self.directory = directory
        self.files = files
        self.agencies = agencies

    # -- drafting -----------------------------------------------------------------------------

    async def create_draft(
        self, tenant_id: uuid.UUID, principal: Principal, body: DraftRequest
    ) -> OutgoingCard:
        if body.doc_type not in BY_CODE:
            raise InvalidInput(
                f"Loại văn bản “{body.doc_type}” không có trong danh mục.",
                f"Unknown document type {body.doc_type!r}.",
            )
        if body.internal and body.recipients:
            raise InvalidInput(
                "Văn bản nội bộ không có nơi nhận bên ngoài.",
                "An internal document has no outside recipients.",
            )
        signer = await self._member(tenant_id, body.signer)
        if self.files is not None:
            await self.files.check(tenant_id, body.file)
        agency = await self.agencies.by_id(tenant_id)
        if agency is None:
            raise InvalidInput("Cơ quan không có trong danh mục.", "Unknown agency.")
        recipients = await self._check_recipients(body)
        outgoing_id = uuid.uuid4()
        async with self.db.transaction(tenant_id) as conn:
            await conn.execute(
                insert(outgoing).values(
                    tenant_id=tenant_id,
                    id=outgoing_id,
                    state="draft",
                    internal=body.internal,
                    doc_type=body.doc_type,
                    subject=body.subject.strip(),
                    drafter=principal.username,
                    drafter_name=principal.name or principal.username,
                    signer=signer.username,
                    signer_name=signer.name,
                    authority=body.authority,
                    urgency=body.urgency.value,
                    confidentiality=body.confidentiality.value,
                    reply_due_on=body.reply_due_on,
                    answers_id=body.answers_id,
                    issuer_abbr=agency.short_name,
                    unit_abbr=body.unit_abbr,
                    legal=body.legal,
                )
            )
            for recipient in recipients:
                await conn.execute(
                    insert(outgoing_recipient).values(
                        tenant_id=tenant_id, outgoing_id=outgoing_id, **recipient
                    )
                )
            await self._add_version(conn, tenant_id, principal, outgoing_id, 1, body.file, "")
            await chain.append(
                conn,
                tenant_id,
                principal,
                "outgoing.drafted",
                "outgoing",
                outgoing_id,
                {
                    "subject": body.subject,
                    "signer": signer.username,
                    "recipients": [r["code"] for r in recipients],
                },
            )
            return await self._card(conn, tenant_id, outgoing_id)

    async def _check_recipients(self, body: DraftRequest) -> list[dict[str, Any]]:
        confidential = body.confidentiality is not Confidentiality.NORMAL
        seen: set[str] = set()
        recipients: list[dict[str, Any]] = []
        for recipient in body.recipients:
            code = recipient.code.strip()
            if code in seen:
                raise InvalidInput(f"Nơi nhận {code} lặp lại.", f"Recipient {code} is repeated.")
            seen.add(code)
            if confidential and recipient.electronic:
                # Luật Bảo vệ bí mật nhà nước 2018, Điều 5; QĐ 28/2018 excludes state secrets.
                raise InvalidInput(
                    "Văn bản mật không được gửi qua mạng (Luật Bảo vệ bí mật nhà nước 2018, "
                    "Điều 5): hãy gửi bản giấy.",
                    "Confidential documents may not be sent over the network (Law on "
                    "Protection of State Secrets 2018, art. 5): send them on paper.",
                )
            if not CODE_102.fullmatch(code):
                raise InvalidInput(
                    f"Mã định danh nơi nhận “{code}” không đúng định dạng (QCVN 102).",
                    f"Recipient code {code!r} is not a QCVN 102 code.",
                )
            known = await self.agencies.by_code(code)
            if known is not None and known.status != "active":
                raise InvalidInput(
                    f"Nơi nhận {known.name} ({code}) đã ngừng hoạt động.",
                    f"Recipient {code} is no longer active.",
                )
            name = (known.name if known else recipient.name).strip()
            if not name:
                raise InvalidInput(
                    f"Cần tên của nơi nhận {code} (cơ quan ngoài tỉnh).",
                    f"Recipient {code} needs a name (outside the province).",
                )
            recipients.append({"code": code, "name": name, "electronic": recipient.electronic})
        return recipients

    async def add_version(
        self,
        tenant_id: uuid.UUID,
        principal: Principal,
        outgoing_id: uuid.UUID,
        body: VersionRequest,
    ) -> OutgoingCard:
        if self.files is not None:
            await self.files.check(tenant_id, body.file)
        async with self.db.transaction(tenant_id) as conn:
            row = await self._fetch(conn, tenant_id, outgoing_id, for_update=True)
            if row.state not in ("draft", "in_review"):
                raise Conflict(
                    "Văn bản đã được duyệt hoặc ban hành; không sửa được bản thảo.",
                    "The document was approved or issued; its draft can no longer change.",
                )
            if principal.username not in (
                row.drafter,
                *await self._current_reviewers(conn, tenant_id, outgoing_id),
            ):
                raise Forbidden(
                    "Chỉ người soạn thảo hoặc người đang xem xét được sửa bản thảo.",
                    "Only the drafter or the current reviewer may change the draft.",
                )
            latest = (
                await conn.execute(
                    select(func.max(outgoing_version.c.version)).where(
                        outgoing_version.c.tenant_id == tenant_id,
                        outgoing_version.c.outgoing_id == outgoing_id,
                    )
                )
            ).scalar_one()
            await self._add_version(
                conn, tenant_id, principal, outgoing_id, int(latest) + 1, body.file, body.note
            )
            return await self._card(conn, tenant_id, outgoing_id)

    async def _add_version(
        self,
        conn: AsyncConnection,
        tenant_id: uuid.UUID,
        principal: Principal,
        outgoing_id: uuid.UUID,
        version: int,
        file: FileRef,
        note: str,
    ) -> None:
        await conn.execute(
            insert(outgoing_version).values(
                tenant_id=tenant_id,
                outgoing_id=outgoing_id,
                version=version,
                object_id=file.object_id,
                file_name=file.file_name,
                sha256=file.sha256,
                size=file.size,
                note=note,
                created_by=principal.username,
            )
        )
        await chain.append(
            conn,
            tenant_id,
            principal,
            "outgoing.version_added",
            "outgoing",
            outgoing_id,
            {"version": version, "sha256": file.sha256, "note": note},
        )

    async def compare(
        self, tenant_id: uuid.UUID, outgoing_id: uuid.UUID, first: int, second: int
    ) -> VersionComparison:
        async with self.db.transaction(tenant_id, read_only=True) as conn:
            await self._fetch(conn, tenant_id, outgoing_id)
            rows = {
                r.version: r
                for r in await conn.execute(
                    select(outgoing_version).where(
                        outgoing_version.c.tenant_id == tenant_id,
                        outgoing_version.c.outgoing_id == outgoing_id,
                        outgoing_version.c.version.in_([first, second]),
                    )
                )
            }
        if first not in rows or second not in rows:
            raise NotFound("Không có phiên bản này.", "No such version.")
        a, b = _version_view(rows[first]), _version_view(rows[second])
        return VersionComparison(
            first=a,
            second=b,
            same_content=a.sha256 == b.sha256,
            size_change=b.size - a.size,
            renamed=a.file_name != b.file_name,
        )

    # -- opinions -----------------------------------------------------------------------------

    async def request_opinions(
        self,
        tenant_id: uuid.UUID,
        principal: Principal,
        outgoing_id: uuid.UUID,
        assignees: list[str],
        due_on: dt.date | None,
    ) -> OutgoingCard:
        members = [await self._member(tenant_id, a) for a in assignees]
        async with self.db.transaction(tenant_id) as conn:
            row = await self._fetch(conn, tenant_id, outgoing_id, for_update=True)
            if row.drafter != principal.username:
                raise Forbidden(
                    "Chỉ người soạn thảo lấy ý kiến.", "Only the drafter asks for opinions."
                )
            if row.state != "draft":
                raise Conflict("Chỉ lấy ý kiến khi đang soạn thảo.", "Only while drafting.")
            for member in members:
                await self._add_step(
                    conn, tenant_id, outgoing_id, "opinion", 0, member, "pending", due_on
                )
            await chain.append(
                conn,
                tenant_id,
                principal,
                "outgoing.opinions_requested",
                "outgoing",
                outgoing_id,
                {
                    "assignees": [m.username for m in members],
                    "due_on": due_on.isoformat() if due_on else None,
                },
            )
            return await self._card(conn, tenant_id, outgoing_id)

    async def answer_opinion(
        self,
        tenant_id: uuid.UUID,
        principal: Principal,
        outgoing_id: uuid.UUID,
        step_id: uuid.UUID,
        body: OpinionAnswer,
    ) -> OutgoingCard:
        async with self.db.transaction(tenant_id) as conn:
            await self._fetch(conn, tenant_id, outgoing_id)
            step = await self._step(conn, tenant_id, outgoing_id, step_id, for_update=True)
            if step.kind != "opinion" or step.assignee != principal.username:
                raise Forbidden("Đây không phải ý kiến của bạn.", "Not your opinion to give.")
            if step.state != "pending":
                raise Conflict("Ý kiến đã được gửi.", "The opinion was already given.")
            await self._decide(conn, tenant_id, step_id, body.answer, body.comment)
            await chain.append(
                conn,
                tenant_id,
                principal,
                "outgoing.opinion_given",
                "outgoing",
                outgoing_id,
                {"answer": body.answer, "comment": body.comment},
            )
            return await self._card(conn, tenant_id, outgoing_id)

    async def opinion_report(self, tenant_id: uuid.UUID, outgoing_id: uuid.UUID) -> OpinionReport:
        async with self.db.transaction(tenant_id, read_only=True) as conn:
            await self._fetch(conn, tenant_id, outgoing_id)
            steps = [
                _step_view(s)
                for s in await conn.execute(
                    select(outgoing_step)
                    .where(
                        outgoing_step.c.tenant_id == tenant_id,
                        outgoing_step.c.outgoing_id == outgoing_id,
                        outgoing_step.c.kind == "opinion",
                    )
                    .order_by(outgoing_step.c.assignee)
                )
            ]
        return OpinionReport(
            agree=sum(s.state == "agree" for s in steps),
            disagree=sum(s.state == "disagree" for s in steps),
            other=sum(s.state == "other" for s in steps),
            waiting=sum(s.state == "pending" for s in steps),
            answers=steps,
        )

    # -- review and approval ------------------------------------------------------------------

    async def submit(
        self,
        tenant_id: uuid.UUID,
        principal: Principal,
        outgoing_id: uuid.UUID,
        body: SubmitRequest,
    ) -> OutgoingCard:
        content = await self._member(tenant_id, body.content_reviewer)
        form = await self._member(tenant_id, body.form_reviewer)
        async with self.db.transaction(tenant_id) as conn:
            row = await self._fetch(conn, tenant_id, outgoing_id, for_update=True)
            if row.drafter != principal.username:
                raise Forbidden("Chỉ người soạn thảo trình duyệt.", "Only the drafter submits.")
            if row.state != "draft":
                raise Conflict("Văn bản không ở trạng thái soạn thảo.", "Not a draft.")
            signer = Member(username=row.signer, name=row.signer_name)
            await conn.execute(
                update(outgoing_step)
                .where(
                    outgoing_step.c.tenant_id == tenant_id,
                    outgoing_step.c.outgoing_id == outgoing_id,
                    outgoing_step.c.kind.in_(REVIEW_KINDS),
                    outgoing_step.c.state.in_(("waiting", "pending")),
                )
                .values(state="cancelled")
            )
            for seq, (kind, member) in enumerate(
                (("content_review", content), ("form_review", form), ("approval", signer)), 1
            ):
                await self._add_step(
                    conn,
                    tenant_id,
                    outgoing_id,
                    kind,
                    seq,
                    member,
                    "pending" if seq == 1 else "waiting",
                    None,
                )
            await conn.execute(
                update(outgoing)
                .where(outgoing.c.tenant_id == tenant_id, outgoing.c.id == outgoing_id)
                .values(state="in_review")
            )
            await chain.append(
                conn,
                tenant_id,
                principal,
                "outgoing.submitted",
                "outgoing",
                outgoing_id,
                {
                    "content_reviewer": content.username,
                    "form_reviewer": form.username,
                    "signer": signer.username,
                },
            )
            return await self._card(conn, tenant_id, outgoing_id)

    async def approve_step(
        self,
        tenant_id: uuid.UUID,
        principal: Principal,
        outgoing_id: uuid.UUID,
        step_id: uuid.UUID,
        comment: str,
    ) -> OutgoingCard:
        async with self.db.transaction(tenant_id) as conn:
            row = await self._fetch(conn, tenant_id, outgoing_id, for_update=True)
            step = await self._current_step(conn, tenant_id, row, step_id, principal)
            if step.kind == "form_review":
                self._check_form(row)
            if step.kind == "approval" and not principal.has_role(*SIGNERS):
                raise Forbidden(
                    "Chỉ lãnh đạo được ký ban hành.", "Only leaders approve for signature."
                )
            await self._decide(conn, tenant_id, step_id, "approved", comment)
            following = (
                await conn.execute(
                    select(outgoing_step.c.id)
                    .where(
                        outgoing_step.c.tenant_id == tenant_id,
                        outgoing_step.c.outgoing_id == outgoing_id,
                        outgoing_step.c.state == "waiting",
                    )
                    .order_by(outgoing_step.c.seq)
                    .limit(1)
                )
            ).scalar_one_or_none()
            if following is not None:
                await conn.execute(
                    update(outgoing_step)
                    .where(outgoing_step.c.tenant_id == tenant_id, outgoing_step.c.id == following)
                    .values(state="pending")
                )
            else:
                await conn.execute(
                    update(outgoing)
                    .where(outgoing.c.tenant_id == tenant_id, outgoing.c.id == outgoing_id)
                    .values(state="approved")
                )
            await chain.append(
                conn,
                tenant_id,
                principal,
                f"outgoing.{step.kind}_approved",
                "outgoing",
                outgoing_id,
                {"comment": comment},
            )
            return await self._card(conn, tenant_id, outgoing_id)

    async def return_step(
        self,
        tenant_id: uuid.UUID,
        principal: Principal,
        outgoing_id: uuid.UUID,
        step_id: uuid.UUID,
        reason: str,
    ) -> OutgoingCard:
        async with self.db.transaction(tenant_id) as conn:
            row = await self._fetch(conn, tenant_id, outgoing_id, for_update=True)
            step = await self._current_step(conn, tenant_id, row, step_id, principal)
            await self._decide(conn, tenant_id, step_id, "returned", reason)
            await conn.execute(
                update(outgoing_step)
                .where(
                    outgoing_step.c.tenant_id == tenant_id,
                    outgoing_step.c.outgoing_id == outgoing_id,
                    outgoing_step.c.state == "waiting",
                )
                .values(state="cancelled")
            )
            await conn.execute(
                update(outgoing)
                .where(outgoing.c.tenant_id == tenant_id, outgoing.c.id == outgoing_id)
                .values(state="draft")
            )
            await chain.append(
                conn,
                tenant_id,
                principal,
                f"outgoing.{step.kind}_returned",
                "outgoing",
                outgoing_id,
                {"reason": reason},
            )
            return await self._card(conn, tenant_id, outgoing_id)

    @staticmethod
    def _check_form(row: Any) -> None:
        """The office's check of the form: a symbol can be built for this document."""
        build_symbol(
            1,
            row.doc_type,
            row.issuer_abbr,
            row.unit_abbr,
            year=today().year if row.legal else None,
        )

    # -- numbering and issue ------------------------------------------------------------------

    async def reserve(
        self, tenant_id: uuid.UUID, principal: Principal, body: ReservationRequest
    ) -> ReservedNumbers:
        if not principal.has_role(Role.CLERK):
            raise Forbidden("Chỉ văn thư giữ số.", "Only clerks reserve numbers.")
        year = today().year
        async with self.db.transaction(tenant_id) as conn:
            book = await self._outgoing_register(
                conn, tenant_id, body.register_id, body.confidential
            )
            numbers = []
            for _ in range(body.count):
                number = await next_number(conn, tenant_id, book.id, year)
                await conn.execute(
                    insert(number_reservation).values(
                        tenant_id=tenant_id,
                        register_id=book.id,
                        year=year,
                        number=number,
                        reserved_by=principal.username,
                    )
                )
                numbers.append(number)
            await chain.append(
                conn,
                tenant_id,
                principal,
                "register.numbers_reserved",
                "register",
                book.id,
                {"year": year, "numbers": numbers},
            )
        return ReservedNumbers(register_id=book.id, year=year, numbers=numbers)

    async def issue(
        self,
        tenant_id: uuid.UUID,
        principal: Principal,
        outgoing_id: uuid.UUID,
        body: IssueRequest,
    ) -> OutgoingCard:
        if not principal.has_role(Role.CLERK):
            raise Forbidden("Chỉ văn thư cấp số và ban hành.", "Only clerks issue documents.")
        async with self.db.transaction(tenant_id) as conn:
            row = await self._fetch(conn, tenant_id, outgoing_id, for_update=True)
            if row.state == "issued":
                raise Conflict(
                    f"Văn bản đã được cấp số {row.number_symbol}.",
                    f"Already issued as {row.number_symbol}.",
                )
            if row.state != "approved":
                raise Conflict(
                    "Văn bản chưa được lãnh đạo duyệt ký; chưa ban hành được.",
                    "The document has not been approved for signature.",
                )
            confidential = row.confidentiality != Confidentiality.NORMAL.value
            book = await self._outgoing_register(conn, tenant_id, body.register_id, confidential)
            on = today()
            if body.reserved_number is not None:
                number = await self._use_reservation(
                    conn, tenant_id, book.id, on.year, body.reserved_number, outgoing_id
                )
            else:
                number = await next_number(conn, tenant_id, book.id, on.year)
            symbol = build_symbol(
                number,
                row.doc_type,
                row.issuer_abbr,
                row.unit_abbr,
                year=on.year if row.legal else None,
            )
            await conn.execute(
                update(outgoing)
                .where(outgoing.c.tenant_id == tenant_id, outgoing.c.id == outgoing_id)
                .values(
                    state="issued",
                    register_id=book.id,
                    number_year=on.year,
                    number=number,
                    number_symbol=symbol,
                    issued_on=on,
                    issued_at=func.now(),
                    issued_by=principal.username,
                )
            )
            await chain.append(
                conn,
                tenant_id,
                principal,
                "outgoing.issued",
                "outgoing",
                outgoing_id,
                {"number_symbol": symbol, "register_id": str(book.id), "issued_on": on.isoformat()},
            )
            if not row.internal:
                await self._dispatch(conn, tenant_id, outgoing_id, row, symbol, on)
            return await self._card(conn, tenant_id, outgoing_id)

    async def _use_reservation(
        self,
        conn: AsyncConnection,
        tenant_id: uuid.UUID,
        register_id: uuid.UUID,
        year: int,
        number: int,
        outgoing_id: uuid.UUID,
    ) -> int:
        used = await conn.execute(
            update(number_reservation)
            .where(
                number_reservation.c.tenant_id == tenant_id,
                number_reservation.c.register_id == register_id,
                number_reservation.c.year == year,
                number_reservation.c.number == number,
                number_reservation.c.outgoing_id.is_(None),
            )
            .values(outgoing_id=outgoing_id)
            .returning(number_reservation.c.number)
        )
        if used.first() is None:
            raise Conflict(
                f"Số {number} không được giữ trước, hoặc đã dùng.",
                f"Number {number} was not reserved, or is already used.",
            )
        return number

    async def _dispatch(
        self,
        conn: AsyncConnection,
        tenant_id: uuid.UUID,
        outgoing_id: uuid.UUID,
        row: Any,
        symbol: str,
        on: dt.date,
    ) -> None:
        recipients = (
            await conn.execute(
                select(outgoing_recipient).where(
                    outgoing_recipient.c.tenant_id == tenant_id,
                    outgoing_recipient.c.outgoing_id == outgoing_id,
                    outgoing_recipient.c.electronic.is_(True),
                )
            )
        ).all()
        if not recipients:
            return
        latest = (
            await conn.execute(
                select(outgoing_version)
                .where(
                    outgoing_version.c.tenant_id == tenant_id,
                    outgoing_version.c.outgoing_id == outgoing_id,
                )
                .order_by(outgoing_version.c.version.desc())
                .limit(1)
            )
        ).one()
        await publish(
            conn,
            outbox,
            tenant_id,
            ISSUED_TOPIC,
            {
                "outgoing_id": str(outgoing_id),
                "business": row.business,
                "target_id": str(row.target_id) if row.target_id else None,
                "number_symbol": symbol,
                "doc_type": row.doc_type,
                "issued_on": on.isoformat(),
                "subject": row.subject,
                "signer": row.signer_name,
                "authority": row.authority,
                "urgency": row.urgency,
                "reply_due_on": row.reply_due_on.isoformat() if row.reply_due_on else None,
                "recipients": [{"code": r.code, "name": r.name} for r in recipients],
                "files": [
                    {
                        "object_id": str(latest.object_id),
                        "file_name": latest.file_name,
                        "sha256": latest.sha256,
                        "size": latest.size,
                        "role": "main",
                    }
                ],
            },
        )
        await conn.execute(
            update(outgoing_recipient)
            .where(
                outgoing_recipient.c.tenant_id == tenant_id,
                outgoing_recipient.c.outgoing_id == outgoing_id,
                outgoing_recipient.c.electronic.is_(True),
            )
            .values(status="sending", updated_at=func.now())
        )

    async def _outgoing_register(
        self,
        conn: AsyncConnection,
        tenant_id: uuid.UUID,
        register_id: uuid.UUID | None,
        confidential: bool,
    ) -> Any:
        wanted = register_id or default_register_id(tenant_id, OUTGOING, confidential)
        query = select(register).where(register.c.tenant_id == tenant_id, register.c.id == wanted)
        book = (await conn.execute(query)).one_or_none()
        if book is None and register_id is None:
            await ensure_defaults(conn, tenant_id)
            book = (await conn.execute(query)).one_or_none()
        if book is None or book.direction != OUTGOING or not book.active:
            raise InvalidInput("Sổ văn bản đi không tồn tại hoặc đã đóng.", "No such register.")
        if book.confidential != confidential:
            raise InvalidInput(
                "Văn bản mật có dãy số riêng, trong sổ mật (NĐ 30, Điều 15.2).",
                "Confidential documents are numbered in their own register.",
            )
        return book

    # -- reading ------------------------------------------------------------------------------

    async def card(self, tenant_id: uuid.UUID, outgoing_id: uuid.UUID) -> OutgoingCard:
        async with self.db.transaction(tenant_id, read_only=True) as conn:
            return await self._card(conn, tenant_id, outgoing_id)

    async def _card(
        self, conn: AsyncConnection, tenant_id: uuid.UUID, outgoing_id: uuid.UUID
    ) -> OutgoingCard:
        row = await self._fetch(conn, tenant_id, outgoing_id)

        def of(table: Any) -> Any:
            return select(table).where(
                table.c.tenant_id == tenant_id, table.c.outgoing_id == outgoing_id
            )

        versions = (await conn.execute(of(outgoing_version).order_by("version"))).all()
        steps = (await conn.execute(of(outgoing_step).order_by("seq", "assignee"))).all()
        recipients = (await conn.execute(of(outgoing_recipient).order_by("code"))).all()
        history = (
            await conn.execute(
                select(audit_entry)
                .where(audit_entry.c.tenant_id == tenant_id, audit_entry.c.entity_id == outgoing_id)
                .order_by(audit_entry.c.seq)
            )
        ).all()
        return OutgoingCard(
            id=row.id,
            state=row.state,
            internal=row.internal,
            business=row.business,
            target_id=row.target_id,
            doc_type=row.doc_type,
            subject=row.subject,
            drafter=row.drafter,
            signer=row.signer,
            signer_name=row.signer_name,
            authority=row.authority,
            urgency=row.urgency,
            confidentiality=row.confidentiality,
            reply_due_on=row.reply_due_on,
            answers_id=row.answers_id,
            number_symbol=row.number_symbol,
            issued_on=row.issued_on,
            versions=[_version_view(v) for v in versions],
            steps=[_step_view(s) for s in steps],
            recipients=[
                RecipientView(
                    code=r.code,
                    name=r.name,
                    electronic=r.electronic,
                    status=r.status,
                    reason=r.reason,
                )
                for r in recipients
            ],
            history=[
                {
                    "seq": h.seq,
                    "at": h.at.isoformat(),
                    "actor": h.actor_name,
                    "action": h.action,
                    "data": h.data,
                }
                for h in history
            ],
        )

    # -- helpers ------------------------------------------------------------------------------

    async def _fetch(
        self,
        conn: AsyncConnection,
        tenant_id: uuid.UUID,
        outgoing_id: uuid.UUID,
        *,
        for_update: bool = False,
    ) -> Any:
        statement = select(outgoing).where(
            outgoing.c.tenant_id == tenant_id, outgoing.c.id == outgoing_id
        )
        if for_update:
            statement = statement.with_for_update()
        row = (await conn.execute(statement)).one_or_none()
        if row is None:
            raise _not_found(outgoing_id)
        return row

    async def _step(
        self,
        conn: AsyncConnection,
        tenant_id: uuid.UUID,
        outgoing_id: uuid.UUID,
        step_id: uuid.UUID,
        *,
        for_update: bool = False,
    ) -> Any:
        statement = select(outgoing_step).where(
            outgoing_step.c.tenant_id == tenant_id,
            outgoing_step.c.outgoing_id == outgoing_id,
            outgoing_step.c.id == step_id,
        )
        if for_update:
            statement = statement.with_for_update()
        step = (await conn.execute(statement)).one_or_none()
        if step is None:
            raise NotFound("Không có bước xử lý này.", "No such step.")
        return step

    async def _current_step(
        self,
        conn: AsyncConnection,
        tenant_id: uuid.UUID,
        row: Any,
        step_id: uuid.UUID,
        principal: Principal,
    ) -> Any:
        if row.state != "in_review":
            raise Conflict("Văn bản không đang trình duyệt.", "The document is not in review.")
        step = await self._step(conn, tenant_id, row.id, step_id, for_update=True)
        if step.kind not in REVIEW_KINDS or step.state != "pending":
            raise Conflict("Bước này không đang chờ xử lý.", "This step is not waiting.")
        if step.assignee != principal.username:
            raise Forbidden(
                "Bước này do người khác xem xét.", "Someone else is to decide this step."
            )
        return step

    async def _current_reviewers(
        self, conn: AsyncConnection, tenant_id: uuid.UUID, outgoing_id: uuid.UUID
    ) -> list[str]:
        rows = await conn.execute(
            select(outgoing_step.c.assignee).where(
                outgoing_step.c.tenant_id == tenant_id,
                outgoing_step.c.outgoing_id == outgoing_id,
                outgoing_step.c.kind.in_(REVIEW_KINDS),
                outgoing_step.c.state == "pending",
            )
        )
        return [r.assignee for r in rows]

    async def _add_step(
        self,
        conn: AsyncConnection,
        tenant_id: uuid.UUID,
        outgoing_id: uuid.UUID,
        kind: str,
        seq: int,
        member: Member,
        state: str,
        due_on: dt.date | None,
    ) -> None:
        await conn.execute(
            insert(outgoing_step).values(
                tenant_id=tenant_id,
                id=uuid.uuid4(),
                outgoing_id=outgoing_id,
                kind=kind,
                seq=seq,
                assignee=member.username,
                assignee_name=member.name,
                state=state,
                due_on=due_on,
            )
        )

    async def _decide(
        self,
        conn: AsyncConnection,
        tenant_id: uuid.UUID,
        step_id: uuid.UUID,
        state: str,
        comment: str,
    ) -> None:
        await conn.execute(
            update(outgoing_step)
            .where(outgoing_step.c.tenant_id == tenant_id, outgoing_step.c.id == step_id)
            .values(state=state, comment=comment, decided_at=func.now())
        )

    async def _member(self, tenant_id: uuid.UUID, username: str) -> Member:
        member = await self.directory.member(tenant_id, username)
        if member is None:
            raise InvalidInput(
                f"“{username}” không làm việc tại cơ quan này.",
                f"{username!r} does not work in this agency.",
            )
        return member
