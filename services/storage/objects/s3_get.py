"""Reading an object's bytes: one plain S3 GET of a presigned URL, received straight into the
chunks the service sends on.

Every download and every integrity check streams a whole object through the service, so this
is the hot read path. An S3 GET object answer is the simplest HTTP there is: a status line,
headers with `Content-Length`, then exactly that many bytes. The socket is read by a buffered
protocol into fresh 1 MiB buffers that are handed on as they are, so no byte is copied in
Python between the store's socket and the client's (a general HTTP client parsing the answer
moved a third of the SDK's speed; asyncio's stream reader copied each byte twice more). The
request asks for `Connection: close`, so there is no pooling to get wrong: one connection per
read, which costs a fraction of a millisecond against the store.

Anything that is not that simple answer is refused rather than guessed at: a chunked body, a
missing or malformed length, a header block over 64 KiB, a connection that ends early."""

from __future__ import annotations

import asyncio
import collections
import ssl
from collections.abc import AsyncIterator
from typing import Final, cast
from urllib.parse import urlsplit

from services.common.problems import DependencyUnavailable

_HEAD_LIMIT: Final = 64 << 10
_CHUNK: Final = 1 << 20
# Received but not yet taken: reading pauses beyond this.
_AHEAD: Final = 2 * _CHUNK


class _Receiver(asyncio.BufferedProtocol):
    """Fills buffers from the socket and hands each one over whole: the taker owns it."""

    def __init__(self) -> None:
        self._filled: collections.deque[bytearray] = collections.deque()
        self._buffer = bytearray(_CHUNK)
        self._used = 0
        self._ahead = 0
        self._ended = False
        self._error: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._transport: asyncio.Transport | None = None
        self._paused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self._transport = cast(asyncio.Transport, transport)

    def get_buffer(self, sizehint: int) -> memoryview:
        return memoryview(self._buffer)[self._used :]

    def buffer_updated(self, nbytes: int) -> None:
        self._used += nbytes
        self._ahead += nbytes
        if self._used == len(self._buffer):
            self._filled.append(self._buffer)
            self._buffer, self._used = bytearray(_CHUNK), 0
        if self._ahead >= _AHEAD and not self._paused and self._transport is not None:
            self._paused = True
            self._transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        self._ended = True
        self._wake()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._ended = True
        self._error = exc
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def take(self) -> bytearray:
        """What has arrived (at least one byte), or an empty buffer once the answer ended."""
        while not self._filled and not self._used:
            if self._ended:
                if self._error is not None:
                    raise self._error
                return bytearray()
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        if self._filled:
            chunk = self._filled.popleft()
        else:
            chunk, self._buffer = self._buffer, bytearray(_CHUNK)
            del chunk[self._used :]
            self._used = 0
        self._ahead -= len(chunk)
        if self._paused and self._ahead < _AHEAD and self._transport is not None:
            self._paused = False
            self._transport.resume_reading()
        return chunk

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()


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
) -> AsyncIterator[bytearray]:
    """The body of `GET url`, in chunks of at most 1 MiB that the caller may keep (each is a
    buffer of its own); `wait_seconds` bounds each network wait (connecting, the answer's head,
    every chunk), not the whole transfer."""
    parts = urlsplit(url)
    secure = parts.scheme == "https"
    host = parts.hostname or ""
    port = parts.port or (443 if secure else 80)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    request = [f"GET {target} HTTP/1.1", f"Host: {parts.netloc}", "Connection: close"]
    if byte_range:
        request.append(f"Range: {byte_range}")
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(wait_seconds):
            transport, receiver = await loop.create_connection(
                _Receiver,
                host,
                port,
                ssl=(tls or ssl.create_default_context()) if secure else None,
            )
    except (OSError, TimeoutError) as exc:
        raise _refused("unreachable", cause=type(exc).__name__) from exc
    try:
        transport.write(("\r\n".join(request) + "\r\n\r\n").encode("latin-1"))
        received = bytearray()
        while (end := received.find(b"\r\n\r\n")) < 0:
            if len(received) > _HEAD_LIMIT:
                raise _refused("header block too large")
            chunk = await _take(receiver, wait_seconds, "no answer")
            if not chunk:
                raise _refused("no answer", cause="IncompleteReadError")
            received += chunk
        if end + 4 > _HEAD_LIMIT:
            raise _refused("header block too large")
        status, headers = _head(bytes(received[: end + 4]))
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
        del received[: end + 4]
        chunk = received
        while True:
            if len(chunk) > remaining:
                raise _refused("body longer than its length")
            if chunk:
                remaining -= len(chunk)
                yield chunk
            if not remaining:
                return
            chunk = await _take(receiver, wait_seconds, "read failed")
            if not chunk:
                raise _refused("body cut short", missing=remaining)
    finally:
        receiver.close()


async def _take(receiver: _Receiver, wait_seconds: float, reason: str) -> bytearray:
    try:
        async with asyncio.timeout(wait_seconds):
            return await receiver.take()
    except (OSError, TimeoutError) as exc:
        raise _refused(reason, cause=type(exc).__name__) from exc
