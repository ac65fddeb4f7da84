"""What waits for a person in the agency they act in: the counts on the home page and the short
lists beside them. Reads only, in one read-only transaction under the agency's row security."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.auth.principal import Principal, Role
from services.common.db import Database
from services.docs.incoming.service import ASSIGNERS, CLERKS, today
from services.docs.tables import (
    assignment,
    document,
    outgoing,
    outgoing_signature,
    outgoing_step,
)

# "Due soon": a deadline within this many calendar days (a working week).
DUE_SOON_DAYS = 7
LIST_SIZE = 20


class Counts(msgspec.Struct, kw_only=True):
    to_register: int | None = None
    to_assign: int | None = None
    to_process: int = 0
    to_review: int = 0
    to_sign: int = 0
    to_issue: int | None = None
    overdue: int = 0
    due_soon: int = 0


class WorkItem(msgspec.Struct, kw_only=True):
    document_id: uuid.UUID
    subject: str
    number_symbol: str
    sender_name: str
    role: str
    deadline: dt.date | None
    overdue: bool


class OutgoingItem(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    state: str
    doc_type: str
    subject: str
    drafter_name: str
    signer_name: str
    number_symbol: str | None
    issued_on: dt.date | None
    created_at: dt.datetime


class Worklist:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def home(
        self, tenant_id: uuid.UUID, principal: Principal
    ) -> tuple[Counts, list[WorkItem]]:
        """The home page's counts and list in one transaction: the most visited page."""
        async with self.db.transaction(tenant_id, read_only=True) as conn:
            counts = await self._counts(conn, tenant_id, principal)
            work = await self._my_work(conn, tenant_id, principal)
        return counts, work

    async def _counts(
        self, conn: AsyncConnection, tenant_id: uuid.UUID, principal: Principal
    ) -> Counts:
        """Every count in one statement (one round trip)."""
        on = today()
        me = principal.username
        mine_open = sa.and_(
            assignment.c.tenant_id == tenant_id,
            assignment.c.assignee == me,
            assignment.c.state == "open",
            assignment.c.role != "inform",
        )

        def assignments(*where: Any) -> Any:
            return sa.select(sa.func.count()).select_from(assignment).where(mine_open, *where)

        def outgoing_count(*where: Any) -> Any:
            return (
                sa.select(sa.func.count())
                .select_from(outgoing)
                .where(outgoing.c.tenant_id == tenant_id, *where)
            )

        # A draft the competent person signed waits for the clerk's number and seal; any new
        # version after that signature is refused, so one leader signature settles it.
        leader_signed = sa.exists().where(
            outgoing_signature.c.tenant_id == outgoing.c.tenant_id,
            outgoing_signature.c.outgoing_id == outgoing.c.id,
            outgoing_signature.c.kind == "leader",
        )
        parts: dict[str, Any] = {
            "to_process": assignments(),
            "overdue": assignments(assignment.c.deadline < on),
            "due_soon": assignments(
                assignment.c.deadline >= on,
                assignment.c.deadline <= on + dt.timedelta(days=DUE_SOON_DAYS),
            ),
            "to_review": sa.select(sa.func.count())
            .select_from(outgoing_step.join(outgoing, _step_of_outgoing()))
            .where(
                outgoing_step.c.tenant_id == tenant_id,
                outgoing_step.c.assignee == me,
                outgoing_step.c.state == "pending",
                outgoing.c.state == "in_review",
            ),
            "to_sign": outgoing_count(
                outgoing.c.signer == me,
                outgoing.c.state.in_(("in_review", "approved")),
                ~leader_signed,
            ),
        }
        if principal.has_role(*CLERKS):
            parts["to_register"] = _documents(tenant_id).where(document.c.state == "waiting")
            parts["to_issue"] = outgoing_count(outgoing.c.state == "approved", leader_signed)
        if principal.has_role(*ASSIGNERS):
            parts["to_assign"] = _documents(tenant_id).where(document.c.state == "registered")
        statement = sa.select(
            *(query.scalar_subquery().label(name) for name, query in parts.items())
        )
        row = (await conn.execute(statement)).one()
        return Counts(**{name: int(value) for name, value in row._mapping.items()})

    async def _my_work(
        self, conn: AsyncConnection, tenant_id: uuid.UUID, principal: Principal
    ) -> list[WorkItem]:
        on = today()
        statement = (
            sa.select(
                document.c.id,
                document.c.subject,
                document.c.number_symbol,
                document.c.sender_name,
                assignment.c.role,
                assignment.c.deadline,
            )
            .select_from(
                assignment.join(
                    document,
                    (document.c.tenant_id == assignment.c.tenant_id)
                    & (document.c.id == assignment.c.document_id),
                )
            )
            .where(
                assignment.c.tenant_id == tenant_id,
                assignment.c.assignee == principal.username,
                assignment.c.state == "open",
            )
            .order_by(assignment.c.deadline.asc().nulls_last(), assignment.c.assigned_at)
            .limit(LIST_SIZE)
        )
        rows = (await conn.execute(statement)).all()
        return [
            WorkItem(
                document_id=r.id,
                subject=r.subject,
                number_symbol=r.number_symbol,
                sender_name=r.sender_name,
                role=r.role,
                deadline=r.deadline,
                overdue=r.deadline is not None and r.deadline < on,
            )
            for r in rows
        ]

    async def outgoing(
        self,
        tenant_id: uuid.UUID,
        principal: Principal,
        *,
        state: str | None = None,
        before: dt.datetime | None = None,
        limit: int = 50,
    ) -> list[OutgoingItem]:
        """The agency's outgoing documents, newest first. Drafts are seen by the people working
        on them (drafter, signer, reviewers) and by clerks and leaders; issued ones by all."""
        statement = sa.select(
            outgoing.c.id,
            outgoing.c.state,
            outgoing.c.doc_type,
            outgoing.c.subject,
            outgoing.c.drafter_name,
            outgoing.c.signer_name,
            outgoing.c.number_symbol,
            outgoing.c.issued_on,
            outgoing.c.created_at,
        ).where(outgoing.c.tenant_id == tenant_id)
        if not principal.has_role(Role.CLERK, Role.LEADER, Role.DEPUTY_LEADER):
            me = principal.username
            reviewing = sa.exists().where(
                outgoing_step.c.tenant_id == outgoing.c.tenant_id,
                outgoing_step.c.outgoing_id == outgoing.c.id,
                outgoing_step.c.assignee == me,
            )
            statement = statement.where(
                (outgoing.c.state == "issued")
                | (outgoing.c.drafter == me)
                | (outgoing.c.signer == me)
                | reviewing
            )
        if state:
            statement = statement.where(outgoing.c.state == state)
        if before is not None:
            statement = statement.where(outgoing.c.created_at < before)
        statement = statement.order_by(outgoing.c.created_at.desc()).limit(limit)
        async with self.db.transaction(tenant_id, read_only=True) as conn:
            rows = (await conn.execute(statement)).all()
        return [OutgoingItem(**r._mapping) for r in rows]


def _documents(tenant_id: uuid.UUID) -> Any:
    return (
        sa.select(sa.func.count())
        .select_from(document)
        .where(document.c.tenant_id == tenant_id, document.c.direction == "incoming")
    )


def _step_of_outgoing() -> Any:
    return (outgoing.c.tenant_id == outgoing_step.c.tenant_id) & (
        outgoing.c.id == outgoing_step.c.outgoing_id
    )
