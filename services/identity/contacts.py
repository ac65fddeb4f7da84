"""Contact details (phone numbers, email addresses) checked and normalised one way, as the
import files do (imports/parsing.py)."""

from __future__ import annotations

import re

from services.common.problems import InvalidInput

# 9 to 15 digits, optionally after a +; spaces, dots, dashes and brackets are dropped.
_PHONE = re.compile(r"\+?[0-9]{9,15}")
_PHONE_SEPARATORS = str.maketrans("", "", " .-()")
_EMAIL = re.compile(r"[a-z0-9._%+'-]+@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")


def normalise_phone(raw: str) -> str:
    phone = raw.strip().translate(_PHONE_SEPARATORS)
    if phone and not _PHONE.fullmatch(phone):
        raise InvalidInput(
            f"Số điện thoại «{raw}» không hợp lệ: cần 9 đến 15 chữ số, có thể có + ở đầu.",
            f"Phone “{raw}” is invalid: it needs 9 to 15 digits, optionally after a +.",
        )
    return phone


def normalise_email(raw: str) -> str:
    """The lower-cased address; empty stays empty (callers decide whether it is required)."""
    email = raw.strip().lower()
    if email and not (len(email) <= 254 and _EMAIL.fullmatch(email)):
        raise InvalidInput(
            f"Thư điện tử «{raw}» không hợp lệ.", f"Email address “{raw}” is invalid."
        )
    return email
