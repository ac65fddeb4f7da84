"""The rules of outgoing documents (NĐ 30/2020, Điều 10-19).

Draft (versions kept) -> opinions (optional) -> submitted: content review by the department
head, form review by the office, approval by the signer, in that order; a return at any step
sends the draft back to its drafter -> approved -> issued by the clerk: the number from the
register's yearly series (or a number reserved for a paper original), the symbol built per
Phụ lục I, the register entry, and for each electronic recipient a dispatch through the
interchange service. An issued document never changes.

With signing (signing.py, ADR 0019) the reviewers initial the draft, the competent person signs
it (which approves it), and the clerk writes the number and date into the PDF and applies the
agency's signature before issuing; issuing refuses what lacks the signatures the law requires.
After issue, revocations, updates and replacements are records of their own (changes.py)."""

from __future__ import annotations

import datetime as dt
import logging
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
from services.docs.outgoing import changes, records
from services.docs.outgoing.agencies import Agencies
from services.docs.outgoing.schemas import (
    DraftRequest,
    FileView,
    IssueRequest,
    OpinionAnswer,
    OpinionReport,
    OutgoingCard,
    PinSignRequest,
    PreparedSignatureView,
    PrepareRequest,
    RecipientView,
    ReservationRequest,
    ReservedNumbers,
    SignatureView,
    SigningOptions,
    StepView,
    SubmitRequest,
    UpdateRequest,
    VersionComparison,
    VersionRequest,
    VersionView,
)
from services.docs.outgoing.signing import (
    INITIALS,
    LEADER,
    SEAL,
    CurrentFile,
    OutgoingSigning,
    current_file,
    needs_leader,
    signature_rows,
)
from services.docs.outgoing.symbols import build_symbol
from services.docs.registers.numbering import next_number
from services.docs.signatures.errors import DraftSigned, ServerKeysDisabled, SignatureRequired
from services.docs.tables import (
    audit_entry,
    number_reservation,
    outbox,
    outgoing,
    outgoing_recipient,
    outgoing_step,
    outgoing_version,
)

logger = logging.getLogger("qlvb.docs.outgoing")

ISSUED_TOPIC = "document.issued"
REVIEW_KINDS = ("content_review", "form_review", "approval")
CODE_102 = re.compile(r"^[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-Z][0-9]{2}$")
SIGNERS = (Role.LEADER, Role.DEPUTY_LEADER)


def _not_found(outgoing_id: uuid.UUID) -> NotFound:
    return records.not_found(outgoing_id)


def _signature_view(row: Any) -> SignatureView:
    return SignatureView(
        id=row.id,
        version=row.version,
        kind=row.kind,
        field_name=row.field_name,
        signer=row.signer,
        signer_name=row.signer_name,
        acting_for=row.acting_for,
        method=row.method,
        certificate_subject=row.certificate_subject,
        certificate_serial=row.certificate_serial,
        certificate_issuer=row.certificate_issuer,
        level=row.level,
        signed_at=row.signed_at,
        object_id=row.object_id,
        sha256=row.sha256,
        number_symbol=row.number_symbol,
    )


