"""The axis side of the VDXP wire protocol (spec §3.2-3.3): checking the signed headers,
answering in the `{"status", "ErrorCode", "ErrorDesc"}` envelope.

Written independently of the product client (`services/interchange/axis`), from the spec, so
that the two check each other. The HMAC is verified over the signed JSON exactly as received
(the server need not reproduce the SDK's Gson serialisation), and every signed value must be
the value of the header actually sent, so a parameter cannot be swapped under a valid HMAC.

The VDXP error-code catalogue is unconfirmed (spec §3.3); the simulator answers with the codes
of the one catalogue published, LGSP Lạng Sơn's (spec §3.7)."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from typing import Any

import msgspec

OK = "0"
INVALID_FILE = "10"  # file không hợp lệ (hash mismatch, too large)
BAD_CREDENTIALS = "15"  # sai SystemId/SecretKey
UNKNOWN_RECIPIENT = "18"  # đơn vị nhận không tồn tại
SENDER_NOT_REGISTERED = "19"  # đơn vị gửi không đăng ký
SYSTEM_ERROR = "20"  # lỗi hệ thống
PROCESSING_ERROR = "21"  # lỗi xử lý (unknown document, bad parameter)
BAD_EDXML = "22"  # sai định dạng edXML
RECIPIENT_LOCKED = "23"  # đơn vị nhận đã khóa

PREFIX = "XroadVnpt-"


class AxisFailure(Exception):
    """An operation refused: the HTTP status and the envelope's code and description."""

    def __init__(self, http_status: int, code: str, description: str) -> None:
        super().__init__(f"{code}: {description}")
        self.http_status = http_status
        self.code = code
        self.description = description


def envelope(code: str = OK, description: str = "Thành công", **fields: Any) -> bytes:
    return msgspec.json.encode(
        {"status": "OK" if code == OK else "FAIL", "ErrorCode": code, "ErrorDesc": description}
        | fields
    )


def bad_credentials(description: str) -> AxisFailure:
    return AxisFailure(401, BAD_CREDENTIALS, f"Sai SystemId/SecretKey: {description}")


def verify_headers(
    headers: Mapping[str, str], secret_of: Callable[[str], str | None]
) -> tuple[str, dict[str, str]]:
    """The calling system id and the signed parameters (unprefixed names) of a request.

    `headers` has lower-case names; `secret_of` gives a system's secret, None if unknown."""
    sign_header = headers.get("xroadvnpt-sign-header")
    key_list = headers.get("xroadvnpt-sign-header-key")
    digest = headers.get("xroadvnpt-hash-header")
    if sign_header is None or key_list is None or digest is None:
        raise bad_credentials("thiếu tiêu đề ký")
    try:
        signed = json.loads(sign_header)
    except ValueError as error:
        raise bad_credentials("tiêu đề ký không phải JSON") from error
    if not isinstance(signed, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in signed.items()
    ):
        raise bad_credentials("tiêu đề ký không đúng dạng")
    names = [key.removeprefix(PREFIX) for key in signed]
    if key_list.split(";") != names or not all(key.startswith(PREFIX) for key in signed):
        raise bad_credentials("danh sách khoá ký không khớp")
    system_id = signed.get(f"{PREFIX}systemid")
    if system_id is None or f"{PREFIX}timestamp" not in signed:
        raise bad_credentials("thiếu systemid hoặc timestamp")
    secret = secret_of(system_id)
    if secret is None:
        raise bad_credentials("hệ thống chưa đăng ký")
    expected = hmac.new(secret.encode(), sign_header.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, digest.lower()):
        raise bad_credentials("chữ ký HMAC không đúng")
    for key, value in signed.items():
        if headers.get(key.lower()) != value:
            raise bad_credentials(f"tiêu đề {key} khác giá trị đã ký")
    return system_id, {key.removeprefix(PREFIX): value for key, value in signed.items()}


def sdk_hash_hex(data: bytes) -> str:
    """SHA-256 as the SDK writes it: each byte in hex without zero padding (spec §3.2)."""
    return "".join(format(byte, "x") for byte in hashlib.sha256(data).digest())
