"""Calls of the statistics functions of migration docs_0010 (ADR 0018), typed.

The functions read each given agency under its own row-level security and return counts only;
which agencies to pass is the service's decision (`scope.py`), never a request's."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection

from services.docs.calendar.workdays import WorkCalendar

By = Literal["agency", "department", "person"]

# Processing times are counted from registration; a document registered before this window
# (ten years before the period) is counted from the window's first day.
WORKDAY_WINDOW_DAYS = 3653

_DOCUMENTS = sa.text(
    "SELECT * FROM docs.statistics_documents(:agencies, :first, :last, :platform_codes)"
).bindparams(
    sa.bindparam("agencies", type_=ARRAY(sa.Uuid)),
    sa.bindparam("first", type_=sa.Date),
    sa.bindparam("last", type_=sa.Date),
    sa.bindparam("platform_codes", type_=ARRAY(sa.Text)),
)

_HANDLING = sa.text(
    "SELECT * FROM docs.statistics_handling("
    ":agencies, :first, :last, :by, :today, :first_day, :workdays)"
).bindparams(
    sa.bindparam("agencies", type_=ARRAY(sa.Uuid)),
    sa.bindparam("first", type_=sa.Date),
    sa.bindparam("last", type_=sa.Date),
    sa.bindparam("by", type_=sa.Text),
    sa.bindparam("today", type_=sa.Date),
    sa.bindparam("first_day", type_=sa.Date),
    sa.bindparam("workdays", type_=ARRAY(sa.Integer)),
)


@dataclass(frozen=True)
class DocumentRecord:
    agency_id: uuid.UUID
    month: dt.date
    received_electronic: int
    received_paper: int
    sent_electronic: int
    sent_paper: int
    sent_signed: int
    recipients_electronic: int
    recipients_paper: int
    recipients_axis: int


@dataclass(frozen=True)
class HandlingRecord:
    agency_id: uuid.UUID
    month: dt.date
    department: str
    assignee: str
    assignee_name: str
    completed: int
    completed_late: int
    open_at_end: int
    overdue_at_end: int
    processing_days: int | None
    processed: int


@dataclass(frozen=True)
class WorkdayIndex:
    """`counts[i]`: the working days after `first_day` up to and including `first_day + i`."""

    first_day: dt.date
    counts: list[int]


def workday_index(calendar: WorkCalendar, last_day: dt.date, days: int) -> WorkdayIndex:
    """The index over the `days` days up to `last_day`, from the one working-day calendar
    (services/docs/calendar), so that the database does not restate its rules."""
    first_day = last_day - dt.timedelta(days=days)
    counts = [0]
    day = first_day
    for _ in range(days):
        day += dt.timedelta(days=1)
        counts.append(counts[-1] + (1 if calendar.is_working_day(day) else 0))
    return WorkdayIndex(first_day, counts)


async def document_records(
    conn: AsyncConnection,
    agencies: Sequence[uuid.UUID],
    first: dt.date,
    last: dt.date,
    platform_codes: Sequence[str],
) -> list[DocumentRecord]:
    result = await conn.execute(
        _DOCUMENTS,
        {
            "agencies": list(agencies),
            "first": first,
            "last": last,
            "platform_codes": list(platform_codes),
        },
    )
    return [DocumentRecord(**row._mapping) for row in result]


async def handling_records(
    conn: AsyncConnection,
    agencies: Sequence[uuid.UUID],
    first: dt.date,
    last: dt.date,
    by: By,
    today: dt.date,
    index: WorkdayIndex,
) -> list[HandlingRecord]:
    result = await conn.execute(
        _HANDLING,
        {
            "agencies": list(agencies),
            "first": first,
            "last": last,
            "by": by,
            "today": today,
            "first_day": index.first_day,
            "workdays": index.counts,
        },
    )
    return [HandlingRecord(**row._mapping) for row in result]
