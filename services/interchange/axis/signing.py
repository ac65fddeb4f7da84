"""The signed headers of the VDXP SDK 2.0.1 wire protocol (spec §3.2).

Per request the SDK signs a header map (`timestamp`, `systemid`, `Content-Type` and every
parameter of the operation): each entry goes out as `XroadVnpt-<name>`, the whole map as a
compact JSON object in `XroadVnpt-sign-header`, its key list in `XroadVnpt-sign-header-key`, and
HMAC-SHA256(secret, that JSON) in `XroadVnpt-hash-header`. The JSON imitates Gson's defaults,
which escape `< > & = '` as `\\u003c` and so on; the axis may verify the string as received or
re-serialise it, and the imitation is right either way."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Final

USER_AGENT: Final = "JAVASDKAgent/1.0.0 XRoad/VPCP"
PROTOCOL_VERSION: Final = "3.0.201608"
PREFIX: Final = "XroadVnpt-"

_GSON_ESCAPES: Final = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "=": "\\u003d",
    "'": "\\u0027",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def sdk_timestamp(now: datetime) -> str:
    """Java `ddMMyyyy'T'HHmmss+SSSS`: milliseconds zero-padded to four digits."""
    return f"{now:%d%m%Y}T{now:%H%M%S}+{now.microsecond // 1000:04d}"


def gson_json(value: Mapping[str, str] | Sequence[str]) -> str:
    """A flat string map or list as Gson's `toJson` writes it: compact, HTML-sensitive
    characters escaped. Outside strings JSON has none of them, so replacing is safe."""
    plain = dict(value) if isinstance(value, Mapping) else list(value)
    text = json.dumps(plain, separators=(",", ":"), ensure_ascii=False)
    for character, escape in _GSON_ESCAPES.items():
        text = text.replace(character, escape)
    return text


def sdk_hash_hex(data: bytes) -> str:
    """SHA-256 as the SDK's `hash-file`: Java `Integer.toHexString(0xFF & b)` per byte, so a
    byte below 0x10 is one hex digit and the result may be shorter than 64 characters."""
    return "".join(format(byte, "x") for byte in hashlib.sha256(data).digest())


def signed_headers(
    system_id: str,
    secret: str,
    params: Mapping[str, str | Sequence[str]],
    *,
    content_type: str,
    now: datetime,
) -> dict[str, str]:
    """The headers of one request; list parameters (`to`) travel as their JSON text.

    Header values must be ASCII (HTTP carries Latin-1 and the SDK sends no encoding), so
    Vietnamese text never goes in a parameter; a non-ASCII value is a programming error."""
    base: dict[str, str] = {
        "timestamp": sdk_timestamp(now),
        "systemid": system_id,
        "Content-Type": content_type,
    }
    for name, value in params.items():
        base[name] = value if isinstance(value, str) else gson_json(value)
    for name, value in base.items():
        if not value.isascii() or "\r" in value or "\n" in value:
            raise ValueError(f"axis header {name} must be one line of ASCII")
    signed = {f"{PREFIX}{name}": value for name, value in base.items()}
    sign_json = gson_json(signed)
    digest = hmac.new(secret.encode(), sign_json.encode(), hashlib.sha256).hexdigest()
    return {
        "Content-Type": content_type,
        **signed,
        f"{PREFIX}sign-header-key": ";".join(base),
        f"{PREFIX}sign-header": sign_json,
        f"{PREFIX}hash-header": digest,
        "User-Agent": USER_AGENT,
        f"{PREFIX}version": PROTOCOL_VERSION,
    }
