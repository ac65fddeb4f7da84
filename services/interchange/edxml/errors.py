"""The one error of the codec: an edXML packet that cannot be built or read, saying where and why.

`path` names the element by local names from the root (`edXML/edXMLEnvelope/.../To[2]/OrganId`)
and `reason` is a stable slug for logs and dead-letter lists; both also appear in the problem
body. Values quoted from a packet are shortened, so a hostile packet cannot flood a log line."""

from __future__ import annotations

from services.common.problems import InvalidInput

_QUOTE_LIMIT = 60


def quote(value: str) -> str:
    """A value from the packet, quoted and shortened for an error message."""
    if len(value) > _QUOTE_LIMIT:
        value = value[:_QUOTE_LIMIT] + "…"
    return repr(value)


class EdxmlError(InvalidInput):
    status = 422
    code = "edxml-invalid"
    title_vi = "Gói tin edXML không hợp lệ"
    title_en = "Invalid edXML packet"

    def __init__(self, detail_vi: str, detail_en: str, *, reason: str, path: str = "") -> None:
        if path:
            detail_vi = f"{path}: {detail_vi}"
            detail_en = f"{path}: {detail_en}"
        super().__init__(detail_vi, detail_en, reason=reason, path=path)
        self.reason = reason
        self.path = path


def missing(path: str) -> EdxmlError:
    return EdxmlError(
        "thiếu phần tử bắt buộc.", "required element is missing.", reason="missing", path=path
    )


def duplicate(path: str) -> EdxmlError:
    return EdxmlError(
        "phần tử chỉ được xuất hiện một lần nhưng lặp lại.",
        "element may appear once but is repeated.",
        reason="duplicate",
        path=path,
    )


def bad_value(path: str, value: str, expected_vi: str, expected_en: str) -> EdxmlError:
    return EdxmlError(
        f"giá trị {quote(value)} không hợp lệ, cần {expected_vi}.",
        f"value {quote(value)} is invalid, expected {expected_en}.",
        reason="bad-value",
        path=path,
    )


def bad_date(path: str, value: str, pattern: str) -> EdxmlError:
    return EdxmlError(
        f"{quote(value)} không phải ngày giờ hợp lệ dạng {pattern}.",
        f"{quote(value)} is not a valid date/time in the form {pattern}.",
        reason="bad-date",
        path=path,
    )


def bad_agency_code(path: str, value: str) -> EdxmlError:
    return EdxmlError(
        f"mã định danh {quote(value)} không đúng dạng QCVN 102 (AAA.BB.CC.XNN).",
        f"agency code {quote(value)} is not in the QCVN 102 form (AAA.BB.CC.XNN).",
        reason="bad-agency-code",
        path=path,
    )


def too_long(path: str, length: int, limit: int) -> EdxmlError:
    return EdxmlError(
        f"dài {length} ký tự, vượt giới hạn {limit} ký tự.",
        f"is {length} characters long, over the limit of {limit}.",
        reason="too-long",
        path=path,
    )


def blank(path: str) -> EdxmlError:
    return EdxmlError("không được để trống.", "must not be empty.", reason="blank", path=path)


def too_large(limit: int, size: int | None = None, *, announced: bool = False) -> EdxmlError:
    """`size` None: a stream that went on past the limit (how far is not worth reading)."""
    if size is None:
        return EdxmlError(
            f"Gói tin lớn hơn giới hạn {limit} byte.",
            f"The packet is larger than the limit of {limit} bytes.",
            reason="too-large",
        )
    what_vi = "được báo trước là" if announced else "có"
    what_en = "is announced as" if announced else "is"
    return EdxmlError(
        f"Gói tin {what_vi} {size} byte, vượt giới hạn {limit} byte.",
        f"The packet {what_en} {size} bytes, over the limit of {limit} bytes.",
        reason="too-large",
    )
