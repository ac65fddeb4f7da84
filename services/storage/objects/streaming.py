"""A streamed answer whose chunks go to the server as they are.

Litestar's `Stream` passes on only `bytes` chunks (anything else it `.encode()`s). The object
reader hands out the very buffers the store's socket was read into (`s3_http.py`); turning each
into `bytes` would copy every byte of every download once more. ASGI servers write any
bytes-like body (uvicorn hands it to the transport unchanged), and each buffer belongs to this
answer alone, so nothing can change it while the server still holds it."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterable, Iterable
from typing import TYPE_CHECKING, Any, cast

from litestar.enums import MediaType
from litestar.response import Stream
from litestar.response.base import ASGIResponse
from litestar.response.streaming import ASGIStreamingResponse
from litestar.utils.helpers import get_enum_string_value

if TYPE_CHECKING:
    from litestar import Litestar, Request
    from litestar.background_tasks import BackgroundTask, BackgroundTasks
    from litestar.datastructures import Cookie
    from litestar.types import HTTPResponseBodyEvent, Send, TypeEncodersMap


class _BufferStreamingResponse(ASGIStreamingResponse):
    __slots__ = ()

    async def _stream(self, send: Send) -> None:
        async for chunk in self.iterator:
            event: HTTPResponseBodyEvent = {
                "type": "http.response.body",
                "body": cast(bytes, chunk),
                "more_body": True,
            }
            await send(event)
        await send({"type": "http.response.body", "body": b"", "more_body": False})


class BufferStream(Stream):
    """`Stream` over an async iterator of `bytes` or `bytearray` chunks, none copied."""

    def __init__(self, content: AsyncIterable[bytes] | AsyncIterable[bytearray], **kwargs: Any):
        super().__init__(cast(AsyncIterable[bytes], content), **kwargs)

    def to_asgi_response(
        self,
        app: Litestar | None,
        request: Request[Any, Any, Any],
        *,
        background: BackgroundTask | BackgroundTasks | None = None,
        cookies: Iterable[Cookie] | None = None,
        encoded_headers: Iterable[tuple[bytes, bytes]] | None = None,
        headers: dict[str, str] | None = None,
        is_head_response: bool = False,
        media_type: MediaType | str | None = None,
        status_code: int | None = None,
        type_encoders: TypeEncodersMap | None = None,
    ) -> ASGIResponse:
        return _BufferStreamingResponse(
            background=self.background or background,
            content_length=0,
            cookies=self.cookies if cookies is None else itertools.chain(self.cookies, cookies),
            encoded_headers=encoded_headers,
            encoding=self.encoding,
            headers={**headers, **self.headers} if headers is not None else self.headers,
            is_head_response=is_head_response,
            iterator=self.iterator,  # type: ignore[arg-type]
            media_type=get_enum_string_value(media_type or self.media_type or MediaType.JSON),
            status_code=self.status_code or status_code,
        )
