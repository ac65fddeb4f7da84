"""The rules of incoming documents (NĐ 30/2020, Điều 20-24).

Every change happens in one tenant transaction together with its audit entry (the document
card's history) and, where the sender must learn of it, a `document.status_changed` event."""

from __future__ import annotations

import base64
import datetime as dt
import functools
import json
import logging
import time
import types
import uuid
from typing import Any, Protocol, runtime_checkable

import msgspec
from sqlalchemy import (
    Boolean,
    Integer,
    String,
    all_,
    and_,
    any_,
    bindparam,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import BindParameter

from services.common.auth.principal import Principal, Role
from services.common.db import Database, fetch_direct
from services.common.outbox import publish
from services.common.problems import Conflict, Forbidden, InvalidInput, NotFound
from services.docs.audit import chain
from services.docs.calendar.workdays import WorkCalendar, load_calendar
from services.docs.catalog.types import BY_CODE, URGENCY_DAYS, Confidentiality, Urgency
from services.docs.incoming.change_views import changes_of, replaced_by
from services.docs.incoming.schemas import (
    Assign,
    AssignmentRequest,
    AssignmentView,
    Completion,
    DocumentCard,
    DocumentFile,
    DocumentSummary,
    ExtensionRequest,
    FileRef,
    HistoryEntry,
    IncomingFields,
    Page,
    PaperDocument,
    Registration,
)
from services.docs.registers.numbering import COUNTER_PARAMETERS, take_number_sql
from services.docs.registers.service import INCOMING, default_register_id, ensure_defaults
from services.docs.signatures import reports
from services.docs.tables import (
    assignment,
    audit_entry,
    document,
    document_file,
    outbox,
)

logger = logging.getLogger("qlvb.docs.incoming")

VIETNAM = dt.timezone(dt.timedelta(hours=7), "ICT")
CALENDAR_TTL_SECONDS = 300.0
STATUS_TOPIC = "document.status_changed"

# States in which nothing is left to do, so nothing can be late: done, or taken back or replaced
# by the sender (changes.py).
FINISHED = ("completed", "revoked", "replaced")

CLERKS = (Role.CLERK,)
ASSIGNERS = (Role.LEADER, Role.DEPUTY_LEADER, Role.CLERK)
HEADS = (Role.DEPARTMENT_HEAD, Role.LEADER, Role.DEPUTY_LEADER)


class Member(msgspec.Struct, frozen=True, kw_only=True):
    username: str
    name: str
    department: str = ""
    position: str = ""
    roles: tuple[str, ...] = ()


class FileChecker(Protocol):
    """Confirms a referenced file is stored for the agency, with that hash and size."""

    async def check(self, tenant_id: uuid.UUID, ref: FileRef) -> None: ...


class JobQueue(Protocol):
    """Where follow-up work goes (the docs worker's saq queue)."""

    async def ocr(self, tenant_id: uuid.UUID, document_id: uuid.UUID) -> None: ...

    async def check_signatures(self, tenant_id: uuid.UUID, document_id: uuid.UUID) -> None: ...


@runtime_checkable  # handlers receive it as a dependency, which Litestar type-checks
class Directory(Protocol):
    """Who works in an agency: the identity service is the source of truth."""

    async def member(self, tenant_id: uuid.UUID, username: str) -> Member | None: ...

    async def members(self, tenant_id: uuid.UUID) -> list[Member]:
        """Everyone working in the agency (the pickers of assignees, reviewers, signers)."""
        ...


def today() -> dt.date:
    return dt.datetime.now(VIETNAM).date()


def _require(principal: Principal, roles: tuple[Role, ...], action_vi: str, action_en: str) -> None:
    if not principal.has_role(*roles):
        raise Forbidden(f"Bạn không có quyền {action_vi}.", f"You may not {action_en}.")


def _not_found(document_id: uuid.UUID) -> NotFound:
    return NotFound(f"Không tìm thấy văn bản {document_id}.", f"No document {document_id}.")


def _check_fields(fields: IncomingFields, arrived_on: dt.date) -> None:
    errors: list[dict[str, Any]] = []
    if fields.doc_type not in BY_CODE:
        errors.append(
            {
                "field": "doc_type",
                "message": f"Loại văn bản “{fields.doc_type}” không có"
                " trong danh mục (NĐ 30, Phụ lục III).",
            }
        )
    if fields.issued_on > today():
        errors.append({"field": "issued_on", "message": "Ngày ban hành ở tương lai."})
    if fields.due_on is not None and fields.due_on < arrived_on:
        errors.append({"field": "due_on", "message": "Hạn giải quyết trước ngày đến."})
    if errors:
        raise InvalidInput(
            "Thông tin văn bản chưa hợp lệ: " + " ".join(e["message"] for e in errors),
            "The document's fields are invalid.",
            errors=errors,
        )


def _fields_values(fields: IncomingFields) -> dict[str, Any]:
    return {
        "sender_name": fields.sender_name.strip(),
        "sender_code": fields.sender_code,
        "number_symbol": fields.number_symbol.strip(),
        "doc_type": fields.doc_type,
        "issued_on": fields.issued_on,
        "subject": fields.subject.strip(),
        "signer": fields.signer.strip(),
        "urgency": fields.urgency.value,
        "confidentiality": fields.confidentiality.value,
        "pages": fields.pages,
        "due_on": fields.due_on,
    }


def _encode_cursor(arrived_at: dt.datetime, document_id: uuid.UUID) -> str:
    raw = json.dumps([arrived_at.isoformat(), str(document_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode_cursor(cursor: str) -> tuple[dt.datetime, uuid.UUID]:
    try:
        arrived, ident = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return dt.datetime.fromisoformat(arrived), uuid.UUID(ident)
    except (ValueError, TypeError) as exc:
        raise InvalidInput("Con trỏ trang không hợp lệ.", "Invalid page cursor.") from exc


def _summary(row: Any, on: dt.date) -> DocumentSummary:
    return DocumentSummary(
        id=row.id,
        state=row.state,
        arrival_number=row.arrival_number,
        arrival_year=row.arrival_year,
        arrived_at=row.arrived_at,
        sender_name=row.sender_name,
        number_symbol=row.number_symbol,
        doc_type=row.doc_type,
        issued_on=row.issued_on,
        subject=row.subject,
        urgency=row.urgency,
        confidentiality=row.confidentiality,
        due_on=row.due_on,
        overdue=row.due_on is not None and row.state not in FINISHED and row.due_on < on,
    )


def listed_summary(row: Any, on: dt.date) -> DocumentSummary:
    """A row of the list query (exactly the summary's columns, in order) as a summary: built
    positionally, five times faster than by name (bench/docs_search)."""
    due_on = row[_DUE_ON]
    overdue = due_on is not None and due_on < on and row[_STATE] not in FINISHED
    # mypy cannot know that the row fills every field but `overdue`; SUMMARY_COLUMNS says so.
    return DocumentSummary(*row, overdue=overdue)  # type: ignore[misc]


def _card_of(
    row: Any,
    changes: dict[str, Any],
    files: list[FileRef],
    history: list[chain.AuditEntry],
) -> DocumentCard:
    """The card of a document just written, from what was written."""
    values = {**row._mapping, **changes}
    merged = types.SimpleNamespace(**values)
    summary = _summary(merged, today())
    return DocumentCard(
        **msgspec.structs.asdict(summary),
        source=values["source"],
        sender_code=values["sender_code"],
        signer=values["signer"],
        pages=values["pages"],
        register_id=values["register_id"],
        registered_at=values["registered_at"],
        result=values["result"],
        return_reason=values["return_reason"],
        files=[DocumentFile(**msgspec.structs.asdict(f)) for f in files],
        assignments=[],
        history=[
            HistoryEntry(
                seq=h.seq,
                at=h.at,
                actor=h.actor,
                actor_name=h.actor_name,
                acting_for=h.acting_for,
                action=h.action,
                data=h.data,
            )
            for h in history
        ],
    )


def _assignment_view(row: Any) -> AssignmentView:
    return AssignmentView(
        id=row.id,
        role=row.role,
        assignee=row.assignee,
        assignee_name=row.assignee_name,
        department=row.department,
        deadline=row.deadline,
        direction=row.direction,
        assigned_by=row.assigned_by,
        assigned_at=row.assigned_at,
        state=row.state,
        parent_id=row.parent_id,
        requested_deadline=row.requested_deadline,
    )


def visible_to(username: str | BindParameter[str], mine: Any) -> Any:
    """Confidential documents: only the people assigned and the clerk who registered it.
    `username` is the person's (or a parameter that will hold it)."""
    return or_(
        document.c.confidentiality == Confidentiality.NORMAL.value,
        document.c.registered_by == username,
        document.c.created_by == username,
        document.c.id.in_(mine),
    )


# The columns of a list row: the summary's fields but the one computed.
SUMMARY_COLUMNS = tuple(name for name in DocumentSummary.__struct_fields__ if name != "overdue")
_DUE_ON = SUMMARY_COLUMNS.index("due_on")
_STATE = SUMMARY_COLUMNS.index("state")


def list_query(
    tenant_id: uuid.UUID,
    principal: Principal,
    *,
    state: str | None = None,
    query: str | None = None,
    assigned_to_me: bool = False,
    overdue_on: dt.date | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[Any, dict[str, Any]]:
    """The inbox query and its parameter values: newest first, one page plus one row (to know
    whether more follow)."""
    words = query.split()[:8] if query else []
    values: dict[str, Any] = {"tenant_id": tenant_id, "username": principal.username}
    values["rows"] = limit + 1
    if state:
        values["state"] = state
    values |= {f"word_{index}": word for index, word in enumerate(words)}
    if assigned_to_me:
        values["usernames"] = list(principal.usernames)
    if overdue_on is not None:
        values["overdue_on"] = overdue_on
        values["finished"] = list(FINISHED)
    if cursor:
        values["after_at"], values["after_id"] = _decode_cursor(cursor)
    shape = _list_shape(
        len(words), bool(state), assigned_to_me, overdue_on is not None, bool(cursor)
    )
    return shape, values


def list_statement(tenant_id: uuid.UUID, principal: Principal, **options: Any) -> Any:
    """The inbox query with its values bound in (to count, to export, to compare)."""
    shape, values = list_query(tenant_id, principal, **options)
    return shape.params(**values)


@functools.cache
def _list_shape(
    words: int, by_state: bool, assigned_to_me: bool, overdue: bool, after: bool
) -> Any:
    """The inbox query of one shape, every value a parameter. Built once per shape: building
    it and its cache key on every request cost more than running it (bench/docs_search).

    Every condition starts with the tenant, so the planner stays on the tenant's index range;
    words are matched in folded form (no diacritics, lower case) against trigram indexes."""
    tenant = bindparam("tenant_id", type_=document.c.tenant_id.type)
    # The columns of a list row only: a document's OCR text can be a megabyte.
    statement = select(*(document.c[name] for name in SUMMARY_COLUMNS)).where(
        document.c.tenant_id == tenant, document.c.direction == INCOMING
    )
    if by_state:
        statement = statement.where(document.c.state == bindparam("state", type_=String()))
    for index in range(words):
        word = bindparam(f"word_{index}", type_=String())
        pattern = func.concat("%", func.docs.fold(word), "%")
        statement = statement.where(
            or_(
                func.docs.fold(document.c.subject).like(pattern),
                func.docs.fold(document.c.number_symbol).like(pattern),
                func.docs.fold(document.c.sender_name).like(pattern),
                func.docs.fold(document.c.ocr_text).like(pattern),
            )
        )
    username = bindparam("username", type_=String())
    mine = select(assignment.c.document_id).where(
        assignment.c.tenant_id == tenant, assignment.c.assignee == username
    )
    if assigned_to_me:
        # A delegate's work list holds the delegator's work too (confidential documents
        # excepted: `visible_to` stays personal).
        mine_or_delegators = select(assignment.c.document_id).where(
            assignment.c.tenant_id == tenant,
            assignment.c.assignee == any_(bindparam("usernames", type_=ARRAY(String()))),
        )
        statement = statement.where(document.c.id.in_(mine_or_delegators))
    if overdue:
        statement = statement.where(
            document.c.due_on < bindparam("overdue_on", type_=document.c.due_on.type),
            document.c.state != all_(bindparam("finished", type_=ARRAY(String()))),
        )
    statement = statement.where(visible_to(username, mine))
    if after:
        after_at = bindparam("after_at", type_=document.c.arrived_at.type)
        statement = statement.where(
            or_(
                document.c.arrived_at < after_at,
                and_(
                    document.c.arrived_at == after_at,
                    document.c.id < bindparam("after_id", type_=document.c.id.type),
                ),
            )
        )
    return statement.order_by(document.c.arrived_at.desc(), document.c.id.desc()).limit(
        bindparam("rows", type_=Integer())
    )


async def attach_files(
    conn: AsyncConnection, tenant_id: uuid.UUID, document_id: uuid.UUID, files: list[FileRef]
) -> None:
    seen: set[uuid.UUID] = set()
    for file in files:
        if file.object_id in seen:
            raise InvalidInput("Một tệp được đính kèm hai lần.", "A file is attached twice.")
        seen.add(file.object_id)
        await conn.execute(
            insert(document_file).values(
                tenant_id=tenant_id,
                document_id=document_id,
                object_id=file.object_id,
                role=file.role,
                file_name=file.file_name,
                sha256=file.sha256,
                size=file.size,
            )
        )


# Who receives electronic arrivals in the audit trail: the platform's exchange, not a person.
INTERCHANGE = Principal(
    subject="qlvb-interchange",
    username="service-account-qlvb-interchange",
    name="Hệ thống liên thông văn bản",
)


async def receive_delivery(
    conn: AsyncConnection, tenant_id: uuid.UUID, payload: dict[str, Any]
) -> uuid.UUID | None:
    """A delivery from the interchange service lands in the waiting queue, once.

    Returns the new document's id, or None when this delivery was already received."""
    delivery_id = uuid.UUID(str(payload["delivery_id"]))
    existing = (
        await conn.execute(
            select(document.c.id).where(
                document.c.tenant_id == tenant_id, document.c.delivery_id == delivery_id
            )
        )
    ).scalar_one_or_none()
    if existing is not None:
        return None
    fields = msgspec.convert(payload["fields"], IncomingFields)
    if fields.confidentiality is not Confidentiality.NORMAL:
        # Luật Bảo vệ bí mật nhà nước, Điều 5: never over the network. Refuse, and say so.
        raise InvalidInput(
            "Văn bản mật không được gửi qua mạng; không tiếp nhận.",
            "Confidential documents may not travel over the network; refused.",
        )
    files = msgspec.convert(payload.get("files", []), list[FileRef])
    document_id = uuid.uuid4()
    await conn.execute(
        insert(document).values(
            tenant_id=tenant_id,
            id=document_id,
            direction=INCOMING,
            state="waiting",
            source="electronic",
            delivery_id=delivery_id,
            edxml_document_id=payload.get("edxml_document_id"),
            arrived_at=dt.datetime.now(dt.UTC),
            created_by="interchange",
            **_fields_values(fields),
        )
    )
    await attach_files(conn, tenant_id, document_id, files)
    # The card's history starts where a paper document's does: at the reception.
    await chain.append(
        conn,
        tenant_id,
        INTERCHANGE,
        "incoming.received",
        "document",
        document_id,
        {
            "source": "electronic",
            "files": len(files),
            "sender_code": fields.sender_code,
            "delivery_id": str(delivery_id),
        },
    )
    return document_id


_INSERT_DOCUMENT = insert(document).returning(*document.c)
# SET holds the columns an execution gives; the row is named by these two parameters.
_UPDATE_DOCUMENT = update(document).where(
    document.c.tenant_id == bindparam("row_tenant_id"), document.c.id == bindparam("row_id")
)


async def _set(
    conn: AsyncConnection, tenant_id: uuid.UUID, document_id: uuid.UUID, values: dict[str, Any]
) -> None:
    await conn.execute(
        _UPDATE_DOCUMENT, {"row_tenant_id": tenant_id, "row_id": document_id, **values}
    )


# Built once: registering is the clerk's most frequent action, and building it cost more than
# running it (bench/docs_register). In one round trip: the register, the same document (number,
# sender, date) if it is already registered, and the next number, taken only when the register
# is an open incoming one of the document's confidentiality and the document is no duplicate
# (otherwise `number` is null and the caller says why).
_BOOK_AND_NUMBER = text(
    "WITH book AS ("  # noqa: S608 - built from constants only
    " SELECT r.id, r.direction, r.active, r.confidential,"
    " earlier.id AS duplicate_id, earlier.arrival_number AS duplicate_number"
    " FROM docs.register r LEFT JOIN LATERAL ("
    "  SELECT d.id, d.arrival_number FROM docs.document d"
    "  WHERE d.tenant_id = :tenant_id AND d.id <> :document_id"
    "  AND d.number_symbol = :number_symbol AND d.sender_name = :sender_name"
    "  AND d.issued_on = :issued_on AND d.arrival_number IS NOT NULL LIMIT 1"
    " ) earlier ON true"
    " WHERE r.tenant_id = :tenant_id AND r.id = :register_id"
    "), numbered AS ("
    + take_number_sql(
        "SELECT :tenant_id, :register_id, :year, 1 FROM book WHERE book.direction = 'incoming'"
        " AND book.active AND book.confidential = :confidential AND book.duplicate_id IS NULL"
    )
    + ") SELECT book.*, (SELECT last_number FROM numbered) AS number FROM book"
).bindparams(
    *COUNTER_PARAMETERS,
    bindparam("document_id", type_=document.c.id.type),
    bindparam("number_symbol", type_=document.c.number_symbol.type),
    bindparam("sender_name", type_=document.c.sender_name.type),
    bindparam("issued_on", type_=document.c.issued_on.type),
    bindparam("confidential", type_=Boolean()),
)


class IncomingService:
    def __init__(
        self,
        db: Database,
        directory: Directory,
        jobs: JobQueue | None = None,
        files: FileChecker | None = None,
    ) -> None:
        self.db = db
        self.directory = directory
        self.files = files
        self.jobs = jobs
        self._calendar: tuple[float, WorkCalendar] | None = None

    async def _work_calendar(self, conn: AsyncConnection) -> WorkCalendar:
        # Edited a few times a year: a few minutes of staleness is harmless, a query per
        # registration is not.
        now = time.monotonic()
        if self._calendar is None or self._calendar[0] < now:
            self._calendar = (now + CALENDAR_TTL_SECONDS, await load_calendar(conn))
        return self._calendar[1]

    # -- reception ----------------------------------------------------------------------------

    async def receive_paper(
        self, tenant_id: uuid.UUID, principal: Principal, body: PaperDocument
    ) -> DocumentCard:
        _require(principal, CLERKS, "vào sổ văn bản đến", "register incoming documents")
        arrived_at = body.arrived_at or dt.datetime.now(dt.UTC)
        _check_fields(body, arrived_at.astimezone(VIETNAM).date())
        if self.files is not None:
            for ref in body.files:
                await self.files.check(tenant_id, ref)
        document_id = uuid.uuid4()
        async with self.db.transaction(tenant_id) as conn:
            values = {
                "tenant_id": tenant_id,
                "id": document_id,
                "direction": INCOMING,
                "state": "waiting",
                "source": "paper",
                "arrived_at": arrived_at,
                "created_by": principal.username,
                **_fields_values(body),
            }
            actions = [
                chain.Action(
                    action="incoming.received",
                    entity="document",
                    entity_id=document_id,
                    data={"source": "paper", "files": len(body.files)},
                )
            ]
            if body.register:
                # Numbered before it is written, so the row is written once, registered.
                changes, registered = await self._number(
                    conn,
                    tenant_id,
                    principal,
                    document_id,
                    body.register_id,
                    types.SimpleNamespace(**values),
                )
                values |= changes
                actions.append(registered)
            row = (await conn.execute(_INSERT_DOCUMENT, values)).one()
            await attach_files(conn, tenant_id, document_id, body.files)
            if body.register:
                await self._status(conn, tenant_id, row, "accepted")
            # Both entries in one append: the chain head is locked once per request.
            history = await chain.append_many(conn, tenant_id, principal, actions)
        # Everything on the card was just written: it is built here, not read back.
        card = _card_of(row, {}, body.files, history)
        await self._after_reception(tenant_id, card)
        return card

    async def _after_reception(self, tenant_id: uuid.UUID, card: DocumentCard) -> None:
        if self.jobs is None or not card.files:
            return
        # Signatures are checked in the background; the worker's sweep redoes a lost job.
        try:
            await self.jobs.check_signatures(tenant_id, card.id)
        except Exception as exc:  # the reception is committed whatever happens here
            logger.warning(
                "signature check not queued",
                extra={"document_id": str(card.id), "error": repr(exc)},
            )
        # Scans become searchable in the background; a lost job only delays search.
        if not any(f.role == "main" for f in card.files):
            return
        try:
            await self.jobs.ocr(tenant_id, card.id)
        except Exception as exc:  # the registration is committed whatever happens here
            logger.warning(
                "ocr not queued", extra={"document_id": str(card.id), "error": repr(exc)}
            )

    # -- registration -------------------------------------------------------------------------

    async def register(
        self,
        tenant_id: uuid.UUID,
        principal: Principal,
        document_id: uuid.UUID,
        body: Registration,
    ) -> DocumentCard:
        _require(principal, CLERKS, "vào sổ văn bản đến", "register incoming documents")
        async with self.db.transaction(tenant_id) as conn:
            row = await self._fetch(conn, tenant_id, principal, document_id, for_update=True)
            if row.state != "waiting":
                raise Conflict(
                    "Văn bản đã được vào sổ hoặc đã trả lại.",
                    "The document was already registered or returned.",
                )
            if body.fields is not None:
                _check_fields(body.fields, row.arrived_at.astimezone(VIETNAM).date())
                await _set(conn, tenant_id, document_id, _fields_values(body.fields))
            if body.fields is not None:
                row = await self._fetch(conn, tenant_id, principal, document_id)
            changes, registered = await self._number(
                conn, tenant_id, principal, document_id, body.register_id, row
            )
            await _set(conn, tenant_id, document_id, changes)
            await self._status(conn, tenant_id, row, "accepted")
            await chain.append_many(conn, tenant_id, principal, [registered])
            return await self._card(conn, tenant_id, principal, document_id)

    async def _number(
        self,
        conn: AsyncConnection,
        tenant_id: uuid.UUID,
        principal: Principal,
        document_id: uuid.UUID,
        register_id: uuid.UUID | None,
        row: Any,
    ) -> tuple[dict[str, Any], chain.Action]:
        """Take the document's arrival number in its register: the columns registration sets
        and the action for the audit chain. The caller writes both (with its own, in one go)
        and tells the sender (`_status`)."""
        confidential = row.confidentiality != Confidentiality.NORMAL.value
        arrived_on = row.arrived_at.astimezone(VIETNAM).date()
        values = {
            "tenant_id": tenant_id,
            "register_id": register_id or default_register_id(tenant_id, INCOMING, confidential),
            "year": arrived_on.year,
            "confidential": confidential,
            "document_id": document_id,
            "number_symbol": row.number_symbol,
            "sender_name": row.sender_name,
            "issued_on": row.issued_on,
        }
        book = (await conn.execute(_BOOK_AND_NUMBER, values)).one_or_none()
        if book is None and register_id is None:
            # An agency's first registration creates its default registers.
            await ensure_defaults(conn, tenant_id)
            book = (await conn.execute(_BOOK_AND_NUMBER, values)).one_or_none()
        if book is None or book.direction != INCOMING or not book.active:
            raise InvalidInput(
                "Sổ văn bản đến không tồn tại hoặc đã đóng.",
                "No such open incoming register.",
            )
        if book.confidential != confidential:
            raise InvalidInput(
                "Văn bản mật phải vào sổ mật, văn bản thường vào sổ thường (NĐ 30, Điều 22.4).",
                "Confidential documents go to a confidential register, others to a general one.",
            )
        if book.duplicate_id is not None:
            raise Conflict(
                f"Văn bản số {row.number_symbol} của {row.sender_name} đã vào sổ "
                f"(số đến {book.duplicate_number}).",
                "The same document (number, sender, date) is already registered.",
                existing_document_id=str(book.duplicate_id),
            )
        register_id = book.id
        number = int(book.number)
        due_on = row.due_on or await self._default_due(conn, row, arrived_on)
        changes: dict[str, Any] = {
            "state": "registered",
            "register_id": register_id,
            "arrival_year": arrived_on.year,
            "arrival_number": number,
            "registered_at": dt.datetime.now(dt.UTC),
            "registered_by": principal.username,
            "due_on": due_on,
        }
        registered = chain.Action(
            action="incoming.registered",
            entity="document",
            entity_id=document_id,
            data={
                "register_id": str(register_id),
                "arrival_number": number,
                "arrival_year": arrived_on.year,
                "due_on": due_on.isoformat() if due_on else None,
            },
        )
        return changes, registered

    async def _default_due(
        self, conn: AsyncConnection, row: Any, arrived_on: dt.date
    ) -> dt.date | None:
        days = URGENCY_DAYS.get(Urgency(row.urgency))
        if days is None:
            days = BY_CODE[row.doc_type].default_days
        calendar = await self._work_calendar(conn)
        return calendar.add_working_days(arrived_on, days)

    async def return_to_sender(
        self, tenant_id: uuid.UUID, principal: Principal, document_id: uuid.UUID, reason: str
    ) -> DocumentCard:
        _require(principal, CLERKS, "trả lại văn bản", "return documents")
        async with self.db.transaction(tenant_id) as conn:
            row = await self._fetch(conn, tenant_id, principal, document_id, for_update=True)
            if row.state != "waiting":
                raise Conflict(
                    "Chỉ trả lại được văn bản chưa vào sổ.",
                    "Only documents not yet registered can be returned.",
                )
            await _set(conn, tenant_id, document_id, {"state": "returned", "return_reason": reason})
            await chain.append(
                conn,
                tenant_id,
                principal,
                "incoming.returned",
                "document",
                document_id,
                {"reason": reason},
            )
            await self._status(conn, tenant_id, row, "rejected", reason=reason)
            return await self._card(conn, tenant_id, principal, document_id)

    # -- workflow -----------------------------------------------------------------------------

    async def assign(
        self, tenant_id: uuid.UUID, principal: Principal, document_id: uuid.UUID, body: Assign
    ) -> DocumentCard:
        _require(principal, ASSIGNERS, "phân công xử lý", "assign documents")
        leads = [a for a in body.assignments if a.role == "lead"]
        if len(leads) > 1:
            raise InvalidInput(
                "Chỉ một người chủ trì xử lý văn bản.", "A document has a single lead."
            )
        members = [await self._member(tenant_id, a.assignee) for a in body.assignments]
        async with self.db.transaction(tenant_id) as conn:
            row = await self._fetch(conn, tenant_id, principal, document_id, for_update=True)
            if row.state in ("waiting", "returned", "completed"):
                raise Conflict(
                    "Văn bản chưa vào sổ, đã trả lại hoặc đã hoàn thành.",
                    "The document is not registered, was returned, or is completed.",
                )
            if leads and await self._open_lead(conn, tenant_id, document_id) is not None:
                raise Conflict(
                    "Văn bản đã có người chủ trì; hãy chuyển lại thay vì giao thêm.",
                    "The document already has a lead; re-assign instead.",
                )
            for request, member in zip(body.assignments, members, strict=True):
                await self._add_assignment(
                    conn, tenant_id, principal, row, request, member, parent_id=None
                )
            await _set(conn, tenant_id, document_id, {"state": "assigned"})
            await self._status(conn, tenant_id, row, "assigned")
            return await self._card(conn, tenant_id, principal, document_id)

    async def reassign(
        self,
        tenant_id: uuid.UUID,
        principal: Principal,
        assignment_id: uuid.UUID,
        request: AssignmentRequest,
    ) -> DocumentCard:
        """The holder of an assignment (a department head) hands it on inside the agency."""
        member = await self._member(tenant_id, request.assignee)
        async with self.db.transaction(tenant_id) as conn:
            current = await self._assignment(conn, tenant_id, assignment_id, for_update=True)
            if not principal.acts_as(current.assignee) or current.state != "open":
                raise Forbidden(
                    "Chỉ người đang được giao mới chuyển tiếp được.",
                    "Only the current holder of an open assignment may re-assign it.",
                )
            _require(principal, HEADS, "chuyển tiếp văn bản", "re-assign documents")
            if request.role != current.role:
                raise InvalidInput(
                    "Chuyển tiếp giữ nguyên vai trò (chủ trì, phối hợp, để biết).",
                    "A re-assignment keeps the role.",
                )
            row = await self._fetch(conn, tenant_id, principal, current.document_id)
            await conn.execute(
                update(assignment)
                .where(assignment.c.tenant_id == tenant_id, assignment.c.id == assignment_id)
                .values(state="reassigned", closed_at=func.now())
            )
            await self._add_assignment(
                conn,
                tenant_id,
                principal,
                row,
                request,
                member,
                parent_id=assignment_id,
                deadline=request.deadline or current.deadline,
            )
            return await self._card(conn, tenant_id, principal, current.document_id)

    async def opinion(
        self, tenant_id: uuid.UUID, principal: Principal, document_id: uuid.UUID, text: str
    ) -> DocumentCard:
        async with self.db.transaction(tenant_id) as conn:
            row = await self._fetch(conn, tenant_id, principal, document_id)
            if not await self._involved(conn, tenant_id, principal, row):
                raise Forbidden(
                    "Chỉ người được giao hoặc lãnh đạo cho ý kiến.",
                    "Only assignees and leaders may give opinions.",
                )
            await chain.append(
                conn,
                tenant_id,
                principal,
                "incoming.opinion",
                "document",
                document_id,
                {"text": text},
            )
            if row.state == "assigned":
                await _set(conn, tenant_id, document_id, {"state": "processing"})
                await self._status(conn, tenant_id, row, "processing")
            return await self._card(conn, tenant_id, principal, document_id)

    async def request_extension(
        self,
        tenant_id: uuid.UUID,
        principal: Principal,
        assignment_id: uuid.UUID,
        body: ExtensionRequest,
    ) -> DocumentCard:
        async with self.db.transaction(tenant_id) as conn:
            current = await self._assignment(conn, tenant_id, assignment_id, for_update=True)
            if not principal.acts_as(current.assignee) or current.state != "open":
                raise Forbidden(
                    "Chỉ người được giao xin gia hạn.", "Only the assignee may ask for more time."
                )
            if current.deadline is not None and body.deadline <= current.deadline:
                raise InvalidInput(
                    "Hạn mới phải sau hạn hiện tại.", "The new deadline must be later."
                )
            await conn.execute(
                update(assignment)
                .where(assignment.c.tenant_id == tenant_id, assignment.c.id == assignment_id)
                .values(requested_deadline=body.deadline)
            )
            await chain.append(
                conn,
                tenant_id,
                principal,
                "incoming.extension_requested",
                "document",
                current.document_id,
                {
                    "assignment_id": str(assignment_id),
                    "deadline": body.deadline.isoformat(),
                    "reason": body.reason,
                },
            )
            return await self._card(conn, tenant_id, principal, current.document_id)

    async def decide_extension(
        self,
        tenant_id: uuid.UUID,
        principal: Principal,
        assignment_id: uuid.UUID,
        approve: bool,
    ) -> DocumentCard:
        async with self.db.transaction(tenant_id) as conn:
            current = await self._assignment(conn, tenant_id, assignment_id, for_update=True)
            if not principal.acts_as(current.assigned_by):
                raise Forbidden(
                    "Chỉ người giao việc quyết định gia hạn.",
                    "Only the assigner decides on an extension.",
                )
            if current.requested_deadline is None:
                raise Conflict("Không có đề nghị gia hạn.", "No extension was requested.")
            values: dict[str, Any] = {"requested_deadline": None}
            if approve:
                values["deadline"] = current.requested_deadline
            await conn.execute(
                update(assignment)
                .where(assignment.c.tenant_id == tenant_id, assignment.c.id == assignment_id)
                .values(**values)
            )
            await chain.append(
                conn,
                tenant_id,
                principal,
                "incoming.extension_approved" if approve else "incoming.extension_refused",
                "document",
                current.document_id,
                {
                    "assignment_id": str(assignment_id),
                    "deadline": current.requested_deadline.isoformat(),
                },
            )
            return await self._card(conn, tenant_id, principal, current.document_id)

    async def complete(
        self,
        tenant_id: uuid.UUID,
        principal: Principal,
        document_id: uuid.UUID,
        body: Completion,
    ) -> DocumentCard:
        async with self.db.transaction(tenant_id) as conn:
            row = await self._fetch(conn, tenant_id, principal, document_id, for_update=True)
            lead = await self._open_lead(conn, tenant_id, document_id)
            if lead is None or not principal.acts_as(lead.assignee):
                raise Forbidden(
                    "Chỉ người chủ trì xử lý mới hoàn thành được văn bản.",
                    "Only the lead assignee may complete the document.",
                )
            await conn.execute(
                update(assignment)
                .where(
                    assignment.c.tenant_id == tenant_id,
                    assignment.c.document_id == document_id,
                    assignment.c.state == "open",
                )
                .values(state="completed", closed_at=func.now())
            )
            await _set(
                conn,
                tenant_id,
                document_id,
                {
                    "state": "completed",
                    "result": body.result,
                    "reply_document_id": body.reply_document_id,
                    "completed_at": dt.datetime.now(dt.UTC),
                },
            )
            await chain.append(
                conn,
                tenant_id,
                principal,
                "incoming.completed",
                "document",
                document_id,
                {
                    "result": body.result,
                    "reply_document_id": str(body.reply_document_id)
                    if body.reply_document_id
                    else None,
                },
            )
            await self._status(conn, tenant_id, row, "completed")
            return await self._card(conn, tenant_id, principal, document_id)

    # -- reading ------------------------------------------------------------------------------

    async def card(
        self, tenant_id: uuid.UUID, principal: Principal, document_id: uuid.UUID
    ) -> DocumentCard:
        async with self.db.transaction(tenant_id, read_only=True) as conn:
            return await self._card(conn, tenant_id, principal, document_id)

    async def _card(
        self,
        conn: AsyncConnection,
        tenant_id: uuid.UUID,
        principal: Principal,
        document_id: uuid.UUID,
    ) -> DocumentCard:
        row = await self._fetch(conn, tenant_id, principal, document_id)
        files = (
            await conn.execute(
                select(document_file).where(
                    document_file.c.tenant_id == tenant_id,
                    document_file.c.document_id == document_id,
                )
            )
        ).all()
        assignments = (
            await conn.execute(
                select(assignment)
                .where(
                    assignment.c.tenant_id == tenant_id,
                    assignment.c.document_id == document_id,
                )
                .order_by(assignment.c.assigned_at, assignment.c.id)
            )
        ).all()
        history = (
            await conn.execute(
                select(audit_entry)
                .where(
                    audit_entry.c.tenant_id == tenant_id,
                    audit_entry.c.entity_id == document_id,
                )
                .order_by(audit_entry.c.seq)
            )
        ).all()
        summary = _summary(row, today())
        changes = await changes_of(conn, tenant_id, document_id)
        checks = await reports.checks_of(conn, tenant_id, [(f.object_id, f.sha256) for f in files])
        return DocumentCard(
            **msgspec.structs.asdict(summary),
            source=row.source,
            sender_code=row.sender_code,
            signer=row.signer,
            pages=row.pages,
            register_id=row.register_id,
            registered_at=row.registered_at,
            result=row.result,
            return_reason=row.return_reason,
            files=[
                DocumentFile(
                    object_id=f.object_id,
                    file_name=f.file_name,
                    sha256=f.sha256,
                    size=f.size,
                    role=f.role,
                    signature_check=checks.get((f.object_id, f.sha256)),
                )
                for f in files
            ],
            assignments=[_assignment_view(a) for a in assignments],
            history=[
                HistoryEntry(
                    seq=h.seq,
                    at=h.at,
                    actor=h.actor,
                    actor_name=h.actor_name,
                    acting_for=h.acting_for,
                    action=h.action,
                    data=h.data,
                )
                for h in history
            ],
            changes=changes,
            revoked=row.state == "revoked",
            replaced_by=replaced_by(document_id, changes),
        )

    async def list(
        self,
        tenant_id: uuid.UUID,
        principal: Principal,
        *,
        state: str | None = None,
        query: str | None = None,
        assigned_to_me: bool = False,
        overdue: bool = False,
        cursor: str | None = None,
        limit: int = 50,
    ) -> Page:
        on = today()
        statement, values = list_query(
            tenant_id,
            principal,
            state=state,
            query=query,
            assigned_to_me=assigned_to_me,
            overdue_on=on if overdue else None,
            cursor=cursor,
            limit=limit,
        )
        async with self.db.transaction(tenant_id, read_only=True) as conn:
            rows = await fetch_direct(conn, statement, values)
        items = [listed_summary(r, on) for r in rows[:limit]]
        next_cursor = (
            _encode_cursor(rows[limit - 1]["arrived_at"], rows[limit - 1]["id"])
            if len(rows) > limit
            else None
        )
        return Page(items=items, next_cursor=next_cursor)

    # -- helpers ------------------------------------------------------------------------------

    async def _fetch(
        self,
        conn: AsyncConnection,
        tenant_id: uuid.UUID,
        principal: Principal,
        document_id: uuid.UUID,
        *,
        for_update: bool = False,
    ) -> Any:
        mine = select(assignment.c.document_id).where(
            assignment.c.tenant_id == tenant_id, assignment.c.assignee == principal.username
        )
        statement = select(document).where(
            document.c.tenant_id == tenant_id,
            document.c.id == document_id,
            document.c.direction == INCOMING,
            visible_to(principal.username, mine),
        )
        if for_update:
            statement = statement.with_for_update(of=document)
        row = (await conn.execute(statement)).one_or_none()
        if row is None:
            raise _not_found(document_id)
        return row

    async def _assignment(
        self,
        conn: AsyncConnection,
        tenant_id: uuid.UUID,
        assignment_id: uuid.UUID,
        *,
        for_update: bool = False,
    ) -> Any:
        statement = select(assignment).where(
            assignment.c.tenant_id == tenant_id, assignment.c.id == assignment_id
        )
        if for_update:
            statement = statement.with_for_update()
        row = (await conn.execute(statement)).one_or_none()
        if row is None:
            raise NotFound(f"Không tìm thấy phân công {assignment_id}.", "No such assignment.")
        return row

    async def _open_lead(
        self, conn: AsyncConnection, tenant_id: uuid.UUID, document_id: uuid.UUID
    ) -> Any:
        return (
            await conn.execute(
                select(assignment).where(
                    assignment.c.tenant_id == tenant_id,
                    assignment.c.document_id == document_id,
                    assignment.c.role == "lead",
                    assignment.c.state == "open",
                )
            )
        ).one_or_none()

    async def _involved(
        self, conn: AsyncConnection, tenant_id: uuid.UUID, principal: Principal, row: Any
    ) -> bool:
        if principal.has_role(Role.LEADER, Role.DEPUTY_LEADER):
            return True
        found = (
            await conn.execute(
                select(func.count()).where(
                    assignment.c.tenant_id == tenant_id,
                    assignment.c.document_id == row.id,
                    assignment.c.assignee.in_(principal.usernames),
                )
            )
        ).scalar_one()
        return bool(found)

    async def _member(self, tenant_id: uuid.UUID, username: str) -> Member:
        member = await self.directory.member(tenant_id, username)
        if member is None:
            raise InvalidInput(
                f"“{username}” không làm việc tại cơ quan này.",
                f"{username!r} does not work in this agency.",
            )
        return member

    async def _add_assignment(
        self,
        conn: AsyncConnection,
        tenant_id: uuid.UUID,
        principal: Principal,
        row: Any,
        request: AssignmentRequest,
        member: Member,
        *,
        parent_id: uuid.UUID | None,
        deadline: dt.date | None = None,
    ) -> None:
        deadline = request.deadline or deadline or row.due_on
        if deadline is not None and deadline < row.arrived_at.astimezone(VIETNAM).date():
            raise InvalidInput("Hạn xử lý trước ngày đến.", "The deadline is before arrival.")
        assignment_id = uuid.uuid4()
        await conn.execute(
            insert(assignment).values(
                tenant_id=tenant_id,
                id=assignment_id,
                document_id=row.id,
                parent_id=parent_id,
                role=request.role,
                assignee=member.username,
                assignee_name=member.name,
                department=member.department,
                deadline=deadline,
                direction=request.direction,
                assigned_by=principal.username,
                state="open",
            )
        )
        await chain.append(
            conn,
            tenant_id,
            principal,
            "incoming.reassigned" if parent_id else "incoming.assigned",
            "document",
            row.id,
            {
                "assignment_id": str(assignment_id),
                "assignee": member.username,
                "assignee_name": member.name,
                "role": request.role,
                "deadline": deadline.isoformat() if deadline else None,
                "direction": request.direction,
            },
        )

    async def _status(
        self,
        conn: AsyncConnection,
        tenant_id: uuid.UUID,
        row: Any,
        status: str,
        *,
        reason: str | None = None,
    ) -> None:
        await publish(
            conn,
            outbox,
            tenant_id,
            STATUS_TOPIC,
            {
                "document_id": str(row.id),
                "status": status,
                "delivery_id": str(row.delivery_id) if row.delivery_id else None,
                "edxml_document_id": row.edxml_document_id,
                "sender_code": row.sender_code,
                "reason": reason,
            },
        )
