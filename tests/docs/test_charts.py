"""The server-drawn SVG charts: the drawing keeps its size whatever the figures, and every bar
stands inside it on the axis."""

from __future__ import annotations

from services.docs.web.charts import MONTH_HEIGHT, vertical


def test_a_month_chart_keeps_its_height_and_its_bars_inside() -> None:
    months = [f"{m:02d}/2026" for m in range(1, 13)]
    series = [("Văn bản đến", [5, 40, 0, 12, 7, 3, 9, 31, 2, 0, 18, 25]), ("Đúng hạn", [1] * 12)]
    chart = vertical("den", "Văn bản đến theo tháng", months, series, str)

    assert chart.height == MONTH_HEIGHT  # twelve months turn their labels: the taller drawing
    assert chart.bottom < chart.height  # room below the axis for the month names
    assert len(chart.bars) == 24
    for bar in chart.bars:
        assert bar.height >= 0
        assert chart.top <= bar.y <= chart.bottom
        assert abs(bar.y + bar.height - chart.bottom) < 0.05  # standing on the axis
    tallest = max(chart.bars, key=lambda b: b.height)
    assert tallest.value == "40"
