"""Writing an object: its bytes as they arrive, in parts sent while the next ones arrive.

The bytes are gathered into `part_size` buffers; each full buffer becomes one part of an S3
multipart upload, sent over a presigned URL (`s3_http.py`) while more bytes arrive, at most
`parallel_parts` at a time. Beyond that the next write waits, which slows the client down
instead of growing memory: an upload holds `parallel_parts + 1` parts. A file smaller than one
part is one plain PUT. The SHA-256 of the bytes is computed part by part, in order, in a worker
thread beside the network work; at most `parallel_parts` parts wait for it (hashing is several
times faster than the network here, so in practice none do; at worst an upload holds
`2 * parallel_parts + 1` parts).

Presigned requests carry no payload signature (`UNSIGNED-PAYLOAD`, which the SDK also uses over
TLS), so neither this service nor the store hashes each part a second time; the object's own
SHA-256, which the service records and checks, covers the bytes. A failure anywhere (the store
refusing a part, the client going away, a size limit) aborts the multipart upload so that the
store drops the parts it holds."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import html
import re
from collections.abc import Callable
from typing import Any, Final

from services.common.problems import DependencyUnavailable
from services.storage.objects.s3_http import Answer, request

# (method, query parameters) -> a presigned URL of the object being written.
Signer = Callable[[str, dict[str, str]], str]

_RETRIES: Final = 2
_RETRY_PAUSE: Final = 0.2
_UPLOAD_ID = re.compile(r"<UploadId>([^<]+)</UploadId>")
_ERROR_CODE = re.compile(r"<Code>([^<]+)</Code>")


def _failed(answer: Answer, step: str) -> DependencyUnavailable:
    code = _ERROR_CODE.search(answer.body.decode("utf-8", "replace"))
    return DependencyUnavailable(
        "Kho lưu trữ tệp từ chối ghi tệp; chưa có gì được lưu, hãy thử lại sau.",
        "The file store refused to write the file; nothing was stored, try again later.",
        reason=step,
        s3_status=answer.status,
        s3_code=code.group(1) if code else None,
    )


class ObjectWriter:
    def __init__(
        self,
        sign: Signer,
        *,
        content_type: str,
        part_size: int,
        parallel_parts: int,
        wait_seconds: float,
    ) -> None:
        self._sign = sign
        self._content_type = content_type
        self._part_size = part_size
        self._parallel = parallel_parts
        self._wait = wait_seconds
        self._buffer = bytearray(part_size)
        self._filled = 0
        self._upload_id: str | None = None
        self._parts: list[asyncio.Task[str]] = []
        self._hashing: asyncio.Task[None] | None = None
        self._unhashed = 0
        self.sha256: Any = hashlib.sha256()
        self.size = 0

    async def write(self, chunk: bytes | bytearray | memoryview) -> None:
        view = memoryview(chunk)
        while view:
            room = self._part_size - self._filled
            piece = view[:room]
            self._buffer[self._filled : self._filled + len(piece)] = piece
            self._filled += len(piece)
            self.size += len(piece)
            view = view[len(piece) :]
            if self._filled == self._part_size:
                full, self._buffer, self._filled = self._buffer, bytearray(self._part_size), 0
                await self._send_part(full)

    async def finish(self) -> None:
        """Sends what is left and completes the object; the hash is final afterwards."""
        last = self._buffer
        del last[self._filled :]
        self._buffer, self._filled = bytearray(), 0
        if self._upload_id is None:
            self._hash(last)
            answer = await self._request(
                "PUT", {}, body=last, headers={"Content-Type": self._content_type}
            )
            if answer.status != 200:
                raise _failed(answer, "put")
        else:
            if last:
                await self._send_part(last)
            etags = [await part for part in self._parts]
            await self._complete(etags)
        if self._hashing is not None:
            await self._hashing

    async def abort(self) -> None:
        """Stops every part in flight and asks the store to drop the parts it holds."""
        for part in self._parts:
            part.cancel()
        for part in self._parts:
            with contextlib.suppress(BaseException):
                await part
        if self._hashing is not None:
            self._hashing.cancel()
            with contextlib.suppress(BaseException):
                await self._hashing
        if self._upload_id is not None:
            # Best effort: a store that cannot be reached keeps the parts until its own expiry
            # of stale multipart uploads; no object exists, so nothing is visible.
            with contextlib.suppress(DependencyUnavailable):
                await self._request("DELETE", {"uploadId": self._upload_id})

    # -- parts ----------------------------------------------------------------------------------

    async def _send_part(self, part: bytearray) -> None:
        if self._upload_id is None:
            await self._initiate()
        in_flight = [task for task in self._parts if not task.done()]
        if len(in_flight) >= self._parallel:
            await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
        for task in self._parts:
            if task.done():
                task.result()  # a part that failed fails the upload now, not at the end
        if self._hashing is not None and self._unhashed >= self._parallel:
            # Parts waiting to be hashed are held in memory too: a slow hash slows the client.
            await self._hashing
        self._hash(part)
        number = len(self._parts) + 1
        self._parts.append(asyncio.create_task(self._put_part(number, part)))

    async def _put_part(self, number: int, part: bytearray) -> str:
        assert self._upload_id is not None
        query = {"partNumber": str(number), "uploadId": self._upload_id}
        answer = await self._request("PUT", query, body=part)
        etag = answer.headers.get("etag")
        if answer.status != 200 or not etag:
            raise _failed(answer, "part")
        return etag

    def _hash(self, part: bytearray) -> None:
        """Chains the part's hashing after the previous part's, off the event loop."""
        previous = self._hashing
        self._unhashed += 1

        async def run() -> None:
            if previous is not None:
                await previous
            await asyncio.to_thread(self.sha256.update, part)
            self._unhashed -= 1

        self._hashing = asyncio.create_task(run())

    # -- the multipart upload -------------------------------------------------------------------

    async def _initiate(self) -> None:
        answer = await self._request(
            "POST", {"uploads": ""}, headers={"Content-Type": self._content_type}
        )
        found = _UPLOAD_ID.search(answer.body.decode("utf-8", "replace"))
        if answer.status != 200 or found is None:
            raise _failed(answer, "initiate")
        self._upload_id = html.unescape(found.group(1))

    async def _complete(self, etags: list[str]) -> None:
        assert self._upload_id is not None
        listing = "".join(
            f"<Part><PartNumber>{number}</PartNumber><ETag>{html.escape(etag)}</ETag></Part>"
            for number, etag in enumerate(etags, start=1)
        )
        body = f"<CompleteMultipartUpload>{listing}</CompleteMultipartUpload>".encode()
        answer = await self._request(
            "POST",
            {"uploadId": self._upload_id},
            body=body,
            headers={"Content-Type": "application/xml"},
        )
        # S3 may answer 200 and still report an error in the body (it has started writing).
        if answer.status != 200 or b"<Error>" in answer.body:
            raise _failed(answer, "complete")

    async def _request(
        self,
        method: str,
        query: dict[str, str],
        *,
        body: bytes | bytearray | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        """One request, tried again after a network failure or a 5xx (the store restarting)."""
        for attempt in range(_RETRIES + 1):
            try:
                answer = await request(
                    method,
                    self._sign(method, query),
                    body=body if body is not None else b"",
                    headers=headers,
                    wait_seconds=self._wait,
                )
            except DependencyUnavailable:
                if attempt == _RETRIES:
                    raise
            else:
                if answer.status < 500 or attempt == _RETRIES:
                    return answer
            await asyncio.sleep(_RETRY_PAUSE * (attempt + 1))
        raise AssertionError("unreachable")
