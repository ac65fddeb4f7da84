"""Reminders before and after a deadline, and escalation to whoever assigned the work.

For each open assignment with a deadline: one `due_soon` reminder when the deadline is the next
working day or today, one `overdue` reminder once it has passed, and one `escalated` notice to
the assigner after `ESCALATE_AFTER` more working days. Each is an `assignment.reminder` event
(the web interface and notification channels consume them) and is sent once, recorded in
`docs.reminder` in the same transaction.

The same pass counts each agency's overdue documents (an open assignment past its deadline) for
the `qlvb.docs.overdue` gauge: no query of its own, refreshed every run (15 minutes)."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterable
from typing import Any

from opentelemetry import metrics
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from services.common.db import Database
from services.common.outbox import publish
from services.common.telemetry import Readings
from services.docs.calendar.workdays import WorkCalendar, load_calendar
from services.docs.tables import assignment, document, outbox, reminder

logger = logging.getLogger("qlvb.docs.deadlines")

TOPIC = "assignment.reminder"
ESCALATE_AFTER = 2

# Measured every 15 minutes by whichever worker pod runs the reminders; older figures drop.
_overdue = Readings(ttl_seconds=20 * 60)
metrics.get_meter("qlvb.docs").create_observable_gauge(
    "qlvb.docs.overdue",
    callbacks=[_overdue.observe],
    unit="{document}",
    description="Documents of an agency with open work past its deadline, by agency; agencies "
    "with no open work that has a deadline are not reported.",
)


def due_kinds(calendar: WorkCalendar, deadline: dt.date, on: dt.date) -> list[str]:
    """The reminders an assignment with `deadline` is due on day `on`."""
    if deadline < on:
        late = calendar.working_days_between(deadline, on)
        return ["overdue", "escalated"] if late >= ESCALATE_AFTER else ["overdue"]
    if calendar.working_days_between(on, deadline) <= 1:
        return ["due_soon"]
    return []


async def send_reminders(maintenance: Database, on: dt.date) -> int:
    """Across all agencies (the relay role reads past RLS); returns how many were sent."""
    async with maintenance.transaction(None, read_only=True) as conn:
        calendar = await load_calendar(conn)
        rows = (
            await conn.execute(
                select(
                    assignment.c.tenant_id,
                    assignment.c.id,
                    assignment.c.document_id,
                    assignment.c.assignee,
                    assignment.c.assigned_by,
                    assignment.c.role,
                    assignment.c.deadline,
                    document.c.subject,
                    document.c.number_symbol,
                )
                .join(
                    document,
                    (document.c.tenant_id == assignment.c.tenant_id)
                    & (document.c.id == assignment.c.document_id),
                )
                .where(assignment.c.state == "open", assignment.c.deadline.is_not(None))
                .where(assignment.c.role != "inform")
            )
        ).all()
        sent_before = {
            (r.tenant_id, r.assignment_id, r.kind) for r in await conn.execute(select(reminder))
        }
    count_overdue(rows, on)
    sent = 0
    for row in rows:
        for kind in due_kinds(calendar, row.deadline, on):
            if (row.tenant_id, row.id, kind) in sent_before:
                continue
            sent += await _send(maintenance, row, kind)
    if sent:
        logger.info("deadline reminders sent", extra={"count": sent})
    return sent


def count_overdue(rows: Iterable[Any], on: dt.date) -> dict[uuid.UUID, int]:
    """Per agency with open work that has a deadline: its documents with work overdue on `on`
    (0 when none is), set on the gauge."""
    overdue: dict[uuid.UUID, set[uuid.UUID]] = {}
    for row in rows:
        documents = overdue.setdefault(row.tenant_id, set())
        if row.deadline < on:
            documents.add(row.document_id)
    counts = {tenant_id: len(documents) for tenant_id, documents in overdue.items()}
    _overdue.replace([({"tenant_id": str(t)}, n) for t, n in counts.items()], where={})
    return counts


async def _send(maintenance: Database, row: Any, kind: str) -> int:
    async with maintenance.transaction(None) as conn:
        claimed = await conn.execute(
            insert(reminder)
            .values(tenant_id=row.tenant_id, assignment_id=row.id, kind=kind)
            .on_conflict_do_nothing()
            .returning(reminder.c.kind)
        )
        if claimed.first() is None:
            return 0  # another worker sent it meanwhile
        await publish(
            conn,
            outbox,
            row.tenant_id,
            TOPIC,
            {
                "kind": kind,
                "assignment_id": str(row.id),
                "document_id": str(row.document_id),
                # Escalations go to the assigner; the others to the assignee.
                "recipient": row.assigned_by if kind == "escalated" else row.assignee,
                "deadline": row.deadline.isoformat(),
                "subject": row.subject,
                "number_symbol": row.number_symbol,
            },
        )
    return 1
