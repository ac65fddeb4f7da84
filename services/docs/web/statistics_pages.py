"""The statistics dashboard: figures per month and per unit with bar charts drawn on the server,
and the monthly report to download as XLSX or PDF.

Everything goes through `StatisticsService` with the viewer's own principal, and the reports
through the same builders as the API (`statistics/report*.py`), so a page shows exactly what
the API would give the same person: the same scope rules, the same numbers."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import uuid
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.response import Template

from services.common.problems import Forbidden, InvalidInput
from services.docs.incoming.service import today
from services.docs.statistics import months, report, report_pdf, report_xlsx
from services.docs.statistics.labels import Locale, number, percent
from services.docs.statistics.schemas import Group, Row, Scope, Statistics
from services.docs.statistics.scope import READERS, TREE_READERS
from services.docs.statistics.service import StatisticsService
from services.docs.web import charts
from services.docs.web.auth import Viewer
from services.docs.web.downloads import DownloadToken, file_response
from services.docs.web.frame import page
from services.docs.web.i18n import Translator

SCOPES: tuple[Scope, ...] = ("own", "tree")
GROUPS: tuple[Group, ...] = ("agency", "department", "person")
# A dashboard opens on the last half year: a trend, at a cost a province can wait for.
DEFAULT_MONTHS = 6
# A unit chart this long is still readable on a phone; the table below holds every row.
MAX_CHART_ROWS = 40
_MONTH = re.compile(months.PATTERN)

# Read as text and checked here, so that a wrong month comes back beside the form, not as an
# error page; `from` is a Python keyword and `scope` a reserved name of Litestar handlers.
FromMonth = Annotated[str | None, QueryParameter(name="from", max_length=7)]
ToMonth = Annotated[str | None, QueryParameter(name="to", max_length=7)]
ScopeText = Annotated[str | None, QueryParameter(name="scope", max_length=10)]
GroupText = Annotated[str | None, QueryParameter(name="group", max_length=12)]
AgencyParam = Annotated[uuid.UUID | None, QueryParameter(name="agency")]


@dataclass(frozen=True)
class Choice:
    """What the dashboard shows: the months, the scope, the breakdown, the agency."""

    first: dt.date
    last: dt.date
    scope: Scope
    group: Group
    agency: uuid.UUID | None

    def query(self, **changes: Any) -> str:
        values: dict[str, Any] = {
            "from": months.label(self.first),
            "to": months.label(self.last),
            "scope": self.scope,
            "group": self.group,
            "agency": str(self.agency) if self.agency else "",
        }
        values.update(changes)
        return urlencode({k: v for k, v in values.items() if v})


@dataclass(frozen=True)
class RowView:
    cells: list[str]
    indent: int = 0
    strong: bool = False
    link: str = ""


@dataclass(frozen=True)
class TableView:
    title: str
    columns: list[str]
    numeric: list[bool]
    rows: list[RowView]


@dataclass(frozen=True)
class Tile:
    label: str
    value: str
    note: str = ""


def _month(text: str | None, field: str) -> dt.date | None:
    if not text:
        return None
    if not _MONTH.match(text):
        raise InvalidInput(
            f"Tháng “{text}” chưa đúng dạng năm-tháng (ví dụ 2026-03).",
            f"{field} must be a month such as 2026-03.",
        )
    return months.parse(text)


def _shift(month: dt.date, back: int) -> dt.date:
    index = month.year * 12 + month.month - 1 - back
    return dt.date(index // 12, index % 12 + 1, 1)


def choice_of(
    from_month: str | None,
    to_month: str | None,
    scope: str | None,
    group: str | None,
    agency: uuid.UUID | None,
) -> Choice:
    current = today().replace(day=1)
    last = _month(to_month, "to") or current
    first = _month(from_month, "from") or (last if to_month else _shift(last, DEFAULT_MONTHS - 1))
    return Choice(
        first=first,
        last=last,
        scope="tree" if scope == "tree" else "own",
        group=next((g for g in GROUPS if g == group), "agency"),
        agency=agency,
    )


def _cell(value: report.Cell, kind: str, locale: Locale) -> str:
    if isinstance(value, str):
        return value
    if kind == "share":
        return percent(value, locale)
    if kind == "days":
        whole = value is None or float(value).is_integer()
        return number(value, locale, 0 if whole else 1)
    return number(value, locale)


def table_view(table: report.Table, locale: Locale, links: list[str] | None = None) -> TableView:
    rows = []
    for index, values in enumerate(table.rows):
        rows.append(
            RowView(
                cells=[
                    _cell(value, column.kind, locale)
                    for column, value in zip(table.columns, values, strict=True)
                ],
                indent=table.indents[index] if table.indents else 0,
                strong=table.strong[index] if table.strong else False,
                link=links[index] if links else "",
            )
        )
    return TableView(
        title=table.title,
        columns=[c.title for c in table.columns],
        numeric=[c.kind != "text" for c in table.columns],
        rows=rows,
    )


def _unit_name(row: Row, t: Translator) -> str:
    if row.agency is not None:
        return row.agency.name
    department = row.department or t("no_department_short")
    return f"{row.person.name} ({department})" if row.person else department


def unit_chart(
    figures: Statistics, t: Translator, number_text: charts.Number
) -> charts.SvgChart | None:
    """Per agency: documents received and sent (each with everything under it); per department
    or person: assignments completed on time and late."""
    if figures.group == "agency" and figures.scope == "own":
        return None
    rows = figures.rows
    if figures.group == "agency":
        # The agency and the units right under it; deeper levels are in the table.
        rows = [r for r in rows if r.agency is not None and r.agency.depth <= 1]
        totals = [r.subtree or r.total for r in rows[:MAX_CHART_ROWS]]
        series: charts.Series = [
            (t("received"), [f.documents.received if f.documents else 0 for f in totals]),
            (t("sent"), [f.documents.sent if f.documents else 0 for f in totals]),
        ]
        title = t("chart_by_agency")
    else:
        totals = [r.total for r in rows[:MAX_CHART_ROWS]]
        series = [
            (t("on_time"), [f.handling.completed_on_time for f in totals]),
            (t("late"), [f.handling.completed_late for f in totals]),
        ]
        title = t("chart_by_department" if figures.group == "department" else "chart_by_person")
    shown = rows[:MAX_CHART_ROWS]
    return charts.horizontal(
        "chart-units",
        title,
        [_unit_name(r, t) for r in shown],
        series,
        number_text,
        indents=[r.agency.depth if r.agency else 0 for r in shown],
    )


def tiles(figures: Statistics, t: Translator) -> list[Tile]:
    locale = t.locale
    d, h = figures.total.documents, figures.total.handling
    found: list[Tile] = []
    if d is not None:
        found += [
            Tile(
                t("received"),
                number(d.received, locale),
                f"{percent(d.received_electronic_share, locale)} {t('electronic_lower')}",
            ),
            Tile(
                t("sent"),
                number(d.sent, locale),
                f"{percent(d.sent_signed_share, locale)} {t('signed_lower')}",
            ),
            Tile(t("via_axis"), percent(d.axis_share, locale), t("of_electronic_deliveries")),
        ]
    found += [
        Tile(
            t("completed_on_time"),
            percent(h.on_time_share, locale),
            f"{number(h.completed_on_time, locale)}/{number(h.completed, locale)}",
        ),
        Tile(t("overdue_at_end"), number(h.overdue_at_end, locale), t("open_at_end_note")),
        Tile(
            t("median_days"),
            _cell(h.processing_days_median, "days", locale),
            t("working_days"),
        ),
    ]
    return found


def _require_reader(viewer: Viewer) -> None:
    if not viewer.principal.has_role(*READERS):
        raise Forbidden(
            "Thống kê dành cho lãnh đạo, trưởng phòng và văn thư cơ quan.",
            "Statistics are for the agency's leaders, department heads and clerks.",
        )


async def _figures(statistics: StatisticsService, viewer: Viewer, choice: Choice) -> Statistics:
    return await statistics.statistics(
        viewer.principal,
        viewer.tenant_id,
        first=choice.first,
        last=choice.last,
        scope=choice.scope,
        group=choice.group,
        agency=choice.agency,
    )


async def _report(
    viewer: Viewer,
    statistics: StatisticsService,
    from_month: str | None,
    to_month: str | None,
    scope: str | None,
    group: str | None,
    agency: uuid.UUID | None,
) -> report.Report:
    _require_reader(viewer)
    choice = choice_of(from_month, to_month, scope, group, agency)
    figures = await _figures(statistics, viewer, choice)
    return report.build(figures, viewer.t.locale, today())


class StatisticsPages(Controller):
    path = "/statistics"

    @get("", name="web.statistics")
    async def dashboard(
        self,
        request: Request[Any, Any, Any],
        viewer: NamedDependency[Viewer],
        statistics: NamedDependency[StatisticsService],
        from_month: FromMonth = None,
        to_month: ToMonth = None,
        statistics_scope: ScopeText = None,
        group: GroupText = None,
        agency: AgencyParam = None,
    ) -> Template:
        _require_reader(viewer)
        t = viewer.t
        form = {
            "from": from_month or "",
            "to": to_month or "",
            "scope": statistics_scope or "own",
            "group": group or "agency",
        }
        context: dict[str, Any] = {
            "form": form,
            "scopes": SCOPES if viewer.principal.has_role(*TREE_READERS) else SCOPES[:1],
            "groups": GROUPS,
            "agency": agency,
            "this_month": months.label(today()),
        }
        try:
            choice = choice_of(from_month, to_month, statistics_scope, group, agency)
            form.update({"from": months.label(choice.first), "to": months.label(choice.last)})
            figures = await _figures(statistics, viewer, choice)
        except (InvalidInput, Forbidden) as exc:
            # The form stays, with the reason beside it, so the choice can be corrected.
            return await page(
                request,
                viewer,
                "statistics.html.j2",
                status_code=exc.status,
                error=t.problem(exc.detail_vi or exc.title_vi, exc.detail_en or exc.title_en),
                **context,
            )
        locale = t.locale
        built = report.build(figures, locale, today())

        def number_text(value: float) -> str:
            return number(value, locale)

        month_charts = [
            charts.vertical(f"chart-month-{i}", c.title, c.categories, c.series, number_text)
            for i, c in enumerate(built.charts)
        ]
        links: list[str] | None = None
        if figures.group == "agency" and figures.scope == "tree":
            links = [
                ""
                if r.agency is None or r.agency.id == figures.agency.id
                else "/statistics?" + choice.query(agency=str(r.agency.id), scope="tree")
                for r in figures.rows
            ]
        return await page(
            request,
            viewer,
            "statistics.html.j2",
            figures=figures,
            built=built,
            tiles=tiles(figures, t),
            month_charts=month_charts,
            unit_chart=unit_chart(figures, t, number_text),
            summary=table_view(built.summary, locale),
            monthly=table_view(built.monthly, locale),
            breakdown=table_view(built.breakdown, locale, links) if built.breakdown else None,
            query=choice.query(),
            own_query=choice.query(agency="", scope="own")
            if agency and agency != viewer.tenant_id
            else "",
            **context,
        )

    @get("/report.xlsx", name="web.statistics.xlsx")
    async def report_xlsx(
        self,
        viewer: NamedDependency[Viewer],
        statistics: NamedDependency[StatisticsService],
        from_month: FromMonth = None,
        to_month: ToMonth = None,
        statistics_scope: ScopeText = None,
        group: GroupText = None,
        agency: AgencyParam = None,
        download: DownloadToken = None,
    ) -> Response[bytes]:
        built = await _report(
            viewer, statistics, from_month, to_month, statistics_scope, group, agency
        )
        content = await asyncio.to_thread(report_xlsx.render, built)
        return file_response(content, report_xlsx.MEDIA_TYPE, f"{built.file_stem}.xlsx", download)

    @get("/report.pdf", name="web.statistics.pdf")
    async def report_pdf(
        self,
        viewer: NamedDependency[Viewer],
        statistics: NamedDependency[StatisticsService],
        from_month: FromMonth = None,
        to_month: ToMonth = None,
        statistics_scope: ScopeText = None,
        group: GroupText = None,
        agency: AgencyParam = None,
        download: DownloadToken = None,
    ) -> Response[bytes]:
        built = await _report(
            viewer, statistics, from_month, to_month, statistics_scope, group, agency
        )
        content = await asyncio.to_thread(report_pdf.render, built)
        return file_response(content, report_pdf.MEDIA_TYPE, f"{built.file_stem}.pdf", download)
