"""Hands a request body, chunk by chunk, from the event loop to the S3 SDK's worker thread.

The SDK reads a file-like object; the request arrives as an async stream. A small bounded queue
sits between them, so memory holds at most a few chunks plus the SDK's one part buffer, however
large the file. Chunks are gathered into blocks first so that the thread hand-over happens per
block, not per network read."""

from __future__ import annotations

import asyncio
import hashlib
import io
import queue
import threading
from typing import Final

BLOCK = 1 << 20
_END: Final = b""


class PipeClosed(Exception):
    """The writer gave up (bad input, client gone); the reader must fail, not finish."""


class BodyPipe(io.RawIOBase):
    def __init__(self, depth: int = 4) -> None:
        self._queue: queue.Queue[bytes | BaseException] = queue.Queue(maxsize=depth)
        self._buffer = bytearray()
        self._pending = memoryview(b"")
        self._finished = False
        self._reader_gone = threading.Event()
        # Hashed on the reader's thread, in parallel with the event loop receiving more.
        self.sha256 = hashlib.sha256()

    # -- event-loop side ----------------------------------------------------------------------

    async def feed(self, chunk: bytes) -> None:
        self._buffer += chunk
        if len(self._buffer) >= BLOCK:
            block, self._buffer = bytes(self._buffer), bytearray()
            await self._put(block)

    async def close_writer(self) -> None:
        if self._buffer:
            block, self._buffer = bytes(self._buffer), bytearray()
            await self._put(block)
        await self._put(_END)

    def abort(self, reason: BaseException) -> None:
        """Make the reader fail at its next read, even if the queue is full."""
        while True:
            try:
                self._queue.put_nowait(reason)
                return
            except queue.Full:
                try:
                    self._queue.get_nowait()
                except queue.Empty:
                    continue

    async def _put(self, item: bytes) -> None:
        if self._reader_gone.is_set():
            raise PipeClosed("the reader stopped")
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            await asyncio.to_thread(self._put_blocking, item)

    def _put_blocking(self, item: bytes) -> None:
        # A reader that died (the S3 server went away) never drains the queue: do not wait on
        # it forever.
        while not self._reader_gone.is_set():
            try:
                self._queue.put(item, timeout=0.2)
                return
            except queue.Full:
                continue
        raise PipeClosed("the reader stopped")

    def reader_done(self) -> None:
        """Called when the reader returns or fails; later writes raise `PipeClosed`."""
        self._reader_gone.set()

    # -- worker-thread side -------------------------------------------------------------------

    def readable(self) -> bool:
        return True

    def readinto(self, target: memoryview) -> int:  # type: ignore[override]
        if not self._pending:
            if self._finished:
                return 0
            item = self._queue.get()
            if isinstance(item, BaseException):
                raise PipeClosed(str(item)) from item
            if item == _END:
                self._finished = True
                return 0
            self.sha256.update(item)
            self._pending = memoryview(item)
        size = min(len(target), len(self._pending))
        target[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size
