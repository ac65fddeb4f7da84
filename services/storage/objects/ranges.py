"""HTTP range requests (RFC 9110 §14): one range per request, which is what viewers ask for."""

from __future__ import annotations

import re

from services.storage.objects.errors import RangeNotSatisfiable

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) byte positions, inclusive; None for the whole file.

    A header this parser does not understand (several ranges, other units) is ignored, as the
    RFC allows: the whole file is served."""
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if match is None:
        return None
    first_text, last_text = match.groups()
    if not first_text and not last_text:
        return None
    if not first_text:
        suffix = int(last_text)
        if suffix == 0 or size == 0:
            raise _unsatisfiable(size)
        return max(size - suffix, 0), size - 1
    first = int(first_text)
    last = int(last_text) if last_text else size - 1
    if first >= size or last < first:
        raise _unsatisfiable(size)
    return first, min(last, size - 1)


def _unsatisfiable(size: int) -> RangeNotSatisfiable:
    problem = RangeNotSatisfiable(
        f"Đoạn yêu cầu nằm ngoài tệp ({size} byte).",
        f"The requested range lies outside the file ({size} bytes).",
    )
    problem.headers["Content-Range"] = f"bytes */{size}"
    return problem
