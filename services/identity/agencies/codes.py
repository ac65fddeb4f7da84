"""Agency codes (mã định danh), per QCVN 102:2016 and QĐ 20/2020/QĐ-TTg (spec §4)."""

from __future__ import annotations

import re

# ASCII digits only: `\d` would also accept full-width and other Unicode digits.
# QCVN 102: AAA.BB.CC.XNN, 13 characters (NĐ 30 Phụ lục VI: OrganId String(13)).
CODE_102 = re.compile(r"^[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-Z][0-9]{2}$")
# QĐ 20: lenient until the digit widths per level are confirmed (spec §4.5); at most 35 chars.
CODE_QD20 = re.compile(r"^[A-K][0-9]{2}(\.[0-9A-Z]{1,4}){0,4}$")


def is_valid_code102(code: str) -> bool:
    return bool(CODE_102.fullmatch(code))


def is_valid_code_qd20(code: str) -> bool:
    return len(code) <= 35 and bool(CODE_QD20.fullmatch(code))
