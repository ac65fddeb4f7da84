"""`Content-Disposition` of files the docs service builds (packages, exports), per RFC 6266:
an ASCII fallback name for old clients and the real name in UTF-8 (RFC 8187)."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote


def attachment(file_name: str) -> str:
    folded = unicodedata.normalize("NFKD", file_name.replace("Đ", "D").replace("đ", "d"))
    ascii_name = re.sub(r"[^A-Za-z0-9._-]+", "_", folded.encode("ascii", "ignore").decode())
    return f"attachment; filename=\"{ascii_name or 'tep'}\"; filename*=UTF-8''{quote(file_name)}"
