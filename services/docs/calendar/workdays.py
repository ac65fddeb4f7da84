"""Working-day arithmetic over a calendar of exceptions.

A day is a working day when it is Monday to Friday and not a holiday, or when it is a make-up
working day (Vietnam moves working Saturdays around long holidays). Years without data from the
operator fall back to the fixed solar holidays of the Labour Code; the lunar ones (Tết, Giỗ Tổ)
cannot be computed reliably from a formula and must be entered per year."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.docs.tables import calendar_day

HOLIDAY = "holiday"
WORKDAY = "workday"

# Bộ luật Lao động 2019, Điều 112: the solar-calendar days, the same every year.
FIXED_SOLAR_HOLIDAYS = (
    (1, 1, "Tết Dương lịch"),
    (4, 30, "Ngày Chiến thắng"),
    (5, 1, "Ngày Quốc tế lao động"),
    (9, 2, "Quốc khánh"),
)


class WorkCalendar:
    def __init__(self, exceptions: Mapping[dt.date, str], years_with_data: frozenset[int]) -> None:
        self._exceptions = dict(exceptions)
        self._years = years_with_data

    def kind(self, day: dt.date) -> str | None:
        if day.year not in self._years:
            for month, dom, _ in FIXED_SOLAR_HOLIDAYS:
                if (day.month, day.day) == (month, dom):
                    return HOLIDAY
            return None
        return self._exceptions.get(day)

    def is_working_day(self, day: dt.date) -> bool:
        kind = self.kind(day)
        if kind == HOLIDAY:
            return False
        if kind == WORKDAY:
            return True
        return day.weekday() < 5

    def add_working_days(self, start: dt.date, days: int) -> dt.date:
        """The date `days` working days after `start` (which itself does not count)."""
        if days < 0:
            raise ValueError("days must not be negative")
        day = start
        remaining = days
        # Bounded: even a year of holidays cannot hold more than 366 consecutive days off.
        for _ in range(days * 7 + 400):
            if remaining == 0:
                return day
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                remaining -= 1
        raise ValueError("no working day found; the calendar data is inconsistent")

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after `start` up to and including `end` (negative when end < start)."""
        if end < start:
            return -self.working_days_between(end, start)
        count = 0
        day = start
        while day < end:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count

    def has_data_for(self, year: int) -> bool:
        return year in self._years


async def load_calendar(conn: AsyncConnection) -> WorkCalendar:
    rows = (await conn.execute(select(calendar_day.c.day, calendar_day.c.kind))).all()
    exceptions = {row.day: row.kind for row in rows}
    return WorkCalendar(exceptions, frozenset(day.year for day in exceptions))
