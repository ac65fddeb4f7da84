"""Calendar months as the statistics take them: `YYYY-MM`, in Vietnam time."""

from __future__ import annotations

import datetime as dt

from services.common.problems import InvalidInput

PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
# Ten years of months fit a yearly comparison with room to spare; the database refuses more.
MAX_MONTHS = 120


def parse(text: str) -> dt.date:
    year, month = text.split("-")
    return dt.date(int(year), int(month), 1)


def label(month: dt.date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


def following(month: dt.date) -> dt.date:
    return dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)


def last_day(month: dt.date) -> dt.date:
    return following(month) - dt.timedelta(days=1)


def between(first: dt.date, last: dt.date) -> list[dt.date]:
    months = []
    month = first
    while month <= last:
        months.append(month)
        month = following(month)
    return months


def checked_range(first: dt.date, last: dt.date, today: dt.date) -> list[dt.date]:
    """The months from `first` to `last`, refused when reversed, in the future or too many."""
    current = today.replace(day=1)
    if last < first:
        raise InvalidInput(
            "Tháng bắt đầu phải không sau tháng kết thúc.", "`from` must not be after `to`."
        )
    if last > current:
        raise InvalidInput(
            "Không thống kê được tháng chưa tới.", "Months in the future have no statistics."
        )
    months = between(first, last)
    if len(months) > MAX_MONTHS:
        raise InvalidInput(
            f"Mỗi lần thống kê tối đa {MAX_MONTHS} tháng.",
            f"At most {MAX_MONTHS} months at a time.",
        )
    return months
