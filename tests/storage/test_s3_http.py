"""The raw S3 read refuses every answer that is not a plain, whole GET object answer. A small
socket server plays a misbehaving store (MinIO itself always answers correctly: its answers
are covered by every download test)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from services.common.problems import DependencyUnavailable
from services.storage.objects.s3_http import NotFoundInStore, stream_get

Answer = Callable[[bytes], bytes]


@pytest.fixture
async def store() -> AsyncIterator[Callable[[bytes], str]]:
    """Starts a server that answers every request with the given raw bytes, then closes."""
    servers: list[asyncio.Server] = []

    async def start(raw: bytes) -> str:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(raw)
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        servers.append(server)
        port = server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/bucket/key?X-Amz-Signature=abc"

    yield start  # type: ignore[misc]
    for server in servers:
        server.close()
        await server.wait_closed()


async def read_all(url: str) -> bytes:
    return b"".join([chunk async for chunk in stream_get(url, wait_seconds=5)])


async def test_a_plain_answer_is_read_whole(store) -> None:  # type: ignore[no-untyped-def]
    body = b"%PDF-1.7\n" + bytes(range(256)) * 5000
    url = await store(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    assert await read_all(url) == body


async def test_a_slow_reader_gets_every_byte_in_buffers_of_its_own(store) -> None:  # type: ignore[no-untyped-def]
    """The store runs ahead of a slow reader, so reading pauses and resumes; every chunk is a
    buffer the reader keeps."""
    body = bytes(range(256)) * (5 * 4096 + 7)  # over 5 MiB, not a whole number of chunks
    url = await store(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    chunks = []
    async for chunk in stream_get(url, wait_seconds=5):
        chunks.append(chunk)
        await asyncio.sleep(0.02)
    assert len(chunks) >= 5
    assert max(len(chunk) for chunk in chunks) <= 1 << 20
    # Kept whole until the end: a buffer reused for later bytes would change an earlier chunk.
    assert b"".join(chunks) == body


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            "chunked",
        ),
        (b"HTTP/1.1 200 OK\r\nContent-Type: application/pdf\r\n\r\nbytes", "no content length"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this", "body cut short"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nmore than four", "longer than"),
        (b"HTTP/1.1 503 Slow Down\r\nContent-Length: 0\r\n\r\n", "status"),
        (b"SSH-2.0-OpenSSH\r\n\r\n", "malformed status line"),
        (b"HTTP/1.1 200 OK\r\n" + b"X-Pad: " + b"a" * 70_000 + b"\r\n\r\n", "header block"),
        (b"HTTP/1.1 200 OK\r\nContent-Le", "no answer"),
    ],
)
async def test_anything_else_is_refused_as_a_store_failure(store, raw: bytes, reason: str) -> None:  # type: ignore[no-untyped-def]
    url = await store(raw)
    with pytest.raises(DependencyUnavailable) as refused:
        await read_all(url)
    assert reason in str(refused.value.extensions.get("reason", "")), refused.value.extensions


async def test_a_missing_key_is_told_apart(store) -> None:  # type: ignore[no-untyped-def]
    url = await store(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
    with pytest.raises(NotFoundInStore):
        await read_all(url)


async def test_a_store_that_is_not_there_is_unavailable() -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    with pytest.raises(DependencyUnavailable):
        await read_all(f"http://127.0.0.1:{port}/bucket/key")
