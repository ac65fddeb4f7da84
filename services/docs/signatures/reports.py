"""Signature validation reports stored with the document (issue 6: every signature's integrity,
signer, chain, revocation, timestamp and coverage, "and a report (JSON and a readable summary in
Vietnamese) stored with the document").

A file is validated once per content: the worker checks the PDFs of an incoming document after
it gets its files (a paper reception with its scan, an electronic arrival) and each signed file
of our own outgoing documents after the signature is recorded. The report is kept per (agency,
object, sha256) with its verdict and its Vietnamese summary, and the check is written into the
document's history. "Check again" validates anew, since trust and revocation change with time,
and replaces the report.

Jobs are asked for after the document's transaction commits (from an event handler, a moment
later), so one can be lost between the commit and the queue. The files themselves, written in
the document's transaction, are the record of what is to be checked: the worker's sweep
(`unchecked`) finds recent files that still have no report and asks again."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import msgspec
from saq import Queue
from sqlalchemy import exists, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.auth.principal import Principal
from services.common.db import Database
from services.common.problems import InvalidInput, NotFound
from services.common.worker import enqueue
from services.docs.audit import chain
from services.docs.files.listed import CardFile
from services.docs.signatures.desk import SignedFiles
from services.docs.signatures.schemas import SignatureCheck, StoredReport
from services.docs.signatures.trust import Signers
from services.docs.signing.errors import PdfCorrupt, PdfEncrypted
from services.docs.signing.validation import (
    ValidationReport,
    summary_vi,
    unreadable_report,
    validate_pdf,
)
from services.docs.tables import document, document_file, outgoing_signature, signature_report

SYSTEM = Principal(
    subject="qlvb-docs", username="service-account-qlvb-docs", name="Hệ thống kiểm tra chữ ký số"
)
# A signed PDF is read whole to be validated; scans of hundreds of pages stay well below this.
MAX_PDF_BYTES = 200 << 20
# The files a sender signs; the OCR copy is derived here, and unsigned by design.
CHECKED_ROLES = ("main", "attachment")
INCOMING_JOB = "check_incoming_signatures"
OUTGOING_JOB = "check_outgoing_signatures"
# A job asked for inside a transaction (an event handler) runs a moment later, after the commit.
KICK_DELAY_SECONDS = 2
# The sweep looks back this far: a file still unchecked after that has failed every retry of
# every sweep, and waits for someone to check it by hand.
SWEEP_WINDOW = dt.timedelta(days=2)
SWEEP_LIMIT = 500


class NotCheckedYet(NotFound):
    code = "signatures-not-checked"
    title_vi = "Chưa có báo cáo kiểm tra chữ ký số"
    title_en = "No signature validation report yet"


def is_pdf(file_name: str) -> bool:
    return file_name.lower().endswith(".pdf")


def require_pdf(file: CardFile) -> None:
    if not is_pdf(file.file_name):
        raise InvalidInput(
            "Chỉ kiểm tra được chữ ký số trên tệp PDF.", "Only PDF signatures can be checked."
        )


@dataclass(frozen=True)
class Target:
    """The document a file belongs to: an incoming one or an outgoing one."""

    kind: Literal["incoming", "outgoing"]
    id: uuid.UUID

    @property
    def columns(self) -> dict[str, uuid.UUID | None]:
        incoming = self.kind == "incoming"
        return {
            "document_id": self.id if incoming else None,
            "outgoing_id": None if incoming else self.id,
        }

    @property
    def entity(self) -> str:
        return "document" if self.kind == "incoming" else "outgoing"


def _stored(row: Any) -> StoredReport:
    return StoredReport(
        object_id=row.object_id,
        sha256=row.sha256,
        file_name=row.file_name,
        document_id=row.document_id,
        outgoing_id=row.outgoing_id,
        checked_at=row.checked_at,
        checked_by=row.checked_by,
        verdict=row.verdict,
        signatures=row.signatures,
        summary_vi=row.summary_vi,
        report=msgspec.convert(row.report, ValidationReport, strict=False),
    )


async def stored(
    conn: AsyncConnection, tenant_id: uuid.UUID, object_id: uuid.UUID, sha256: str
) -> StoredReport | None:
    """The report stored for exactly these bytes, if any."""
    row = (
        await conn.execute(
            select(signature_report).where(
                signature_report.c.tenant_id == tenant_id,
                signature_report.c.object_id == object_id,
                signature_report.c.sha256 == sha256,
            )
        )
    ).one_or_none()
    return _stored(row) if row is not None else None


async def checks_of(
    conn: AsyncConnection, tenant_id: uuid.UUID, files: list[tuple[uuid.UUID, str]]
) -> dict[tuple[uuid.UUID, str], SignatureCheck]:
    """The stored verdicts of a card's files, by (object id, sha256), in one query."""
    if not files:
        return {}
    rows = await conn.execute(
        select(
            signature_report.c.object_id,
            signature_report.c.sha256,
            signature_report.c.verdict,
            signature_report.c.checked_at,
            signature_report.c.signatures,
        ).where(
            signature_report.c.tenant_id == tenant_id,
            signature_report.c.object_id.in_([object_id for object_id, _ in files]),
        )
    )
    wanted = set(files)
    return {
        (row.object_id, row.sha256): SignatureCheck(
            verdict=row.verdict, checked_at=row.checked_at, signatures=row.signatures
        )
        for row in rows
        if (row.object_id, row.sha256) in wanted
    }


