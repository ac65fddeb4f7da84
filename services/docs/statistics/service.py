"""Statistics of an agency, or of an agency and the agencies under it (ADR 0018).

One read-only transaction in the caller's agency calls the two counting functions with the
agencies `scope.py` decided; everything else (roll-ups, totals, shares, medians) is arithmetic
over the counts they return."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections import defaultdict

from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.auth.principal import Principal
from services.common.db import Database
from services.docs.calendar.workdays import WorkCalendar, load_calendar
from services.docs.incoming.service import today
from services.docs.statistics import months as month_math
from services.docs.statistics.counts import (
    Counts,
    DocumentCounts,
    HandlingCounts,
    figures,
    over_months,
)
from services.docs.statistics.queries import (
    WORKDAY_WINDOW_DAYS,
    DocumentRecord,
    HandlingRecord,
    document_records,
    handling_records,
    workday_index,
)
from services.docs.statistics.schemas import (
    AgencyRef,
    Group,
    MonthFigures,
    PersonRef,
    Row,
    Scope,
    Statistics,
)
from services.docs.statistics.scope import AgencyRegistry, agencies_in_scope

CALENDAR_TTL_SECONDS = 300.0

# (agency | department | department + person) -> month -> counts
Table = dict[tuple[str, ...], dict[dt.date, Counts]]


class StatisticsService:
    def __init__(self, db: Database, registry: AgencyRegistry) -> None:
        self.db = db
        self.registry = registry
        self._calendar: tuple[float, WorkCalendar] | None = None

    async def statistics(
        self,
        principal: Principal,
        tenant_id: uuid.UUID,
        *,
        first: dt.date | None = None,
        last: dt.date | None = None,
        scope: Scope = "own",
        group: Group = "agency",
        agency: uuid.UUID | None = None,
    ) -> Statistics:
        on = today()
        last = last or on.replace(day=1)
        first = first or last
        months = month_math.checked_range(first, last, on)
        registry = await self.registry.all()
        agencies = agencies_in_scope(
            principal, tenant_id, registry, scope=scope, group=group, agency=agency
        )
        ids = [a.id for a in agencies]
        async with self.db.transaction(tenant_id, read_only=True) as conn:
            calendar = await self._work_calendar(conn)
            documents = await document_records(
                conn, ids, first, last, sorted({a.code for a in registry})
            )
            handling = await handling_records(
                conn,
                ids,
                first,
                last,
                group,
                on,
                workday_index(calendar, month_math.last_day(last), WORKDAY_WINDOW_DAYS),
            )
        by_agency = _agency_table(documents, handling if group == "agency" else [])
        if group == "agency":
            rows = _agency_rows(agencies, by_agency, months, tree=scope == "tree")
            total = _sum([by_agency.get((str(a.id),), {}) for a in agencies], months)
        else:
            table, names = _group_table(handling, group)
            rows = _group_rows(table, names, months)
            total = _sum([by_agency.get((str(agencies[0].id),), {})], months)
            # The agency's handling is the sum of its rows': each assignment is in exactly one.
            for row_months in table.values():
                for month, counts in row_months.items():
                    total[month].handling.add(counts.handling)
        return Statistics(
            from_month=month_math.label(first),
            to_month=month_math.label(last),
            scope=scope,
            group=group,
            agency=agencies[0],
            as_of=min(on, month_math.last_day(last)),
            total=figures(over_months([total[m] for m in months])),
            months=_month_figures(total, months, with_documents=True),
            rows=rows,
        )

    async def _work_calendar(self, conn: AsyncConnection) -> WorkCalendar:
        # The calendar changes a few times a year; the incoming service caches it alike.
        now = time.monotonic()
        if self._calendar is None or self._calendar[0] < now:
            self._calendar = (now + CALENDAR_TTL_SECONDS, await load_calendar(conn))
        return self._calendar[1]


def _new_months() -> defaultdict[dt.date, Counts]:
    return defaultdict(Counts)


def _agency_table(documents: list[DocumentRecord], handling: list[HandlingRecord]) -> Table:
    table: Table = defaultdict(_new_months)
    for d in documents:
        table[(str(d.agency_id),)][d.month].documents.add(
            DocumentCounts(
                received_electronic=d.received_electronic,
                received_paper=d.received_paper,
                sent_electronic=d.sent_electronic,
                sent_paper=d.sent_paper,
                sent_signed=d.sent_signed,
                recipients_electronic=d.recipients_electronic,
                recipients_paper=d.recipients_paper,
                recipients_axis=d.recipients_axis,
            )
        )
    for h in handling:
        table[(str(h.agency_id),)][h.month].handling.add(_handling_counts(h))
    return table


def _group_table(
    handling: list[HandlingRecord], group: Group
) -> tuple[Table, dict[tuple[str, ...], str]]:
    """Counts per department or per person, and the people's names."""
    table: Table = defaultdict(_new_months)
    names: dict[tuple[str, ...], str] = {}
    for h in handling:
        key = (h.department,) if group == "department" else (h.department, h.assignee)
        table[key][h.month].handling.add(_handling_counts(h))
        if h.assignee_name:
            names[key] = h.assignee_name
    return table, names


def _handling_counts(h: HandlingRecord) -> HandlingCounts:
    counts = HandlingCounts(
        completed=h.completed,
        completed_late=h.completed_late,
        open_at_end=h.open_at_end,
        overdue_at_end=h.overdue_at_end,
    )
    if h.processing_days is not None:
        counts.processing[h.processing_days] += h.processed
    return counts


def _sum(tables: list[dict[dt.date, Counts]], months: list[dt.date]) -> dict[dt.date, Counts]:
    total = {m: Counts() for m in months}
    for table in tables:
        for month, counts in table.items():
            total[month].add(counts)
    return total


def _month_figures(
    table: dict[dt.date, Counts], months: list[dt.date], *, with_documents: bool
) -> list[MonthFigures]:
    result = []
    for month in months:
        f = figures(table.get(month, Counts()), with_documents=with_documents)
        result.append(
            MonthFigures(month=month_math.label(month), documents=f.documents, handling=f.handling)
        )
    return result


def _agency_rows(
    agencies: list[AgencyRef], table: Table, months: list[dt.date], *, tree: bool
) -> list[Row]:
    # Depth-first order: an agency's subtree is the run of agencies after it that are deeper.
    rows = []
    for index, agency in enumerate(agencies):
        own = table.get((str(agency.id),), {})
        subtree = None
        if tree:
            members = [own]
            for below in agencies[index + 1 :]:
                if below.depth <= agency.depth:
                    break
                members.append(table.get((str(below.id),), {}))
            subtree = figures(over_months(list(_sum(members, months).values())))
        rows.append(
            Row(
                agency=agency,
                total=figures(over_months([own.get(m, Counts()) for m in months])),
                months=_month_figures(own, months, with_documents=True),
                subtree=subtree,
            )
        )
    return rows


def _group_rows(
    table: Table, names: dict[tuple[str, ...], str], months: list[dt.date]
) -> list[Row]:
    rows = []
    # Named departments first, in order; assignments of no department last.
    for key in sorted(table, key=lambda k: (k[0] == "", k)):
        per_month = table[key]
        rows.append(
            Row(
                department=key[0],
                person=PersonRef(username=key[1], name=names.get(key, key[1]))
                if len(key) > 1
                else None,
                total=figures(
                    over_months([per_month.get(m, Counts()) for m in months]), with_documents=False
                ),
                months=_month_figures(per_month, months, with_documents=False),
            )
        )
    return rows
