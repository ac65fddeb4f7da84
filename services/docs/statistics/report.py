"""The monthly report as content (headings, tables, chart series), laid out by `report_xlsx`
and `report_pdf` alike, so both files always say the same thing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from services.docs.statistics import months as month_math
from services.docs.statistics.labels import Locale, month_label, text
from services.docs.statistics.schemas import Figures, Row, Statistics

# A cell: a count, a share (a fraction shown as a percentage), a number of days, or text.
Cell = int | float | str | None


@dataclass(frozen=True)
class Column:
    title: str
    kind: str = "count"  # count | share | days | text


@dataclass
class Table:
    title: str
    columns: list[Column]
    rows: list[list[Cell]]
    # Per row: how far to indent the first cell (an agency's depth in the tree).
    indents: list[int] = field(default_factory=list)
    # Per row: whether it is a heading line (bold) rather than a detail line.
    strong: list[bool] = field(default_factory=list)


@dataclass(frozen=True)
class Chart:
    title: str
    categories: list[str]
    series: list[tuple[str, list[int]]]
    # The month table's columns (0-based) that hold the series, for a workbook to point at.
    columns: tuple[int, ...]


@dataclass
class Report:
    locale: Locale
    agency_name: str
    title: str
    period: str
    scope: str
    made_on: str
    summary: Table
    monthly: Table
    breakdown: Table | None
    charts: list[Chart]
    notes: list[str]
    file_stem: str


def build(statistics: Statistics, locale: Locale, made_on: dt.date) -> Report:
    first = month_math.parse(statistics.from_month)
    last = month_math.parse(statistics.to_month)
    if first == last:
        period = text("month", locale, month=month_label(first))
    else:
        period = text("months", locale, first=month_label(first), last=month_label(last))
    agency = statistics.agency
    if statistics.scope == "tree":
        scope = text("scope_tree", locale, name=agency.name, count=len(statistics.rows))
    else:
        scope = text("scope_own", locale, name=agency.name)
    months = [m.month for m in statistics.months]
    categories = [month_label(month_math.parse(m)) for m in months]
    docs = [m.documents for m in statistics.months]
    handling = [m.handling for m in statistics.months]
    charts = [
        Chart(
            text("chart_received", locale),
            categories,
            [
                (text("col_electronic", locale), [d.received_electronic if d else 0 for d in docs]),
                (text("col_paper", locale), [d.received_paper if d else 0 for d in docs]),
            ],
            (2, 3),
        ),
        Chart(
            text("chart_sent", locale),
            categories,
            [
                (
                    text("col_sent_electronic", locale),
                    [d.sent_electronic if d else 0 for d in docs],
                ),
                (text("col_sent_paper", locale), [d.sent_paper if d else 0 for d in docs]),
            ],
            (5, 6),
        ),
        Chart(
            text("chart_handling", locale),
            categories,
            [
                (text("col_on_time", locale), [h.completed_on_time for h in handling]),
                (text("col_late", locale), [h.completed_late for h in handling]),
            ],
            (10, 11),
        ),
    ]
    notes = [text("note_processing", locale), text("note_counts", locale)]
    breakdown = _breakdown(statistics, locale)
    if statistics.scope == "tree":
        notes.insert(0, text("note_tree", locale))
    return Report(
        locale=locale,
        agency_name=agency.name.upper(),
        title=text("title", locale),
        period=period,
        scope=scope,
        made_on=text("made_on", locale, day=f"{made_on:%d/%m/%Y}"),
        summary=_summary(statistics.total, locale),
        monthly=_monthly(statistics, categories, locale),
        breakdown=breakdown,
        charts=charts,
        notes=notes,
        file_stem=f"bao-cao-thong-ke-{statistics.from_month}"
        + ("" if first == last else f"-{statistics.to_month}"),
    )


def _summary(total: Figures, locale: Locale) -> Table:
    d, h = total.documents, total.handling
    assert d is not None  # the total always has the agency's documents
    lines: list[tuple[str, Cell, Cell, bool]] = [
        ("received", d.received, None, True),
        ("received_electronic", d.received_electronic, d.received_electronic_share, False),
        ("received_paper", d.received_paper, _share(d.received_paper, d.received), False),
        ("received_signed", d.received_signed, d.received_signed_share, False),
        ("sent", d.sent, None, True),
        ("sent_electronic", d.sent_electronic, d.sent_electronic_share, False),
        ("sent_paper", d.sent_paper, _share(d.sent_paper, d.sent), False),
        ("sent_signed", d.sent_signed, d.sent_signed_share, False),
        ("recipients_electronic", d.recipients_electronic, None, True),
        ("recipients_axis", d.recipients_axis, d.axis_share, False),
        ("recipients_paper", d.recipients_paper, None, True),
        ("completed", h.completed, None, True),
        ("on_time", h.completed_on_time, h.on_time_share, False),
        ("late", h.completed_late, _share(h.completed_late, h.completed), False),
        ("open_at_end", h.open_at_end, None, True),
        ("overdue_at_end", h.overdue_at_end, _share(h.overdue_at_end, h.open_at_end), False),
        ("documents_completed", h.documents_completed, None, True),
        ("average", h.processing_days_average, None, True),
        ("median", h.processing_days_median, None, True),
    ]
    return Table(
        title=text("summary", locale),
        columns=[
            Column(text("indicator", locale), "text"),
            Column(text("count", locale), "days"),
            Column(text("share", locale), "share"),
        ],
        rows=[[text(key, locale), value, ratio] for key, value, ratio, _ in lines],
        indents=[0 if strong else 1 for *_, strong in lines],
        strong=[strong for *_, strong in lines],
    )


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _figure_columns(locale: Locale, *, documents: bool) -> list[Column]:
    columns = []
    if documents:
        columns += [
            Column(text("col_received", locale)),
            Column(text("col_electronic_share", locale), "share"),
            Column(text("col_sent", locale)),
            Column(text("col_sent_electronic_share", locale), "share"),
            Column(text("col_signed_share", locale), "share"),
            Column(text("col_axis_share", locale), "share"),
        ]
    columns += [
        Column(text("col_completed", locale)),
        Column(text("col_on_time", locale)),
        Column(text("col_late", locale)),
        Column(text("col_open", locale)),
        Column(text("col_overdue", locale)),
        Column(text("col_average", locale), "days"),
        Column(text("col_median", locale), "days"),
    ]
    return columns


def _figure_cells(f: Figures) -> list[Cell]:
    cells: list[Cell] = []
    if f.documents is not None:
        d = f.documents
        cells += [d.received, d.received_electronic_share, d.sent, d.sent_electronic_share]
        cells += [d.sent_signed_share, d.axis_share]
    h = f.handling
    cells += [
        h.completed,
        h.completed_on_time,
        h.completed_late,
        h.open_at_end,
        h.overdue_at_end,
        h.processing_days_average,
        h.processing_days_median,
    ]
    return cells


def _monthly(statistics: Statistics, categories: list[str], locale: Locale) -> Table:
    columns = [
        Column(text("col_month", locale), "text"),
        Column(text("col_received", locale)),
        Column(text("col_electronic", locale)),
        Column(text("col_paper", locale)),
        Column(text("col_sent", locale)),
        Column(text("col_sent_electronic", locale)),
        Column(text("col_sent_paper", locale)),
        Column(text("col_signed_share", locale), "share"),
        Column(text("col_axis_share", locale), "share"),
        Column(text("col_completed", locale)),
        Column(text("col_on_time", locale)),
        Column(text("col_late", locale)),
        Column(text("col_overdue", locale)),
        Column(text("col_average", locale), "days"),
    ]
    rows: list[list[Cell]] = []
    for label, month in zip(categories, statistics.months, strict=True):
        d, h = month.documents, month.handling
        assert d is not None
        rows.append(
            [
                label,
                d.received,
                d.received_electronic,
                d.received_paper,
                d.sent,
                d.sent_electronic,
                d.sent_paper,
                d.sent_signed_share,
                d.axis_share,
                h.completed,
                h.completed_on_time,
                h.completed_late,
                h.overdue_at_end,
                h.processing_days_average,
            ]
        )
    return Table(text("by_month", locale), columns, rows)


def _breakdown(statistics: Statistics, locale: Locale) -> Table | None:
    if statistics.group == "agency" and statistics.scope == "own":
        return None
    if statistics.group == "agency":
        columns = [
            Column(text("col_agency", locale), "text"),
            *_figure_columns(locale, documents=True),
        ]
        rows = [[_agency_name(r), *_figure_cells(r.subtree or r.total)] for r in statistics.rows]
        indents = [r.agency.depth if r.agency else 0 for r in statistics.rows]
        return Table(text("by_agency", locale), columns, rows, indents)
    first: list[Column] = [Column(text("col_department", locale), "text")]
    if statistics.group == "person":
        first.append(Column(text("col_person", locale), "text"))
    columns = [*first, *_figure_columns(locale, documents=False)]
    rows = []
    for r in statistics.rows:
        cells = _figure_cells(r.total)
        named: list[Cell] = [r.department or text("no_department", locale)]
        if r.person is not None:
            named.append(r.person.name)
        rows.append([*named, *cells])
    title = "by_person" if statistics.group == "person" else "by_department"
    return Table(text(title, locale), columns, rows)


def _agency_name(row: Row) -> str:
    return row.agency.name if row.agency else ""