def _unchecked(table: Any) -> Any:
    return ~exists().where(
        signature_report.c.tenant_id == table.c.tenant_id,
        signature_report.c.object_id == table.c.object_id,
        signature_report.c.sha256 == table.c.sha256,
    )


class SignatureReports:
    """Validates a document's files against the agency's trust store and stores the reports."""

    def __init__(self, db: Database, files: SignedFiles, signers: Signers) -> None:
        self.db = db
        self.files = files
        self.signers = signers

    async def report(self, tenant_id: uuid.UUID, file: CardFile) -> StoredReport:
        """The report stored for the file's bytes; refused while there is none."""
        require_pdf(file)
        async with self.db.transaction(tenant_id, read_only=True) as conn:
            found = await stored(conn, tenant_id, file.object_id, file.sha256)
        if found is None:
            raise NotCheckedYet(
                "Tệp này chưa được kiểm tra chữ ký số; hãy thử lại sau ít phút, hoặc yêu cầu "
                "kiểm tra ngay.",
                "This file's signatures were not checked yet; try again in a few minutes, or "
                "ask for a check now.",
            )
        return found

    async def validate(self, tenant_id: uuid.UUID, file: CardFile) -> ValidationReport:
        if file.size is not None and file.size > MAX_PDF_BYTES:
            return unreadable_report(file.sha256, "too-large")
        data = await self.files.read(tenant_id, file.object_id, file.sha256, MAX_PDF_BYTES)
        async with self.db.transaction(tenant_id, read_only=True) as conn:
            trust = await self.signers.trust(conn, tenant_id)
        try:
            # Without trusted roots nothing can be confirmed, and the CAs are not worth asking.
            return await validate_pdf(data, trust, allow_fetching=bool(trust.roots))
        except PdfEncrypted:
            return unreadable_report(file.sha256, "encrypted")
        except PdfCorrupt:
            return unreadable_report(file.sha256, "corrupt")

    async def check(
        self,
        tenant_id: uuid.UUID,
        principal: Principal,
        target: Target,
        file: CardFile,
        *,
        again: bool,
    ) -> StoredReport:
        """Validate the file and store its report. The first report of a content is kept when
        two checks race, unless `again` (a person asked to check anew): then it is replaced.
        Each stored report is one entry of the document's history."""
        require_pdf(file)
        report = await self.validate(tenant_id, file)
        values: dict[str, Any] = {
            "file_name": file.file_name[:255],
            "checked_at": report.validated_at,
            "checked_by": principal.username[:64],
            "verdict": report.verdict.value,
            "signatures": len(report.signatures),
            "report": msgspec.to_builtins(report),
            "summary_vi": summary_vi(report),
            **target.columns,
        }
        keys = {"tenant_id": tenant_id, "object_id": file.object_id, "sha256": file.sha256}
        statement = insert(signature_report).values(**keys, **values)
        if again:
            statement = statement.on_conflict_do_update(index_elements=list(keys), set_=values)
        else:
            statement = statement.on_conflict_do_nothing()
        async with self.db.transaction(tenant_id) as conn:
            written = (
                await conn.execute(statement.returning(signature_report.c.object_id))
            ).first() is not None
            if written:
                await chain.append(
                    conn,
                    tenant_id,
                    principal,
                    f"{target.kind}.signatures_checked",
                    target.entity,
                    target.id,
                    {
                        "object_id": str(file.object_id),
                        "file_name": file.file_name,
                        "sha256": file.sha256,
                        "verdict": report.verdict.value,
                        "signatures": len(report.signatures),
                    },
                )
            kept = await stored(conn, tenant_id, file.object_id, file.sha256)
        assert kept is not None  # just written, or written by the check that won the race
        return kept

    async def _check_all(self, tenant_id: uuid.UUID, target: Target, rows: Sequence[Any]) -> int:
        todo = [CardFile(r.object_id, r.sha256, r.file_name, r.size) for r in rows]
        for file in todo:
            await self.check(tenant_id, SYSTEM, target, file, again=False)
        return len(todo)

    async def check_incoming(self, tenant_id: uuid.UUID, document_id: uuid.UUID) -> int:
        """The worker's job: every PDF of the document without a report; how many were
        checked (0 as well for a document that is not, or not yet, there)."""
        f = document_file
        async with self.db.transaction(tenant_id, read_only=True) as conn:
            rows = (
                await conn.execute(
                    select(f.c.object_id, f.c.sha256, f.c.file_name, f.c.size)
                    .where(
                        f.c.tenant_id == tenant_id,
                        f.c.document_id == document_id,
                        f.c.role.in_(CHECKED_ROLES),
                        _unchecked(f),
                    )
                    .order_by(f.c.file_name, f.c.object_id)
                )
            ).all()
        pdfs = [r for r in rows if is_pdf(r.file_name)]
        return await self._check_all(tenant_id, Target("incoming", document_id), pdfs)

    async def check_outgoing(self, tenant_id: uuid.UUID, outgoing_id: uuid.UUID) -> int:
        """The worker's job: the file each recorded signature produced, without a report."""
        s = outgoing_signature
        async with self.db.transaction(tenant_id, read_only=True) as conn:
            rows = (
                await conn.execute(
                    select(s.c.object_id, s.c.sha256, s.c.file_name, s.c.size)
                    .where(
                        s.c.tenant_id == tenant_id, s.c.outgoing_id == outgoing_id, _unchecked(s)
                    )
                    .order_by(s.c.created_at)
                )
            ).all()
        return await self._check_all(tenant_id, Target("outgoing", outgoing_id), rows)


