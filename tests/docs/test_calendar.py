"""Deadlines in working days, across weekends, Tết and make-up working Saturdays."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.docs.calendar.holidays import SEED
from services.docs.calendar.workdays import WorkCalendar

D = dt.date


def seeded() -> WorkCalendar:
    exceptions = {day: kind for entries in SEED.values() for day, kind, _ in entries}
    return WorkCalendar(exceptions, frozenset(SEED))


def test_a_deadline_across_tet_2026_skips_the_whole_holiday() -> None:
    calendar = seeded()
    # Friday 13 February 2026, the last working day before Tết Bính Ngọ (14-22 February).
    assert calendar.add_working_days(D(2026, 2, 13), 1) == D(2026, 2, 23)
    assert calendar.add_working_days(D(2026, 2, 13), 5) == D(2026, 2, 27)
    assert calendar.working_days_between(D(2026, 2, 13), D(2026, 2, 23)) == 1


def test_a_make_up_saturday_is_a_working_day() -> None:
    calendar = seeded()
    assert calendar.is_working_day(D(2025, 4, 26))  # Saturday, worked for 2 May
    assert not calendar.is_working_day(D(2025, 5, 2))  # Friday, swapped off
    assert calendar.add_working_days(D(2025, 4, 25), 1) == D(2025, 4, 26)


def test_years_without_data_still_know_the_solar_holidays() -> None:
    calendar = seeded()
    assert not calendar.has_data_for(2031)
    assert not calendar.is_working_day(D(2031, 9, 2))  # Tuesday, Quốc khánh
    assert calendar.add_working_days(D(2031, 4, 29), 1) == D(2031, 5, 2)


def test_negative_days_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        seeded().add_working_days(D(2026, 1, 5), -1)


@given(
    start=st.dates(min_value=D(2025, 1, 1), max_value=D(2026, 12, 31)),
    days=st.integers(min_value=0, max_value=60),
)
def test_adding_then_counting_working_days_agree(start: dt.date, days: int) -> None:
    calendar = seeded()
    end = calendar.add_working_days(start, days)
    assert calendar.working_days_between(start, end) == days
    assert days == 0 or calendar.is_working_day(end)


async def test_the_database_calendar_holds_the_seeded_years() -> None:
    import os

    from services.common.db import Database
    from services.docs.calendar.workdays import load_calendar

    db = Database.from_url(os.environ["QLVB_DOCS_DATABASE_URL"], pool_size=1)
    try:
        async with db.transaction(None, read_only=True) as conn:
            calendar = await load_calendar(conn)
    finally:
        await db.dispose()
    assert calendar.has_data_for(2026)
    assert calendar.add_working_days(D(2026, 2, 13), 1) == D(2026, 2, 23)
