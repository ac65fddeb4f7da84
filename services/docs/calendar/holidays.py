"""Seed data: Vietnam's public holidays and make-up working days, as announced for each year.

Sources: the Government's annual notices on Tết and public holidays for civil servants. An
operator confirms or edits these through the API every year; years not listed here fall back to
the fixed solar holidays only (see workdays.py)."""

from __future__ import annotations

import datetime as dt

D = dt.date

SEED: dict[int, list[tuple[dt.date, str, str]]] = {
    2025: [
        (D(2025, 1, 1), "holiday", "Tết Dương lịch"),
        *[
            (D(2025, 1, 25) + dt.timedelta(days=i), "holiday", "Tết Nguyên đán Ất Tỵ")
            for i in range(9)
        ],
        (D(2025, 4, 7), "holiday", "Giỗ Tổ Hùng Vương"),
        (D(2025, 4, 26), "workday", "Làm bù cho ngày 02/5"),
        (D(2025, 4, 30), "holiday", "Ngày Chiến thắng"),
        (D(2025, 5, 1), "holiday", "Ngày Quốc tế lao động"),
        (D(2025, 5, 2), "holiday", "Nghỉ hoán đổi (làm bù 26/4)"),
        (D(2025, 9, 1), "holiday", "Quốc khánh"),
        (D(2025, 9, 2), "holiday", "Quốc khánh"),
    ],
    2026: [
        (D(2026, 1, 1), "holiday", "Tết Dương lịch"),
        *[
            (D(2026, 2, 14) + dt.timedelta(days=i), "holiday", "Tết Nguyên đán Bính Ngọ")
            for i in range(9)
        ],
        (D(2026, 4, 27), "holiday", "Nghỉ bù Giỗ Tổ Hùng Vương (26/4 là Chủ nhật)"),
        (D(2026, 4, 30), "holiday", "Ngày Chiến thắng"),
        (D(2026, 5, 1), "holiday", "Ngày Quốc tế lao động"),
        (D(2026, 9, 1), "holiday", "Quốc khánh"),
        (D(2026, 9, 2), "holiday", "Quốc khánh"),
    ],
}
