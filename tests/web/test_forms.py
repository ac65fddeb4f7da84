"""Dates and times as people type them on the pages: day first, whatever the browser's language."""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest

from services.common.problems import InvalidInput
from services.docs.incoming.schemas import AssignmentRequest, PaperDocument
from services.docs.web.forms import convert, day, moment


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("02/11/2026", dt.date(2026, 11, 2)),
        ("2/1/2026", dt.date(2026, 1, 2)),
        ("02-11-2026", dt.date(2026, 11, 2)),
        ("02.11.2026", dt.date(2026, 11, 2)),
        (" 29/02/2028 ", dt.date(2028, 2, 29)),
        ("2026-11-02", dt.date(2026, 11, 2)),  # what a browser's picker and scripts send
        ("", None),
    ],
)
def test_a_day_is_read_day_first(typed: str, meant: dt.date | None) -> None:
    assert day(typed) == meant


@pytest.mark.parametrize(
    "typed",
    ["31/02/2026", "29/02/2026", "13/13/2026", "11/2026", "2026/11/02", "20261102", "hôm nay"],
)
def test_a_day_that_is_not_one_is_refused_with_the_format_to_use(typed: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        day(typed)
    assert refused.value.status == 400
    assert f"Ngày «{typed}» không hợp lệ: hãy nhập ngày/tháng/năm" in refused.value.detail_vi


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("02/11/2026 08:00", dt.datetime(2026, 11, 2, 8, 0)),
        ("2/11/2026 17:30", dt.datetime(2026, 11, 2, 17, 30)),
        ("2026-11-02T08:05", dt.datetime(2026, 11, 2, 8, 5)),
        ("", None),
    ],
)
def test_a_time_is_a_day_then_hours_and_minutes(typed: str, meant: dt.datetime | None) -> None:
    assert moment(typed) == meant


@pytest.mark.parametrize("typed", ["02/11/2026", "02/11/2026 24:00", "31/11/2026 08:00", "8:00"])
def test_a_time_that_is_not_one_is_refused(typed: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        moment(typed)
    assert "hãy nhập ngày/tháng/năm giờ:phút" in refused.value.detail_vi


def test_a_form_body_reads_its_date_fields_day_first_and_nothing_else() -> None:
    body = convert(
        {
            "sender_name": "Sở Tư pháp",
            # A symbol that looks like a date stays what it is: only date fields are read as dates.
            "number_symbol": "01/02/2026",
            "doc_type": "CV",
            "issued_on": "03/11/2026",
            "subject": "Về việc rà soát",
            "due_on": "",
        },
        PaperDocument,
    )
    assert body.issued_on == dt.date(2026, 11, 3)
    assert body.number_symbol == "01/02/2026"
    assert body.due_on is None
    assignment = convert(
        {"assignee": "chuyenvien", "role": "lead", "deadline": "4/12/2026"}, AssignmentRequest
    )
    assert assignment.deadline == dt.date(2026, 12, 4)
    assert msgspec.json.decode(msgspec.json.encode(assignment))["deadline"] == "2026-12-04"
