"""The report as an Excel workbook: the summary, the months with their charts, the breakdown.

Cells hold numbers, not text, so that a provincial office can add up its units' reports; shares
are fractions formatted as percentages."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.chart import BarChart, Reference  # type: ignore[import-untyped]
from openpyxl.styles import Alignment, Font  # type: ignore[import-untyped]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]

from services.docs.statistics.labels import text
from services.docs.statistics.report import Chart, Report, Table

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_FORMATS = {"count": "#,##0", "share": "0.0%", "days": "0.00"}


def render(report: Report) -> bytes:
    workbook = Workbook()
    summary = workbook.active
    summary.title = text("sheet_summary", report.locale)
    row = _heading(summary, report)
    row = _table(summary, report.summary, row + 1)
    for note in report.notes:
        row += 1
        summary.cell(row=row, column=1, value=note).font = Font(italic=True)
    summary.column_dimensions["A"].width = 52
    summary.column_dimensions["B"].width = 14
    summary.column_dimensions["C"].width = 12

    by_month = workbook.create_sheet(text("sheet_months", report.locale))
    first_row = 1
    end = _table(by_month, report.monthly, first_row)
    header_row = first_row + 1
    anchor_row = end + 2
    for chart in report.charts:
        by_month.add_chart(
            _bar_chart(by_month, chart, header_row, len(report.monthly.rows)), f"A{anchor_row}"
        )
        anchor_row += 18
    for column in range(1, len(report.monthly.columns) + 1):
        by_month.column_dimensions[get_column_letter(column)].width = 14

    if report.breakdown is not None:
        rows = workbook.create_sheet(text("sheet_rows", report.locale))
        _table(rows, report.breakdown, 1)
        rows.column_dimensions["A"].width = 50
        for column in range(2, len(report.breakdown.columns) + 1):
            rows.column_dimensions[get_column_letter(column)].width = 14
        rows.freeze_panes = "B3"

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _heading(sheet: Any, report: Report) -> int:
    lines = [
        (report.agency_name, True),
        ("", False),
        (report.title, True),
        (report.period, False),
        (report.scope, False),
        (report.made_on, False),
    ]
    for index, (value, bold) in enumerate(lines, start=1):
        cell = sheet.cell(row=index, column=1, value=value)
        cell.font = Font(bold=bold, size=13 if bold else 11)
    return len(lines) + 1


def _table(sheet: Any, table: Table, row: int) -> int:
    """Writes the table from `row` (its title, headers, rows); the last row written."""
    sheet.cell(row=row, column=1, value=table.title).font = Font(bold=True)
    row += 1
    for column, spec in enumerate(table.columns, start=1):
        cell = sheet.cell(row=row, column=column, value=spec.title)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
    for index, values in enumerate(table.rows):
        row += 1
        strong = table.strong[index] if table.strong else False
        indent = table.indents[index] if table.indents else 0
        for column, (spec, value) in enumerate(zip(table.columns, values, strict=True), start=1):
            cell = sheet.cell(row=row, column=column, value=value)
            if spec.kind in _FORMATS and isinstance(value, int | float):
                cell.number_format = _FORMATS[spec.kind]
            if column == 1:
                cell.alignment = Alignment(indent=min(indent, 15))
            if strong:
                cell.font = Font(bold=True)
    return row


def _bar_chart(sheet: Any, chart: Chart, header_row: int, count: int) -> BarChart:
    bar = BarChart()
    bar.type = "col"
    bar.title = chart.title
    bar.height = 8
    bar.width = 18
    for column in chart.columns:
        data = Reference(sheet, min_col=column + 1, min_row=header_row, max_row=header_row + count)
        bar.add_data(data, titles_from_data=True)
    bar.set_categories(
        Reference(sheet, min_col=1, min_row=header_row + 1, max_row=header_row + count)
    )
    return bar