async def enqueue_check(
    queue: Queue, job: str, tenant_id: uuid.UUID, target_id: uuid.UUID, *, delay: int = 0
) -> None:
    """Ask the worker to check a document's files. One job per document is queued at a time
    (its key); a document whose job is already waiting is checked by that one."""
    await enqueue(
        queue,
        job,
        tenant=str(tenant_id),
        target=str(target_id),
        key=f"{job}:{tenant_id}:{target_id}",
        scheduled=int(time.time()) + delay if delay else 0,
    )


async def unchecked(
    maintenance: Database, *, window: dt.timedelta = SWEEP_WINDOW, limit: int = SWEEP_LIMIT
) -> list[tuple[str, uuid.UUID, uuid.UUID]]:
    """Across agencies (the relay role reads past RLS): the documents written within `window`
    with a file that has no report yet, as (job, agency, document)."""
    since = dt.datetime.now(dt.UTC) - window
    f, s = document_file, outgoing_signature
    async with maintenance.transaction(None, read_only=True) as conn:
        incoming = (
            await conn.execute(
                select(f.c.tenant_id, f.c.document_id)
                .distinct()
                .join(
                    document,
                    (document.c.tenant_id == f.c.tenant_id) & (document.c.id == f.c.document_id),
                )
                .where(
                    document.c.created_at >= since,
                    f.c.role.in_(CHECKED_ROLES),
                    func.lower(f.c.file_name).like("%.pdf"),
                    _unchecked(f),
                )
                .limit(limit)
            )
        ).all()
        outgoing = (
            await conn.execute(
                select(s.c.tenant_id, s.c.outgoing_id)
                .distinct()
                .where(s.c.created_at >= since, _unchecked(s))
                .limit(limit)
            )
        ).all()
    return [(INCOMING_JOB, t, d) for t, d in incoming] + [(OUTGOING_JOB, t, o) for t, o in outgoing]
