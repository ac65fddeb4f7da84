"""Dates that follow from a dossier's retention period (standards.md §8.1, §8.2).

NĐ 30/2020, Điều 30: dossiers kept 5 years or more go to the agency archive within one year
after the work ends; shorter-lived ones stay with the unit until they are disposed of. The
retention period counts from the year the work ended (Thông tư 10/2022/TT-BNV), so a 10-year
dossier of work that ended in 2020 is kept to the end of 2030. Construction projects (3 months
after settlement) are not modelled: they need the settlement date, which no dossier records."""

from __future__ import annotations

import datetime as dt
from typing import Final

# NĐ 30/2020, Điều 30.1: what the agency archive takes.
TRANSFER_MIN_YEARS = 5
# Phụ lục VI, III.5.b: warn this many days before a dossier is due for transfer.
REMIND_DAYS_BEFORE = 30

PERMANENT: Final = "permanent"

# Codes of TT 05/2025/TT-BNV metadata (`maintenance`), for the archive package.
_MAINTENANCE_CODES = {70: "02", 50: "03", 30: "04", 20: "05", 10: "06"}

ACCESS_LABELS = {
    "public": "Công khai",
    "conditional": "Sử dụng có điều kiện",
    "confidential": "Mật",
}
# TT 05/2025/TT-BNV `mode` (chế độ sử dụng).
ACCESS_CODES = {"public": "01", "conditional": "02", "confidential": "03"}


def is_permanent(years: int | None) -> bool:
    return years is None


def label(years: int | None) -> str:
    return "Vĩnh viễn" if years is None else f"{years} năm"


def maintenance_code(years: int | None) -> str:
    if years is None:
        return "01"
    return _MAINTENANCE_CODES.get(years, "07")


def goes_to_archive(years: int | None) -> bool:
    return years is None or years >= TRANSFER_MIN_YEARS


def transfer_due(end_on: dt.date, years: int | None) -> dt.date | None:
    """The last day to hand the dossier to the agency archive, or None when it stays."""
    if not goes_to_archive(years):
        return None
    try:
        return end_on.replace(year=end_on.year + 1)
    except ValueError:  # 29 February
        return end_on.replace(year=end_on.year + 1, day=28)


def retention_ends(end_on: dt.date, years: int | None) -> dt.date | None:
    """The last day the dossier must be kept, or None when it is kept forever."""
    if years is None:
        return None
    return dt.date(end_on.year + years, 12, 31)