def _file_view(current: CurrentFile) -> FileView:
    return FileView(
        version=current.version,
        object_id=current.object_id,
        file_name=current.file_name,
        sha256=current.sha256,
        size=current.size,
    )


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
    """The outgoing flow. With `signing`, documents are signed in the flow and issuing checks
    the signatures the law requires; without it (a deployment that signs on paper only, or a
    test of another part), nothing is signed and nothing is required."""

    def __init__(
        self,
        db: Database,
        directory: Directory,
        agencies: Agencies,
        files: FileChecker | None = None,
        signing: OutgoingSigning | None = None,
    ) -> None:
        self.db = db
        self.directory = directory
        self.files = files
        self.agencies = agencies
        self.signing = signing

    # -- drafting -----------------------------------------------------------------------------

    async def create_draft(
        self,
        tenant_id: uuid.UUID,
        principal: Principal,
        body: DraftRequest,
        *,
        replaces: uuid.UUID | None = None,
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
            if replaces is not None:
                target = await changes.check_target(conn, tenant_id, replaces, changes.REPLACE)
                if target.doc_type != body.doc_type:
                    raise InvalidInput(
                        "Văn bản thay thế phải cùng hình thức với văn bản bị thay thế "
                        "(NĐ 30, Điều 18.3).",
                        "A replacement must be of the same type as the document it replaces.",
                    )
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
                    business="replace" if replaces else "new",
                    target_id=replaces,
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
            signed = await signature_rows(conn, tenant_id, outgoing_id)
            if any(s.kind == LEADER for s in signed):
                raise DraftSigned(
                    "Người có thẩm quyền đã ký số văn bản; không sửa được bản thảo nữa. Nếu cần "
                    "sửa sau khi ban hành, hãy soạn văn bản thay thế.",
                    "The competent person has signed; the draft can no longer change.",
                )
            if row.state not in ("draft", "in_review"):
                raise Conflict(
                    "Văn bản đã được duyệt hoặc ban hành; không sửa được bản thảo.",
                    "The document was approved or issued; its draft can no longer change.",
                )
            editors = (row.drafter, *await self._current_reviewers(conn, tenant_id, outgoing_id))
            if not any(principal.acts_as(editor) for editor in editors):
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
            if step.kind != "opinion" or not principal.acts_as(step.assignee):
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
        """Number, register and dispatch. With signing, the competent person must have signed
        (but copies and paper originals with a reserved number), and a document sent over the
        network must carry the agency's signature: given the seal's PIN, the clerk applies it
        here first (the number and date go into the PDF just before it)."""
        if not principal.has_role(Role.CLERK):
            raise Forbidden("Chỉ văn thư cấp số và ban hành.", "Only clerks issue documents.")
        if self.signing is not None and body.pin is not None:
            async with self.db.transaction(tenant_id, read_only=True) as conn:
                row = await self._fetch(conn, tenant_id, outgoing_id)
                base = await current_file(conn, tenant_id, outgoing_id)
                sealed = any(
                    r.kind == SEAL and r.version == base.version
                    for r in await signature_rows(conn, tenant_id, outgoing_id)
                )
            if row.state == "approved" and not sealed:
                await self.signing.sign_with_pin(
                    tenant_id,
                    principal,
                    outgoing_id,
                    SEAL,
                    body.pin,
                    SigningOptions(
                        register_id=body.register_id, reserved_number=body.reserved_number
                    ),
                )
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
            final = await current_file(conn, tenant_id, outgoing_id)
            signed = [
                r
                for r in await signature_rows(conn, tenant_id, outgoing_id)
                if r.version == final.version
            ]
            seal = next((r for r in signed if r.kind == SEAL), None)
            if self.signing is not None and seal is None:
                electronic = not row.internal and bool(
                    (
                        await conn.execute(
                            select(func.count()).where(
                                outgoing_recipient.c.tenant_id == tenant_id,
                                outgoing_recipient.c.outgoing_id == outgoing_id,
                                outgoing_recipient.c.electronic.is_(True),
                            )
                        )
                    ).scalar_one()
                )
                self._require_signatures(row, body, signed, electronic)
            if row.business == changes.REPLACE:
                await changes.check_target(conn, tenant_id, row.target_id, changes.REPLACE)
            confidential = row.confidentiality != Confidentiality.NORMAL.value
            held = await records.held_number(conn, tenant_id, outgoing_id)
            if held is not None:
                if (body.reserved_number not in (None, held.number)) or (
                    body.register_id not in (None, held.register_id)
                ):
                    raise Conflict(
                        f"Văn bản đã được giữ số {held.number}; không đổi số được.",
                        f"Number {held.number} is already held for the document.",
                    )
                book = await self._outgoing_register(
                    conn, tenant_id, held.register_id, confidential
                )
                year, number = held.year, held.number
            else:
                book = await self._outgoing_register(
                    conn, tenant_id, body.register_id, confidential
                )
                year = today().year
                if body.reserved_number is not None:
                    number = await records.use_reservation(
                        conn, tenant_id, book.id, year, body.reserved_number, outgoing_id
                    )
                else:
                    number = await next_number(conn, tenant_id, book.id, year)
            on = seal.dated if seal is not None else today()
            symbol = build_symbol(
                number,
                row.doc_type,
                row.issuer_abbr,
                row.unit_abbr,
                year=year if row.legal else None,
            )
            if seal is not None and seal.number_symbol != symbol:
                raise Conflict(
                    "Số, ký hiệu trong tệp đã ký không khớp với sổ; hãy báo quản trị.",
                    "The number in the signed file differs from the register's.",
                )
            await conn.execute(
                update(outgoing)
                .where(outgoing.c.tenant_id == tenant_id, outgoing.c.id == outgoing_id)
                .values(
                    state="issued",
                    register_id=book.id,
                    number_year=year,
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
                {
                    "number_symbol": symbol,
                    "register_id": str(book.id),
                    "issued_on": on.isoformat(),
                    "sha256": final.sha256,
                },
            )
            if not row.internal:
                await self._dispatch(conn, tenant_id, outgoing_id, row, symbol, on, final)
        if self.signing is not None and signed:
            # The signed original is kept under object lock for its retention period; a
            # failure here leaves the document issued, and the lock can be applied again.
            try:
                await self.signing.desk.lock(tenant_id, final.object_id, on)
            except Exception:
                logger.exception("issued file not locked", extra={"outgoing_id": str(outgoing_id)})
        return await self.card(tenant_id, outgoing_id)

    @staticmethod
    def _require_signatures(
        row: Any, body: IssueRequest, signed: list[Any], electronic: bool
    ) -> None:
        """Refuse to issue what the law does not recognise (NĐ 30, Điều 5.1): a document
        the competent person has not signed, or one sent over the network without the
        agency's signature."""
        if needs_leader(row.doc_type, body.reserved_number) and not any(
            r.kind == LEADER for r in signed
        ):
            raise SignatureRequired(
                "Văn bản chưa có chữ ký số của người có thẩm quyền; chưa ban hành được "
                "(NĐ 30, Điều 5 và 13.7).",
                "The competent person has not signed the document; it cannot be issued.",
                missing="leader",
            )
        if electronic:
            raise SignatureRequired(
                "Văn bản gửi qua mạng phải có chữ ký số của cơ quan, do văn thư ký trước khi "
                "phát hành (NĐ 30, Điều 17.2): hãy nhập mã PIN của chứng thư số cơ quan.",
                "A document sent over the network needs the agency's signature before it is "
                "issued: give the agency seal's PIN.",
                missing="seal",
            )

    async def _dispatch(
        self,
        conn: AsyncConnection,
        tenant_id: uuid.UUID,
        outgoing_id: uuid.UUID,
        row: Any,
        symbol: str,
        on: dt.date,
        final: CurrentFile,
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
                # The signed original: what the competent person and the agency signed.
                "files": [
                    {
                        "object_id": str(final.object_id),
                        "file_name": final.file_name,
                        "sha256": final.sha256,
                        "size": final.size,
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
        return await records.outgoing_register(conn, tenant_id, register_id, confidential)

    # -- signatures ---------------------------------------------------------------------------

    def _signing(self) -> OutgoingSigning:
        if self.signing is None:
            raise ServerKeysDisabled(
                "Hệ thống chưa được cấu hình ký số.", "Digital signing is not configured."
            )
        return self.signing

    async def initial(
        self,
        tenant_id: uuid.UUID,
        principal: Principal,
        outgoing_id: uuid.UUID,
        body: PinSignRequest,
    ) -> OutgoingCard:
        """A reviewer initials (ký nháy) the current version while their step is pending."""
        await self._signing().sign_with_pin(
            tenant_id, principal, outgoing_id, INITIALS, body.pin, body
        )
        return await self.card(tenant_id, outgoing_id)

    async def sign(
        self,
        tenant_id: uuid.UUID,
        principal: Principal,
        outgoing_id: uuid.UUID,
        body: PinSignRequest,
    ) -> OutgoingCard:
        """The designated signer (or their delegate, `principal.acting_for`) signs the current
        version with their server-held key; while the approval step waits, the signature also
        approves."""
        await self._signing().sign_with_pin(
            tenant_id, principal, outgoing_id, LEADER, body.pin, body, principal.acting_for
        )
        return await self.card(tenant_id, outgoing_id)

    async def seal(
        self,
        tenant_id: uuid.UUID,
        principal: Principal,
        outgoing_id: uuid.UUID,
        body: PinSignRequest,
    ) -> OutgoingCard:
        """A clerk writes the number and date into the PDF and applies the agency's signature
        (the number is set aside for the document first); `issue` then issues it."""
        await self._signing().sign_with_pin(tenant_id, principal, outgoing_id, SEAL, body.pin, body)
        return await self.card(tenant_id, outgoing_id)

    async def prepare_signature(
        self,
        tenant_id: uuid.UUID,
        principal: Principal,
        outgoing_id: uuid.UUID,
        body: PrepareRequest,
    ) -> PreparedSignatureView:
        """First half of a signature by a key the server does not hold."""
        return await self._signing().prepare(
            tenant_id,
            principal,
            outgoing_id,
            body.step,
            body.certificate,
            body,
            principal.acting_for,
        )

    async def complete_signature(
        self,
        tenant_id: uuid.UUID,
        principal: Principal,
        outgoing_id: uuid.UUID,
        session_id: uuid.UUID,
        signature: bytes,
    ) -> OutgoingCard:
        """Second half: the signature value (or CMS) the external signer returned."""
        await self._signing().complete(
            tenant_id, principal, outgoing_id, session_id, signature, principal.acting_for
        )
        return await self.card(tenant_id, outgoing_id)

    # -- after issue ----------------------------------------------------------------------------

    async def revoke(
        self, tenant_id: uuid.UUID, principal: Principal, outgoing_id: uuid.UUID, reason: str
    ) -> OutgoingCard:
        """Thu hồi: every electronic recipient is asked to destroy the document and answer."""
        return await self._change(
            tenant_id, principal, outgoing_id, changes.REVOKE, UpdateRequest(reason=reason)
        )

    async def update_issued(
        self,
        tenant_id: uuid.UUID,
        principal: Principal,
        outgoing_id: uuid.UUID,
        body: UpdateRequest,
    ) -> OutgoingCard:
        """Cập nhật: corrected metadata of the same document (the document row keeps what was
        issued; the change carries the correction)."""
        return await self._change(tenant_id, principal, outgoing_id, changes.UPDATE, body)

    async def replace(
        self,
        tenant_id: uuid.UUID,
        principal: Principal,
        outgoing_id: uuid.UUID,
        body: DraftRequest,
    ) -> OutgoingCard:
        """Thay thế: a new draft of the same type that, once issued, replaces the document."""
        return await self.create_draft(tenant_id, principal, body, replaces=outgoing_id)

    async def _change(
        self,
        tenant_id: uuid.UUID,
        principal: Principal,
        outgoing_id: uuid.UUID,
        business: str,
        body: UpdateRequest,
    ) -> OutgoingCard:
        if not principal.has_role(Role.CLERK):
            raise Forbidden(
                "Chỉ văn thư gửi thu hồi hoặc cập nhật văn bản đã ban hành.",
                "Only clerks send revocations and updates.",
            )
        async with self.db.transaction(tenant_id) as conn:
            await changes.request_change(conn, tenant_id, principal, outgoing_id, business, body)
            return await self._card(conn, tenant_id, outgoing_id)

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
        changed = await changes.changes_of(conn, tenant_id, outgoing_id)
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
            drafter_name=row.drafter_name,
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
            current_file=_file_view(await current_file(conn, tenant_id, outgoing_id)),
            signatures=[
                _signature_view(r) for r in await signature_rows(conn, tenant_id, outgoing_id)
            ],
            changes=changed,
            revoked=any(c.business == changes.REVOKE for c in changed),
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
        return await records.fetch(conn, tenant_id, outgoing_id, for_update=for_update)

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
        if not principal.acts_as(step.assignee):
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
