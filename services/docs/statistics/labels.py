"""What the report says, in Vietnamese and in English (the second locale, by Accept-Language),
and how it writes numbers: Vietnamese groups thousands with a dot and uses a decimal comma."""

from __future__ import annotations

import datetime as dt
from typing import Literal

Locale = Literal["vi", "en"]

_TEXT: dict[str, tuple[str, str]] = {
    "nation": ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "SOCIALIST REPUBLIC OF VIET NAM"),
    "motto": ("Độc lập - Tự do - Hạnh phúc", "Independence - Freedom - Happiness"),
    "title": (
        "BÁO CÁO THỐNG KÊ TÌNH HÌNH TIẾP NHẬN, PHÁT HÀNH VÀ XỬ LÝ VĂN BẢN",
        "REPORT ON DOCUMENTS RECEIVED, ISSUED AND HANDLED",
    ),
    "month": ("Tháng {month}", "Month {month}"),
    "months": ("Từ tháng {first} đến tháng {last}", "From {first} to {last}"),
    "scope_own": ("Phạm vi: {name}", "Scope: {name}"),
    "scope_tree": (
        "Phạm vi: {name} và các đơn vị trực thuộc ({count} cơ quan, đơn vị)",
        "Scope: {name} and the agencies under it ({count} agencies)",
    ),
    "made_on": ("Ngày lập: {day}", "Prepared on {day}"),
    "summary": ("I. SỐ LIỆU TỔNG HỢP", "I. SUMMARY"),
    "by_month": ("II. SỐ LIỆU THEO THÁNG", "II. BY MONTH"),
    "by_agency": ("III. SỐ LIỆU THEO CƠ QUAN, ĐƠN VỊ", "III. BY AGENCY"),
    "by_department": ("III. SỐ LIỆU THEO PHÒNG, BAN", "III. BY DEPARTMENT"),
    "by_person": ("III. SỐ LIỆU THEO NGƯỜI XỬ LÝ", "III. BY PERSON"),
    "indicator": ("Chỉ tiêu", "Indicator"),
    "count": ("Số lượng", "Count"),
    "share": ("Tỷ lệ", "Share"),
    "received": ("Văn bản đến", "Documents received"),
    "received_electronic": ("Văn bản điện tử", "Electronic"),
    "received_paper": ("Văn bản giấy", "On paper"),
    "received_signed": ("Có chữ ký số", "Digitally signed"),
    "sent": ("Văn bản đi đã phát hành", "Documents issued and sent"),
    "sent_electronic": ("Gửi hoàn toàn điện tử", "Sent entirely electronically"),
    "sent_paper": ("Có gửi bản giấy", "With paper copies"),
    "sent_signed": ("Có chữ ký số của cơ quan", "Carrying the agency's digital signature"),
    "recipients_electronic": ("Lượt gửi điện tử", "Electronic deliveries"),
    "recipients_axis": (
        "Qua Trục liên thông văn bản quốc gia",
        "Through the national document axis",
    ),
    "recipients_paper": ("Lượt gửi bản giấy", "Paper deliveries"),
    "completed": (
        "Việc đã hoàn thành (chủ trì, phối hợp)",
        "Assignments completed (lead, cooperating)",
    ),
    "on_time": ("Đúng hạn", "On time"),
    "late": ("Quá hạn", "Late"),
    "open_at_end": ("Việc đang xử lý cuối kỳ", "Assignments open at the end"),
    "overdue_at_end": ("Đã quá hạn", "Overdue"),
    "documents_completed": ("Văn bản đến đã giải quyết xong", "Incoming documents completed"),
    "average": (
        "Thời gian giải quyết trung bình (ngày làm việc)",
        "Average processing time (working days)",
    ),
    "median": (
        "Thời gian giải quyết trung vị (ngày làm việc)",
        "Median processing time (working days)",
    ),
    "col_month": ("Tháng", "Month"),
    "col_received": ("VB đến", "Received"),
    "col_electronic": ("Điện tử", "Electronic"),
    "col_paper": ("Giấy", "Paper"),
    "col_electronic_share": ("% điện tử", "% electronic"),
    "col_sent": ("VB đi", "Sent"),
    "col_sent_electronic": ("Hoàn toàn điện tử", "Fully electronic"),
    "col_sent_paper": ("Có bản giấy", "With paper"),
    "col_sent_electronic_share": ("% hoàn toàn điện tử", "% fully electronic"),
    "col_axis_share": ("% qua Trục", "% via axis"),
    "col_signed_share": ("% ký số", "% signed"),
    "col_completed": ("Hoàn thành", "Completed"),
    "col_on_time": ("Đúng hạn", "On time"),
    "col_late": ("Quá hạn", "Late"),
    "col_open": ("Đang xử lý cuối kỳ", "Open at end"),
    "col_overdue": ("Quá hạn cuối kỳ", "Overdue at end"),
    "col_average": ("TB ngày xử lý", "Avg. days"),
    "col_median": ("Trung vị ngày", "Median days"),
    "col_agency": ("Cơ quan, đơn vị", "Agency"),
    "col_department": ("Phòng, ban", "Department"),
    "col_person": ("Người xử lý", "Person"),
    "no_department": ("(Chưa xác định phòng, ban)", "(No department)"),
    "chart_received": ("Văn bản đến theo tháng", "Documents received by month"),
    "chart_sent": ("Văn bản đi theo tháng", "Documents sent by month"),
    "chart_handling": (
        "Việc hoàn thành đúng hạn, quá hạn theo tháng",
        "Assignments completed on time and late, by month",
    ),
    "note_tree": (
        "Số liệu của mỗi cơ quan ở mục III gồm cả các đơn vị trực thuộc.",
        "In section III each agency's figures include the agencies under it.",
    ),
    "note_processing": (
        "Thời gian giải quyết: từ khi vào sổ đến khi hoàn thành việc chủ trì, tính bằng ngày"
        " làm việc; việc để biết không được tính vào đúng hạn, quá hạn.",
        "Processing time: from registration to completion of the lead assignment, in working"
        " days; assignments for information are not counted as on time or late.",
    ),
    "note_counts": (
        "Báo cáo chỉ gồm số lượng, không gồm nội dung văn bản.",
        "The report holds counts only, never the contents of documents.",
    ),
    "sheet_summary": ("Tổng hợp", "Summary"),
    "sheet_months": ("Theo tháng", "By month"),
    "sheet_rows": ("Chi tiết", "Breakdown"),
}


def text(key: str, locale: Locale, **values: object) -> str:
    vi, en = _TEXT[key]
    return (en if locale == "en" else vi).format(**values)


def month_label(month: dt.date) -> str:
    return f"{month.month:02d}/{month.year}"


def day_label(day: dt.date) -> str:
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


def number(value: float | None, locale: Locale, decimals: int = 0) -> str:
    if value is None:
        return "-"
    written = f"{value:,.{decimals}f}"
    if locale == "vi":
        written = written.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return written


def percent(value: float | None, locale: Locale) -> str:
    if value is None:
        return "-"
    return number(value * 100, locale, 1) + "%"
