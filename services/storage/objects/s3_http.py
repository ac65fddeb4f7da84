"""Plain S3 requests of presigned URLs over asyncio sockets: the object bytes never pass
through an HTTP client library.

Every download, integrity check and upload streams a whole object through the service, so this
is the hot path. S3's answers are the simplest HTTP there is: a status line, headers with
`Content-Length`, then exactly that many bytes. The socket is read by a buffered protocol into
fresh 1 MiB buffers that are handed on as they are, so no byte is copied in Python between the
store's socket and the client's (a general HTTP client parsing the answer moved a third of the
SDK's speed; asyncio's stream reader copied each byte twice more). Request bodies (upload parts)
are written to the socket as they are. Each request asks for `Connection: close`, so there is
no pooling to get wrong: one connection per request, which costs a fraction of a millisecond
against the store, once per 5 MiB part at most.

Anything that is not that simple answer is refused rather than guessed at: a chunked body, a
missing or malformed length, a header block over 64 KiB, a connection that ends early."""

from __future__ import annotations

import asyncio
import collections
import ssl
from collections.abc import AsyncIterator
from typing import Final, NamedTuple, cast
from urllib.parse import urlsplit

from services.common.problems import DependencyUnavailable

_HEAD_LIMIT: Final = 64 << 10
_CHUNK: Final = 1 << 20
# Until the answer's length is known; buffers are then sized to what is still to come (a fresh
# 1 MiB buffer is 256 page faults, more than a small file's whole read).
_FIRST: Final = 64 << 10
# Received but not yet taken: reading pauses beyond this.
_AHEAD: Final = 2 * _CHUNK


class _Receiver(asyncio.BufferedProtocol):
    """Fills buffers from the socket and hands each one over whole: the taker owns it."""

    def __init__(self) -> None:
        self._filled: collections.deque[bytearray] = collections.deque()
        self._to_come: int | None = None
        self._buffer = bytearray(_FIRST)
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

    def expect(self, body_left: int) -> None:
        """The body has `body_left` bytes not yet taken: later buffers hold no more than that."""
        self._to_come = body_left - self._ahead

    def _new_buffer(self) -> bytearray:
        if self._to_come is None:
            return bytearray(_FIRST)
        return bytearray(max(1, min(_CHUNK, self._to_come)))

    def buffer_updated(self, nbytes: int) -> None:
        self._used += nbytes
        self._ahead += nbytes
        if self._to_come is not None:
            self._to_come -= nbytes
        if self._used == len(self._buffer):
            self._filled.append(self._buffer)
            self._buffer, self._used = self._new_buffer(), 0
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
            chunk, self._buffer = self._buffer, self._new_buffer()
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


# Answers read whole (everything but GET object: upload results, errors) are XML of a few KiB.
_SMALL_ANSWER: Final = 1 << 20


class Answer(NamedTuple):
    status: int
    headers: dict[str, str]
    body: bytes


class _Exchange:
    """One request on its own connection, and the head of its answer."""

    def __init__(self, url: str, wait_seconds: float, tls: ssl.SSLContext | None) -> None:
        self.parts = urlsplit(url)
        self.wait_seconds = wait_seconds
        self.tls = tls
        self.receiver: _Receiver | None = None

    @property
    def target(self) -> str:
        return self.parts.path + (f"?{self.parts.query}" if self.parts.query else "")

    async def send(
        self, method: str, headers: list[str], body: bytes | bytearray | None = None
    ) -> tuple[int, dict[str, str], bytearray]:
        """Sends the request; the answer's status, headers and the body bytes that came with
        them."""
        secure = self.parts.scheme == "https"
        port = self.parts.port or (443 if secure else 80)
        lines = [
            f"{method} {self.target} HTTP/1.1",
            f"Host: {self.parts.netloc}",
            "Connection: close",
            *headers,
        ]
        if body is not None:
            lines.append(f"Content-Length: {len(body)}")
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.wait_seconds):
                transport, self.receiver = await loop.create_connection(
                    _Receiver,
                    self.parts.hostname or "",
                    port,
                    ssl=(self.tls or ssl.create_default_context()) if secure else None,
                )
        except (OSError, TimeoutError) as exc:
            raise _refused("unreachable", cause=type(exc).__name__) from exc
        transport.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        if body:
            transport.write(body)
        received = bytearray()
        while (end := received.find(b"\r\n\r\n")) < 0:
            if len(received) > _HEAD_LIMIT:
                raise _refused("header block too large")
            chunk = await self.take("no answer")
            if not chunk:
                raise _refused("no answer", cause="IncompleteReadError")
            received += chunk
        if end + 4 > _HEAD_LIMIT:
            raise _refused("header block too large")
        status, answer_headers = _head(bytes(received[: end + 4]))
        del received[: end + 4]
        return status, answer_headers, received

    async def take(self, reason: str) -> bytearray:
        assert self.receiver is not None
        try:
            async with asyncio.timeout(self.wait_seconds):
                return await self.receiver.take()
        except (OSError, TimeoutError) as exc:
            raise _refused(reason, cause=type(exc).__name__) from exc

    async def body(self, headers: dict[str, str], first: bytearray) -> AsyncIterator[bytearray]:
        """The answer's body: exactly `Content-Length` bytes, in buffers the caller owns."""
        if "chunked" in headers.get("transfer-encoding", "").lower():
            raise _refused("chunked body")
        length_text = headers.get("content-length", "")
        if not length_text.isdigit():
            raise _refused("no content length")
        remaining = int(length_text)
        chunk = first
        assert self.receiver is not None
        self.receiver.expect(remaining - len(first))
        while True:
            if len(chunk) > remaining:
                raise _refused("body longer than its length")
            if chunk:
                remaining -= len(chunk)
                yield chunk
            if not remaining:
                return
            chunk = await self.take("read failed")
            if not chunk:
                raise _refused("body cut short", missing=remaining)

    def close(self) -> None:
        if self.receiver is not None:
            self.receiver.close()


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
    exchange = _Exchange(url, wait_seconds, tls)
    try:
        status, headers, first = await exchange.send(
            "GET", [f"Range: {byte_range}"] if byte_range else []
        )
        if status == 404:
            raise NotFoundInStore(exchange.target)
        if status >= 300:
            raise _refused("status", s3_status=status)
        async for chunk in exchange.body(headers, first):
            yield chunk
    finally:
        exchange.close()


async def request(
    method: str,
    url: str,
    *,
    body: bytes | bytearray | None = None,
    headers: dict[str, str] | None = None,
    wait_seconds: float = 60.0,
    tls: ssl.SSLContext | None = None,
) -> Answer:
    """Any other request: its whole answer, which must be small (at most 1 MiB)."""
    exchange = _Exchange(url, wait_seconds, tls)
    try:
        status, answer_headers, first = await exchange.send(
            method, [f"{name}: {value}" for name, value in (headers or {}).items()], body
        )
        length = answer_headers.get("content-length", "")
        if length.isdigit() and int(length) > _SMALL_ANSWER:
            raise _refused("answer too large")
        received = bytearray()
        async for chunk in exchange.body(answer_headers, first):
            received += chunk
        return Answer(status, answer_headers, bytes(received))
    finally:
        exchange.close()
