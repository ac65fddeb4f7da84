"""Additive counts, and the figures derived from them.

Everything the database returns is a count or a histogram, so any set of agencies, departments
or months is summed here without going back to the rows: a median over a province is the median
of the merged histograms, not a median of medians."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, fields

from services.docs.statistics.schemas import DocumentFigures, Figures, HandlingFigures


@dataclass
class DocumentCounts:
    received_electronic: int = 0
    received_paper: int = 0
    sent_electronic: int = 0
    sent_paper: int = 0
    sent_signed: int = 0
    recipients_electronic: int = 0
    recipients_paper: int = 0
    recipients_axis: int = 0

    def add(self, other: DocumentCounts) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


@dataclass
class HandlingCounts:
    completed: int = 0
    completed_late: int = 0
    # Snapshots at the end of a month: summed across agencies, never across months.
    open_at_end: int = 0
    overdue_at_end: int = 0
    # Working days -> documents completed after that many.
    processing: Counter[int] = field(default_factory=Counter)

    def add(self, other: HandlingCounts, *, snapshots: bool = True) -> None:
        self.completed += other.completed
        self.completed_late += other.completed_late
        if snapshots:
            self.open_at_end += other.open_at_end
            self.overdue_at_end += other.overdue_at_end
        self.processing.update(other.processing)


@dataclass
class Counts:
    documents: DocumentCounts = field(default_factory=DocumentCounts)
    handling: HandlingCounts = field(default_factory=HandlingCounts)

    def add(self, other: Counts) -> None:
        self.documents.add(other.documents)
        self.handling.add(other.handling)


def over_months(months: list[Counts]) -> Counts:
    """A period from its months, in order: flows add up, snapshots are the last month's."""
    total = Counts()
    for month in months:
        total.documents.add(month.documents)
        total.handling.add(month.handling, snapshots=False)
    if months:
        total.handling.open_at_end = months[-1].handling.open_at_end
        total.handling.overdue_at_end = months[-1].handling.overdue_at_end
    return total


def share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def median(histogram: Counter[int]) -> float | None:
    """The median of the values a histogram counts (the mean of the two middle ones when their
    number is even), without expanding it."""
    n = sum(histogram.values())
    if n == 0:
        return None
    wanted = [(n - 1) // 2, n // 2]
    found: list[int] = []
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        while len(found) < 2 and wanted[len(found)] < seen:
            found.append(value)
    return (found[0] + found[1]) / 2


def average(histogram: Counter[int]) -> float | None:
    n = sum(histogram.values())
    if n == 0:
        return None
    return round(sum(value * count for value, count in histogram.items()) / n, 2)


def document_figures(c: DocumentCounts) -> DocumentFigures:
    received = c.received_electronic + c.received_paper
    sent = c.sent_electronic + c.sent_paper
    return DocumentFigures(
        received=received,
        received_electronic=c.received_electronic,
        received_paper=c.received_paper,
        received_signed=c.received_electronic,
        sent=sent,
        sent_electronic=c.sent_electronic,
        sent_paper=c.sent_paper,
        sent_signed=c.sent_signed,
        recipients_electronic=c.recipients_electronic,
        recipients_paper=c.recipients_paper,
        recipients_axis=c.recipients_axis,
        received_electronic_share=share(c.received_electronic, received),
        received_signed_share=share(c.received_electronic, received),
        sent_electronic_share=share(c.sent_electronic, sent),
        sent_signed_share=share(c.sent_signed, sent),
        axis_share=share(c.recipients_axis, c.recipients_electronic),
    )


def handling_figures(c: HandlingCounts) -> HandlingFigures:
    return HandlingFigures(
        completed=c.completed,
        completed_on_time=c.completed - c.completed_late,
        completed_late=c.completed_late,
        on_time_share=share(c.completed - c.completed_late, c.completed),
        open_at_end=c.open_at_end,
        overdue_at_end=c.overdue_at_end,
        documents_completed=sum(c.processing.values()),
        processing_days_average=average(c.processing),
        processing_days_median=median(c.processing),
    )


def figures(c: Counts, *, with_documents: bool = True) -> Figures:
    return Figures(
        documents=document_figures(c.documents) if with_documents else None,
        handling=handling_figures(c.handling),
    )
