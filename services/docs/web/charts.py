"""Bar charts as plain geometry for an inline SVG (template `chart_macros.html.j2`): the pages
draw their charts on the server, with no chart library in the browser.

A chart is laid out in its own coordinate space (the SVG's viewBox) and scales with the page,
so the same drawing fits a desktop and a 360-px phone. Each bar carries its value in words for
its tooltip; the figures themselves are also in a table beside every chart."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

# The viewBox widths: a month chart is wide and short; a unit chart grows one row per unit.
# Narrow enough that a 360-px phone still shows the text at a readable size.
MONTH_WIDTH = 440
MONTH_HEIGHT = 240
UNIT_WIDTH = 400
# Gridlines a reader can count against, at most.
GRIDLINES = 4
# Beyond this many bars, values are in the tooltips and the table, not over the bars.
MAX_VALUE_LABELS = 24
# A unit's name longer than this is shortened on the chart (the table has it in full).
MAX_LABEL_CHARS = 50


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    series: int
    value: str
    tooltip: str
    # Where the value is written (beside or above the bar), when it is written at all.
    value_x: float
    value_y: float
    show_value: bool


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str
    full_text: str = ""
    # Month names turn when many months share the axis.
    rotate: bool = False


@dataclass(frozen=True)
class Gridline:
    # A horizontal chart's gridlines are vertical: `position` is then an x.
    position: float
    label: str


@dataclass(frozen=True)
class SvgChart:
    id: str
    title: str
    orientation: str  # vertical (bars stand on the month axis) | horizontal (one row per unit)
    width: float
    height: float
    # The plotting area.
    left: float
    top: float
    right: float
    bottom: float
    bars: list[Bar]
    labels: list[Label]
    gridlines: list[Gridline]
    series: list[str]
    empty: bool


Series = Sequence[tuple[str, Sequence[int]]]
Number = Callable[[float], str]


def nice_step(highest: int) -> int:
    """A gridline step of 1, 2 or 5 times a power of ten, giving at most `GRIDLINES` lines."""
    if highest <= GRIDLINES:
        return 1
    raw = highest / GRIDLINES
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if factor * power >= raw:
            return int(factor * power)
    return int(10 * power)


def _scale(series: Series) -> tuple[int, int]:
    highest = max((max(values, default=0) for _, values in series), default=0)
    step = nice_step(highest)
    top = max(step, math.ceil(highest / step) * step)
    return step, top


def vertical(
    chart_id: str, title: str, categories: Sequence[str], series: Series, number: Number
) -> SvgChart:
    """Grouped bars per category (a month), one colour per series."""
    count = max(1, len(categories))
    rotate = count > 6
    # Turned month names need room below the axis; upright ones one line.
    left, right, top = 44.0, MONTH_WIDTH - 6.0, 14.0
    height = MONTH_HEIGHT if rotate else MONTH_HEIGHT - 24.0
    bottom = height - (50.0 if rotate else 26.0)
    step, ceiling = _scale(series)
    plot_height = bottom - top
    group = (right - left) / count
    bar_width = group * 0.76 / max(1, len(series))
    show = count * len(series) <= MAX_VALUE_LABELS
    bars: list[Bar] = []
    labels: list[Label] = []
    for index, category in enumerate(categories):
        start = left + index * group + group * 0.12
        for number_of_series, (name, values) in enumerate(series):
            value = values[index] if index < len(values) else 0
            bar_height = plot_height * value / ceiling
            x = start + number_of_series * bar_width
            bars.append(
                Bar(
                    x=round(x, 2),
                    y=round(bottom - bar_height, 2),
                    width=round(bar_width * 0.92, 2),
                    height=round(bar_height, 2),
                    series=number_of_series,
                    value=number(value),
                    tooltip=f"{category} · {name}: {number(value)}",
                    value_x=round(x + bar_width * 0.46, 2),
                    value_y=round(bottom - bar_height - 4, 2),
                    show_value=show,
                )
            )
        labels.append(
            Label(
                x=round(left + (index + 0.5) * group, 2),
                y=bottom + 18,
                text=category,
                rotate=rotate,
            )
        )
    gridlines = [
        Gridline(position=round(bottom - plot_height * v / ceiling, 2), label=number(v))
        for v in range(0, ceiling + 1, step)
    ]
    return SvgChart(
        id=chart_id,
        title=title,
        orientation="vertical",
        width=MONTH_WIDTH,
        height=height,
        left=left,
        top=top,
        right=right,
        bottom=bottom,
        bars=bars,
        labels=labels,
        gridlines=gridlines,
        series=[name for name, _ in series],
        empty=all(not any(values) for _, values in series),
    )


def horizontal(
    chart_id: str,
    title: str,
    categories: Sequence[str],
    series: Series,
    number: Number,
    indents: Sequence[int] = (),
) -> SvgChart:
    """One row per unit (agency, department, person): its name above its bars, so that long
    Vietnamese names keep the whole width of a phone."""
    left, right, top = 4.0, UNIT_WIDTH - 44.0, 24.0
    bar_height, label_height, gap = 12.0, 16.0, 10.0
    row_height = label_height + bar_height * len(series) + gap
    step, ceiling = _scale(series)
    plot_width = right - left
    bars: list[Bar] = []
    labels: list[Label] = []
    for index, category in enumerate(categories):
        row_top = top + index * row_height
        indent = min(indents[index] if index < len(indents) else 0, 6) * 10.0
        shown = category
        if len(shown) > MAX_LABEL_CHARS - indent / 10:
            shown = shown[: int(MAX_LABEL_CHARS - indent / 10) - 1].rstrip() + "…"
        labels.append(Label(x=left + 4 + indent, y=row_top + 12, text=shown, full_text=category))
        for number_of_series, (name, values) in enumerate(series):
            value = values[index] if index < len(values) else 0
            width = plot_width * value / ceiling
            y = row_top + label_height + number_of_series * bar_height
            bars.append(
                Bar(
                    x=left,
                    y=round(y, 2),
                    width=round(width, 2),
                    height=bar_height - 2,
                    series=number_of_series,
                    value=number(value),
                    tooltip=f"{category} · {name}: {number(value)}",
                    value_x=round(left + width + 4, 2),
                    value_y=round(y + bar_height - 3, 2),
                    show_value=True,
                )
            )
    bottom = top + max(1, len(categories)) * row_height
    gridlines = [
        Gridline(position=round(left + plot_width * v / ceiling, 2), label=number(v))
        for v in range(0, ceiling + 1, step)
    ]
    return SvgChart(
        id=chart_id,
        title=title,
        orientation="horizontal",
        width=UNIT_WIDTH,
        height=bottom + 4,
        left=left,
        top=top,
        right=right,
        bottom=bottom,
        bars=bars,
        labels=labels,
        gridlines=gridlines,
        series=[name for name, _ in series],
        empty=all(not any(values) for _, values in series),
    )
