"""Reading an object's bytes: one plain S3 GET of a presigned URL, over an asyncio stream.

Every download and every integrity check streams a whole object through the service, so this
is the hot read path. An S3 GET object answer is the simplest HTTP there is: a status line,
headers with `Content-Length`, then exactly that many bytes. Reading it straight off the
socket moved 100 MiB at the speed of the MinIO SDK (1.4-2.0 GB/s here), where a general
HTTP client parsing it in Python managed a third of that (bench/storage_throughput). The
request asks for `Connection: close`, so there is no pooling to get wrong: one connection per
read, which costs a fraction of a millisecond against the store.

Anything that is not that simple answer is refused rather than guessed at: a chunked body, a
missing or malformed length, a header block over 64 KiB, a connection that ends early."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from typing import Final
from urllib.parse import urlsplit

from services.common.problems import DependencyUnavailable

_HEAD_LIMIT: Final = 64 << 10
_CHUNK: Final = 1 << 20
# The stream's buffer: reading pauses the socket beyond twice this.
_BUFFER: Final = _CHUNK


class NotFoundInStore(Exception):
    """The store answered 404: the key holds nothing."""


def _refused(reason: str, **extra: object) -> DependencyUnavailable:
    return DependencyUnavailable(
        "Kho lưu trữ tệp trả lời lỗi; hãy thử lại sau.",
        "The file store answered with an error; try again later.",
        reason=reason,
        **extra,
    )


def _head(raw: bytes) -> tuple[int, dict[str, str]]:
    lines = raw.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise _refused("malformed status line")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise _refused("malformed header")
        headers[name.strip().lower()] = value.strip()
    return int(parts[1]), headers


async def stream_get(
    url: str,
    *,
    byte_range: str | None = None,
    wait_seconds: float = 60.0,
    tls: ssl.SSLContext | None = None,
) -> AsyncIterator[bytes]:
    """The body of `GET url`, in chunks of at most 1 MiB; `wait_seconds` bounds each network wait
    (connecting, the answer's head, every chunk), not the whole transfer."""
    parts = urlsplit(url)
    secure = parts.scheme == "https"
    host = parts.hostname or ""
    port = parts.port or (443 if secure else 80)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    request = [f"GET {target} HTTP/1.1", f"Host: {parts.netloc}", "Connection: close"]
    if byte_range:
        request.append(f"Range: {byte_range}")
    try:
        async with asyncio.timeout(wait_seconds):
            reader, writer = await asyncio.open_connection(
                host,
                port,
                ssl=(tls or ssl.create_default_context()) if secure else None,
                limit=_BUFFER,
            )
    except (OSError, TimeoutError) as exc:
        raise _refused("unreachable", cause=type(exc).__name__) from exc
    try:
        writer.write(("\r\n".join(request) + "\r\n\r\n").encode("latin-1"))
        try:
            async with asyncio.timeout(wait_seconds):
                head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.LimitOverrunError as exc:
            raise _refused("header block too large") from exc
        except (asyncio.IncompleteReadError, OSError, TimeoutError) as exc:
            raise _refused("no answer", cause=type(exc).__name__) from exc
        if len(head) > _HEAD_LIMIT:
            raise _refused("header block too large")
        status, headers = _head(head)
        if status == 404:
            raise NotFoundInStore(target)
        if status >= 300:
            raise _refused("status", s3_status=status)
        if "chunked" in headers.get("transfer-encoding", "").lower():
            raise _refused("chunked body")
        length_text = headers.get("content-length", "")
        if not length_text.isdigit():
            raise _refused("no content length")
        remaining = int(length_text)
        while remaining:
            try:
                async with asyncio.timeout(wait_seconds):
                    chunk = await reader.read(min(_CHUNK, remaining))
            except (OSError, TimeoutError) as exc:
                raise _refused("read failed", cause=type(exc).__name__) from exc
            if not chunk:
                raise _refused("body cut short", missing=remaining)
            remaining -= len(chunk)
            yield chunk
    finally:
        writer.close()
