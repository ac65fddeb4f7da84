"""The report as a PDF (A4 landscape) in Liberation Serif, which has every Vietnamese letter
and the metrics of Times New Roman that NĐ 30/2020 uses for administrative documents."""

from __future__ import annotations

import io
from functools import lru_cache
from typing import Any

from reportlab.graphics.charts.barcharts import VerticalBarChart  # type: ignore[import-untyped]
from reportlab.graphics.charts.legends import Legend  # type: ignore[import-untyped]
from reportlab.graphics.shapes import Drawing, String  # type: ignore[import-untyped]
from reportlab.lib import colors  # type: ignore[import-untyped]
from reportlab.lib.enums import TA_CENTER  # type: ignore[import-untyped]
from reportlab.lib.pagesizes import A4, landscape  # type: ignore[import-untyped]
from reportlab.lib.styles import ParagraphStyle  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
from reportlab.pdfbase.ttfonts import TTFont  # type: ignore[import-untyped]
from reportlab.platypus import (  # type: ignore[import-untyped]
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from services.docs.signing.fonts import BOLD_FONT, REGULAR_FONT
from services.docs.statistics import report as content
from services.docs.statistics.labels import Locale, number, percent, text

MEDIA_TYPE = "application/pdf"
REGULAR = "QLVB-Serif"
BOLD = "QLVB-Serif-Bold"
_SERIES_COLOURS = (colors.HexColor("#1f5fa8"), colors.HexColor("#d98b1c"))


@lru_cache(maxsize=1)
def _register_fonts() -> None:
    # Registered once per process; reportlab embeds the subset each document uses.
    pdfmetrics.registerFont(TTFont(REGULAR, str(REGULAR_FONT)))
    pdfmetrics.registerFont(TTFont(BOLD, str(BOLD_FONT)))
    pdfmetrics.registerFontFamily(REGULAR, normal=REGULAR, bold=BOLD)


def _style(size: float, *, bold: bool = False, centre: bool = False) -> ParagraphStyle:
    return ParagraphStyle(
        name=f"s{size}{bold}{centre}",
        fontName=BOLD if bold else REGULAR,
        fontSize=size,
        leading=size * 1.25,
        alignment=TA_CENTER if centre else 0,
    )


def _escape(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render(report: content.Report) -> bytes:
    _register_fonts()
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=landscape(A4),
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=report.title,
        author=report.agency_name,
    )
    width = document.width
    story: list[Any] = [_heading(report, width), Spacer(1, 5 * mm)]
    story.append(Paragraph(_escape(report.title), _style(14, bold=True, centre=True)))
    for line in (report.period, report.scope, report.made_on):
        story.append(Paragraph(_escape(line), _style(11, centre=True)))
    story.append(Spacer(1, 5 * mm))
    story += _section(report.summary, report.locale, width * 0.62, size=10)
    story.append(Spacer(1, 4 * mm))
    story += _section(report.monthly, report.locale, width, size=8)
    story.append(Spacer(1, 4 * mm))
    story.append(_charts(report.charts, width))
    if report.breakdown is not None:
        story.append(Spacer(1, 4 * mm))
        story += _section(report.breakdown, report.locale, width, size=7)
    story.append(Spacer(1, 4 * mm))
    for note in report.notes:
        story.append(Paragraph("- " + _escape(note), _style(9)))
    document.build(story)
    return buffer.getvalue()


def _heading(report: content.Report, width: float) -> Table:
    left = [Paragraph(_escape(report.agency_name), _style(12, bold=True, centre=True))]
    right = [
        Paragraph(text("nation", report.locale), _style(12, bold=True, centre=True)),
        Paragraph(text("motto", report.locale), _style(12, bold=True, centre=True)),
    ]
    table = Table([[left, right]], colWidths=[width * 0.45, width * 0.55])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return table


def _cell(value: content.Cell, kind: str, locale: Locale) -> str:
    if isinstance(value, str):
        return value
    if kind == "share":
        return percent(value, locale)
    if kind == "days":
        decimals = 0 if value is None or float(value).is_integer() else 2
        return number(value, locale, decimals)
    return number(value, locale)


def _section(table: content.Table, locale: Locale, width: float, *, size: float) -> list[Any]:
    header_style = _style(size, bold=True, centre=True)
    data: list[list[Any]] = [[Paragraph(_escape(c.title), header_style) for c in table.columns]]
    for index, values in enumerate(table.rows):
        strong = table.strong[index] if table.strong else False
        indent = table.indents[index] if table.indents else 0
        row: list[Any] = []
        for column, (spec, value) in enumerate(zip(table.columns, values, strict=True)):
            written = _escape(_cell(value, spec.kind, locale))
            if column == 0:
                style = ParagraphStyle(
                    name="first", parent=_style(size, bold=strong), leftIndent=indent * 3 * mm
                )
                row.append(Paragraph(written, style))
            else:
                row.append(written)
        data.append(row)
    first = width * (0.55 if len(table.columns) <= 3 else 0.2)
    rest = (width - first) / max(1, len(table.columns) - 1)
    grid = Table(
        data, colWidths=[first] + [rest] * (len(table.columns) - 1), repeatRows=1, hAlign="LEFT"
    )
    grid.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), REGULAR, size),
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef6")),
                ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    title = Paragraph(_escape(table.title), _style(11, bold=True))
    return [title, Spacer(1, 2 * mm), grid]


def _charts(charts: list[content.Chart], width: float) -> KeepTogether:
    drawings = [_chart(chart, width / len(charts) - 4 * mm) for chart in charts]
    row = Table([drawings], colWidths=[width / len(charts)] * len(charts))
    return KeepTogether([row])


def _chart(chart: content.Chart, width: float) -> Drawing:
    height = 62 * mm
    drawing = Drawing(width, height)
    drawing.add(
        String(width / 2, height - 10, chart.title, fontName=BOLD, fontSize=9, textAnchor="middle")
    )
    bars = VerticalBarChart()
    bars.x, bars.y = 28, 38
    bars.width, bars.height = width - 40, height - 62
    bars.data = [values for _, values in chart.series] or [[0]]
    bars.categoryAxis.categoryNames = chart.categories
    bars.categoryAxis.labels.fontName = REGULAR
    bars.categoryAxis.labels.fontSize = 7
    bars.categoryAxis.labels.angle = 30 if len(chart.categories) > 4 else 0
    bars.categoryAxis.labels.boxAnchor = "ne" if len(chart.categories) > 4 else "n"
    bars.valueAxis.labels.fontName = REGULAR
    bars.valueAxis.labels.fontSize = 7
    bars.valueAxis.valueMin = 0
    highest = max((max(values, default=0) for _, values in chart.series), default=0)
    bars.valueAxis.valueMax = max(1, highest)
    for index, colour in enumerate(_SERIES_COLOURS[: len(chart.series)]):
        bars.bars[index].fillColor = colour
    drawing.add(bars)
    legend = Legend()
    legend.x, legend.y = 28, 10
    legend.fontName = REGULAR
    legend.fontSize = 8
    legend.alignment = "right"
    legend.columnMaximum = 1
    legend.colorNamePairs = [
        (colour, name) for colour, (name, _) in zip(_SERIES_COLOURS, chart.series, strict=False)
    ]
    drawing.add(legend)
    return drawing
