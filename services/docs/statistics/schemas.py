"""The statistics as the API shows them: counts and shares per month, per row, in total."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

import msgspec

Scope = Literal["own", "tree"]
Group = Literal["agency", "department", "person"]


class DocumentFigures(msgspec.Struct, kw_only=True):
    """Documents received and sent. Shares are fractions (0..1), absent when nothing was
    counted."""

    received: int
    received_electronic: int
    received_paper: int
    # Electronic documents arrive digitally signed (the interchange checks the signatures).
    received_signed: int
    sent: int
    # Sent entirely electronically: no recipient got paper.
    sent_electronic: int
    sent_paper: int
    # Carrying the agency's seal signature (ký số văn thư).
    sent_signed: int
    recipients_electronic: int
    recipients_paper: int
    # Electronic recipients outside this platform, reached through the national axis.
    recipients_axis: int
    received_electronic_share: float | None
    received_signed_share: float | None
    sent_electronic_share: float | None
    sent_signed_share: float | None
    axis_share: float | None


class HandlingFigures(msgspec.Struct, kw_only=True):
    """Assignments (lead and cooperating; not those for information) and processing time."""

    completed: int
    completed_on_time: int
    completed_late: int
    on_time_share: float | None
    # At the end of the period (of the month, for a month's figures; today in this month).
    open_at_end: int
    overdue_at_end: int
    documents_completed: int
    # Registration to completion of the lead assignment, in working days.
    processing_days_average: float | None
    processing_days_median: float | None


class Figures(msgspec.Struct, kw_only=True):
    # Documents belong to an agency, not to a department or a person: None on those rows.
    documents: DocumentFigures | None
    handling: HandlingFigures


class MonthFigures(msgspec.Struct, kw_only=True):
    month: str  # YYYY-MM
    documents: DocumentFigures | None
    handling: HandlingFigures


class AgencyRef(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    code: str
    name: str
    short_name: str
    level: str
    status: str
    parent_id: uuid.UUID | None
    depth: int  # 0 for the agency the statistics are about


class PersonRef(msgspec.Struct, kw_only=True):
    username: str
    name: str


class Row(msgspec.Struct, kw_only=True):
    """One agency, department or person: the period, each month, and (for an agency in tree
    scope) the agency together with everything under it."""

    agency: AgencyRef | None = None
    department: str | None = None
    person: PersonRef | None = None
    total: Figures
    months: list[MonthFigures]
    subtree: Figures | None = None


class Statistics(msgspec.Struct, kw_only=True):
    from_month: str = msgspec.field(name="from")
    to_month: str = msgspec.field(name="to")
    scope: Scope
    group: Group
    agency: AgencyRef
    # The day the current month's end-of-period figures are taken (earlier months: their end).
    as_of: dt.date
    processing_time_unit: Literal["working_days"] = "working_days"
    total: Figures
    months: list[MonthFigures]
    rows: list[Row]
