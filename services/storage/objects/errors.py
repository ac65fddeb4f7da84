"""Problems specific to stored files (the inspection's `RejectedFile` lives with the inspection)."""

from __future__ import annotations

from services.common.problems import Conflict, Problem


class TooLarge(Problem):
    status = 413
    code = "file-too-large"
    title_vi = "Tệp quá lớn"
    title_en = "File too large"


class QuotaExceeded(Problem):
    status = 413
    code = "quota-exceeded"
    title_vi = "Vượt hạn mức lưu trữ của cơ quan"
    title_en = "Storage quota exceeded"


class RangeNotSatisfiable(Problem):
    status = 416
    code = "range-not-satisfiable"
    title_vi = "Đoạn dữ liệu yêu cầu không hợp lệ"
    title_en = "Range not satisfiable"


class Locked(Conflict):
    code = "object-locked"
    title_vi = "Tệp đang được khóa lưu trữ"
    title_en = "Object under retention"


class Corrupt(Problem):
    status = 409
    code = "object-corrupt"
    title_vi = "Tệp bị hỏng"
    title_en = "Object corrupt"


def too_large(limit: int) -> TooLarge:
    return TooLarge(
        f"Tệp vượt quá giới hạn {_human(limit)} cho loại tệp này.",
        f"The file exceeds the {_human(limit)} limit for its type.",
        limit_bytes=limit,
    )


def _human(size: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:g} {unit}"
    return f"{size} B"
