"""Between edXML and the platform's own document fields: document types, urgency, status codes.

The NĐ 30/2020 type list (Điều 7, Phụ lục III) is repeated here from the docs service's catalog
on purpose: services never import each other, and the list is fixed by the decree. edXML's
`DocumentType/Type` has no confirmed code table (spec §1.5): we write `Type` as the position of
the type in this list (Công văn = 1, as in the VPCP sample) and always fill `TypeName`, which
is what receivers key on; on input only `TypeName` is read."""

from __future__ import annotations

import unicodedata
from typing import Final

from services.interchange.edxml import Priority, StatusCode

# (the docs service's code, the type's name), in NĐ 30 order; công văn first.
DOCUMENT_TYPES: Final = (
    ("CV", "Công văn"),
    ("THC", "Thư công"),
    ("NQ", "Nghị quyết"),
    ("QĐ", "Quyết định"),
    ("CT", "Chỉ thị"),
    ("QC", "Quy chế"),
    ("QyĐ", "Quy định"),
    ("TC", "Thông cáo"),
    ("TB", "Thông báo"),
    ("HD", "Hướng dẫn"),
    ("CTr", "Chương trình"),
    ("KH", "Kế hoạch"),
    ("PA", "Phương án"),
    ("ĐA", "Đề án"),
    ("DA", "Dự án"),
    ("BC", "Báo cáo"),
    ("BB", "Biên bản"),
    ("TTr", "Tờ trình"),
    ("HĐ", "Hợp đồng"),
    ("CĐ", "Công điện"),
    ("BGN", "Bản ghi nhớ"),
    ("BTT", "Bản thỏa thuận"),
    ("GUQ", "Giấy ủy quyền"),
    ("GM", "Giấy mời"),
    ("GGT", "Giấy giới thiệu"),
    ("GNP", "Giấy nghỉ phép"),
    ("PG", "Phiếu gửi"),
    ("PC", "Phiếu chuyển"),
    ("PB", "Phiếu báo"),
    ("SY", "Bản sao y"),
    ("SL", "Bản sao lục"),
    ("TrS", "Bản trích sao"),
)
GENERIC_TYPE: Final = "CV"


def _fold(text: str) -> str:
    # "Quyết định", "QUYẾT ĐỊNH", "Quyết  định", "Quyết định" (decomposed): one key; đ has no
    # decomposition, so it is folded by hand. Old spellings (thoả/thỏa) differ only in marks.
    decomposed = unicodedata.normalize("NFD", text.casefold().replace("đ", "d"))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.split())


_NAME_BY_CODE: Final = dict(DOCUMENT_TYPES)
_NUMBER_BY_CODE: Final = {code: i for i, (code, _) in enumerate(DOCUMENT_TYPES, 1)}
_CODE_BY_NAME: Final = {_fold(name): code for code, name in DOCUMENT_TYPES}


def type_name(code: str) -> str:
    return _NAME_BY_CODE.get(code, code)


def type_number(code: str) -> int:
    return _NUMBER_BY_CODE.get(code, 0)


def type_code(name: str) -> str:
    """The platform's code of a type named in a packet; an unknown name is a công văn, the
    general form of administrative correspondence (NĐ 30, Điều 7.2)."""
    return _CODE_BY_NAME.get(_fold(name), GENERIC_TYPE)


# Urgency (NĐ 30 Phụ lục I) <-> OtherInfo/Priority (conventions, choice 7).
_PRIORITY: Final = {
    "normal": Priority.NORMAL,
    "khan": Priority.URGENT,
    "thuong_khan": Priority.VERY_URGENT,
    "hoa_toc": Priority.FLASH,
    "hoa_toc_hen_gio": Priority.FLASH,
}
_URGENCY: Final = {
    Priority.NORMAL: "normal",
    Priority.URGENT: "khan",
    Priority.VERY_URGENT: "thuong_khan",
    Priority.FLASH: "hoa_toc",
}


def priority(urgency: str) -> int:
    return int(_PRIORITY.get(urgency, Priority.NORMAL))


def urgency(priority_value: int) -> str:
    # Digits above 3 have no agreed meaning; the most urgent known level is the safe reading.
    if priority_value <= Priority.NORMAL:
        return "normal"
    if priority_value >= Priority.FLASH:
        return "hoa_toc"
    return _URGENCY[Priority(priority_value)]


# document.status_changed (docs) -> the status code answered to the sender (spec §5.7).
# change_accepted / change_rejected answer an update request (15/16); docs may adopt them.
STATUS_OF_EVENT: Final = {
    "accepted": StatusCode.ACCEPTED,
    "assigned": StatusCode.ASSIGNED,
    "processing": StatusCode.PROCESSING,
    "completed": StatusCode.COMPLETED,
    "rejected": StatusCode.REJECTED,
    "change_accepted": StatusCode.CHANGE_ACCEPTED,
    "change_rejected": StatusCode.CHANGE_REJECTED,
}
# A status code that came back -> the name in delivery.status.
EVENT_OF_STATUS: Final = {
    StatusCode.RECEIVED: "received",
    StatusCode.REJECTED: "rejected",
    StatusCode.ACCEPTED: "accepted",
    StatusCode.ASSIGNED: "assigned",
    StatusCode.PROCESSING: "processing",
    StatusCode.COMPLETED: "completed",
    StatusCode.RECALLED: "recalled",
    StatusCode.CHANGE_ACCEPTED: "change_accepted",
    StatusCode.CHANGE_REJECTED: "change_rejected",
}
# Default Description of the statuses we send (the labels of spec §2.2).
STATUS_LABELS: Final = {
    StatusCode.RECEIVED: "Đã đến",
    StatusCode.REJECTED: "Từ chối tiếp nhận",
    StatusCode.ACCEPTED: "Đã tiếp nhận",
    StatusCode.ASSIGNED: "Đã phân công xử lý",
    StatusCode.PROCESSING: "Đang xử lý",
    StatusCode.COMPLETED: "Đã hoàn thành",
    StatusCode.RECALLED: "Lấy lại văn bản",
    StatusCode.CHANGE_ACCEPTED: "Đồng ý yêu cầu cập nhật, thu hồi",
    StatusCode.CHANGE_REJECTED: "Từ chối yêu cầu cập nhật, thu hồi",
}
# Progress of a delivered document at its recipient; statuses can arrive out of order (the axis
# may reorder), so the recorded one only moves forward. A rejection ends the line.
RECEIPT_RANK: Final = {
    StatusCode.RECEIVED: 1,
    StatusCode.ACCEPTED: 3,
    StatusCode.ASSIGNED: 4,
    StatusCode.PROCESSING: 5,
    StatusCode.COMPLETED: 6,
    StatusCode.REJECTED: 7,
}
