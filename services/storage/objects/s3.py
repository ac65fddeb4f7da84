"""The S3 side of storage: one client per process, plain S3 calls, run off the event loop.

An object's bytes travel over presigned URLs on asyncio sockets (`s3_http.py` reads,
`s3_put.py` writes), signed locally by the MinIO SDK. Everything else (stat, remove, copy into
the locked bucket, retention) is an SDK call, which is synchronous (urllib3) and so made in a
worker thread. Only the plain S3 API is used (no MinIO admin API), so any S3-compatible server
can take MinIO's place. Connection failures surface as `DependencyUnavailable` (503) after a
short, bounded retry."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import urllib3
from minio import Minio
from minio.commonconfig import COMPLIANCE, GOVERNANCE, CopySource
from minio.error import S3Error
from minio.retention import Retention

from services.common.problems import DependencyUnavailable
from services.storage.objects.s3_http import NotFoundInStore, stream_get
from services.storage.objects.s3_put import ObjectWriter
from services.storage.settings import StorageSettings

T = TypeVar("T")

# Bounds each wait of a read or write (the head, every chunk, a part), not a whole transfer.
READ_TIMEOUT = 60.0
# Presigned URLs made for the service's own requests, each used at once.
_SIGNED_FOR = dt.timedelta(minutes=15)
_MISSING = frozenset({"NoSuchKey", "NoSuchObject", "NoSuchVersion"})


class ObjectMissing(Exception):
    """The bytes of an object are not where its row says they are."""


def _http_client() -> urllib3.PoolManager:
    # The SDK's default retries five times with back-off: a stopped server would hold an upload
    # for many seconds before the client hears 503.
    return urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=5.0, read=120.0),
        maxsize=32,
        retries=urllib3.Retry(total=2, backoff_factor=0.2, status_forcelist=(502, 503, 504)),
    )


def _unavailable(exc: Exception) -> DependencyUnavailable:
    return DependencyUnavailable(
        "Kho lưu trữ tệp tạm thời không truy cập được; chưa có gì được ghi, hãy thử lại sau.",
        "The file store is temporarily unreachable; nothing was stored, try again later.",
        cause=type(exc).__name__,
    )


class ObjectStore:
    def __init__(self, settings: StorageSettings) -> None:
        self.settings = settings
        self.client = Minio(
            settings.s3_endpoint,
            access_key=settings.s3_access_key,
            secret_key=settings.s3_secret_key,
            secure=settings.s3_secure,
            region=settings.s3_region,
            http_client=_http_client(),
        )
        # Signing a link needs no request when the region is known, so this client never calls
        # the public endpoint; it only puts that host into the URLs it signs.
        self.public = Minio(
            settings.s3_public_endpoint or settings.s3_endpoint,
            access_key=settings.s3_access_key,
            secret_key=settings.s3_secret_key,
            secure=settings.s3_secure,
            region=settings.s3_region,
        )

    async def _call(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            return await asyncio.to_thread(function, *args, **kwargs)
        except S3Error as exc:
            if exc.code in _MISSING:
                raise ObjectMissing(f"{args[0]}/{args[1]}") from exc
            raise
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise _unavailable(exc) from exc

    def writer(self, bucket: str, key: str, content_type: str) -> ObjectWriter:
        """A new object's bytes, written as they arrive (`s3_put.py`)."""

        def sign(method: str, query: dict[str, str]) -> str:
            params: dict[str, str | list[str] | tuple[str]] = {**query}
            return self.client.get_presigned_url(
                method, bucket, key, expires=_SIGNED_FOR, extra_query_params=params
            )

        return ObjectWriter(
            sign,
            content_type=content_type,
            part_size=self.settings.part_size,
            parallel_parts=self.settings.parallel_parts,
            wait_seconds=READ_TIMEOUT,
        )

    async def remove(self, bucket: str, key: str) -> None:
        """Idempotent: a missing object is already removed."""
        try:
            await self._call(self.client.remove_object, bucket, key)
        except ObjectMissing:
            return

    async def exists(self, bucket: str, key: str) -> bool:
        try:
            await self._call(self.client.stat_object, bucket, key)
        except ObjectMissing:
            return False
        return True

    async def read(
        self, bucket: str, key: str, offset: int = 0, length: int = 0
    ) -> AsyncIterator[bytearray]:
        """The bytes of an object (or of a range), in chunks the caller owns, never the whole
        file at once: a presigned GET (plain S3, signed locally) read straight off the socket
        (`s3_http.py`)."""
        url = self.client.presigned_get_object(bucket, key, expires=_SIGNED_FOR)
        byte_range = None
        if offset or length:
            last = f"{offset + length - 1}" if length else ""
            byte_range = f"bytes={offset}-{last}"
        try:
            async for chunk in stream_get(url, byte_range=byte_range, wait_seconds=READ_TIMEOUT):
                yield chunk
        except NotFoundInStore as exc:
            raise ObjectMissing(f"{bucket}/{key}") from exc

    async def copy_locked(self, source_key: str, bucket: str, key: str, until: dt.datetime) -> None:
        """A server-side copy into the object-lock bucket, retained until `until`."""
        mode = COMPLIANCE if self.settings.lock_mode == "COMPLIANCE" else GOVERNANCE
        await self._call(
            self.client.copy_object,
            bucket,
            key,
            CopySource(self.settings.bucket, source_key),
            retention=Retention(mode, until),
        )

    async def extend_retention(self, bucket: str, key: str, until: dt.datetime) -> None:
        mode = COMPLIANCE if self.settings.lock_mode == "COMPLIANCE" else GOVERNANCE
        await self._call(self.client.set_object_retention, bucket, key, Retention(mode, until))

    def presign(self, bucket: str, key: str, content_disposition: str, content_type: str) -> str:
        return self.public.presigned_get_object(
            bucket,
            key,
            expires=dt.timedelta(seconds=self.settings.presign_seconds),
            response_headers={
                "response-content-disposition": content_disposition,
                "response-content-type": content_type,
            },
        )

    async def ping(self) -> None:
        await self._call(self.client.bucket_exists, self.settings.bucket)
