"""Fault injection in front of the simulated axis, as plain ASGI: what a flaky network and a
struggling axis do to a client. `/admin` is never faulted.

Cutting a connection has no ASGI message; the injector starts a response and returns without
finishing it, on which uvicorn closes the connection (the client sees the peer hang up, with no
answer it can use). That needs a real server: through `httpx.ASGITransport` a cut reads as a
truncated response instead. The simulator's entry point and the tests run it under uvicorn."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from peers.axis_sim import wire
from peers.axis_sim.state import Axis

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
# Any ASGI callable; Litestar types its own arguments more narrowly than a plain Scope.
ASGIApp = Callable[..., Awaitable[None]]

_JSON = [(b"content-type", b"application/json")]


async def _answer(send: Send, status: int, code: str, description: str) -> None:
    body = wire.envelope(code, description)
    await send({"type": "http.response.start", "status": status, "headers": _JSON})
    await send({"type": "http.response.body", "body": body})


async def _cut(send: Send) -> None:
    """Announce a body that never comes; the server then drops the connection."""
    headers = [*_JSON, (b"content-length", b"64")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})


async def _wait_for_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _read_part(scope: Scope, receive: Receive) -> None:
    """Read about half of the request body (at least one chunk), as if the line broke then."""
    declared = dict(scope["headers"]).get(b"content-length", b"0")
    half = int(declared) // 2 if declared.isdigit() else 0
    read = 0
    while True:
        message = await receive()
        read += len(message.get("body", b""))
        if message["type"] != "http.request" or not message.get("more_body") or read >= half:
            return


class FaultInjector:
    def __init__(self, app: ASGIApp, axis: Axis) -> None:
        self.app = app
        self.axis = axis

    def _roll(self, rate: float) -> bool:
        return rate > 0 and self.axis.rng.random() < rate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/admin"):
            await self.app(scope, receive, send)
            return
        faults = self.axis.faults
        if faults.latency_seconds > 0:
            self.axis.count("delayed")
            await asyncio.sleep(faults.latency_seconds)
        if self._roll(faults.hang_rate):
            self.axis.count("hung")
            try:
                await asyncio.wait_for(_wait_for_disconnect(receive), faults.hang_seconds)
            except TimeoutError:
                await _answer(send, 504, wire.SYSTEM_ERROR, "Hết thời gian chờ")
            return
        if self._roll(faults.error_rate):
            self.axis.count("errors")
            await _answer(send, 503, wire.SYSTEM_ERROR, "Lỗi hệ thống (mô phỏng)")
            return
        if scope["path"] == "/sendEdoc" and self._roll(faults.drop_upload_rate):
            self.axis.count("dropped_uploads")
            await _read_part(scope, receive)
            await _cut(send)
            return
        if self._roll(faults.drop_response_rate):
            self.axis.count("dropped_responses")

            async def start_only(message: Message) -> None:
                if message["type"] == "http.response.start":
                    await _cut(send)

            await self.app(scope, receive, start_only)
            return
        await self.app(scope, receive, send)
