"""edXML dates and timestamps (spec §1.3 item 6, conventions choices 4 and 5).

Formatting is done by hand rather than with `strftime`, whose `%Y` is not zero-padded below
the year 1000 on every platform; a date must always read back as it was written."""

from __future__ import annotations

from datetime import date, datetime

from services.interchange.edxml.conventions import LOCAL_TIME


def format_date(value: date) -> str:
    return f"{value.year:04d}/{value.month:02d}/{value.day:02d}"


def format_timestamp(value: datetime) -> str:
    """An aware datetime as local (UTC+07:00) wall-clock time, whole seconds, no zone."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("naive datetime")
    local = value.astimezone(LOCAL_TIME)
    return f"{format_date(local)} {local.hour:02d}:{local.minute:02d}:{local.second:02d}"


def parse_date(text: str, pattern: str) -> date:
    return datetime.strptime(text.strip(), pattern).date()


def parse_timestamp(text: str, pattern: str) -> datetime:
    return datetime.strptime(text.strip(), pattern).replace(tzinfo=LOCAL_TIME)
