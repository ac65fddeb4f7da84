"""Storing, serving, locking and checking files: the rules between PostgreSQL and S3.

Two-phase upload, so that the database and the bucket never disagree for long:
1. a `pending` row is committed before any byte is written (PostgreSQL down: 503, nothing
   written);
2. the bytes stream to S3 while their SHA-256 and size are computed; the type is decided from
   the bytes (a file whose bytes do not match its declared type is refused);
3. the row becomes `committed` with size, hash and type, together with the tenant's usage and
   an outbox event, in one transaction.
A failure in step 2 removes the bytes, then the row. A failure in step 3 leaves both to the
sweeper: the commit may have happened without its acknowledgement reaching us, so deleting the
bytes here could orphan a committed row. The sweeper removes `pending` rows (and their bytes)
older than the pending time-to-live; bytes are always removed before their row, so bytes never
remain without a row."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import tempfile
import uuid
from collections.abc import AsyncIterator
from typing import IO, Any, BinaryIO

from sqlalchemy import func, update

from services.common.auth.principal import Principal
from services.common.db import Database, is_unavailable
from services.common.outbox import publish
from services.common.problems import DependencyUnavailable, InvalidInput
from services.storage.objects import records
from services.storage.objects.errors import Corrupt, Locked, QuotaExceeded, too_large
from services.storage.objects.inspection import (
    HEAD_SIZE,
    MEDIA_TYPES,
    FileKind,
    RejectedFile,
    check_matches,
    clean_file_name,
    declared_kind,
    inspect_ole2,
    inspect_xml,
    inspect_zip,
    needs_full_inspection,
    sniff_head,
)
from services.storage.objects.s3 import ObjectMissing, ObjectStore
from services.storage.objects.schemas import StoredObject, Verification
from services.storage.settings import StorageSettings
from services.storage.tables import outbox, stored_object

logger = logging.getLogger("qlvb.storage")

# Inspected files up to this size stay in memory while they are checked; larger ones spill to a
# temporary file.
_SPOOL_IN_MEMORY = 8 << 20
_SPOOL_READ = 1 << 20
# The declared kinds that a ZIP or OLE2 head may still turn out to be, after inspection.
_ZIP_FAMILY = frozenset({FileKind.ZIP, FileKind.DOCX, FileKind.XLSX, FileKind.ODT, FileKind.ODS})
_OLE2_FAMILY = frozenset({FileKind.DOC, FileKind.XLS})


def database_unavailable(exc: Exception) -> DependencyUnavailable:
    return DependencyUnavailable(
        "Cơ sở dữ liệu tạm thời không truy cập được; hãy thử lại sau.",
        "The database is temporarily unreachable; try again later.",
        cause=type(exc).__name__,
    )


def object_key(tenant_id: uuid.UUID, object_id: uuid.UUID) -> str:
    return f"{tenant_id}/{object_id}"


class Upload:
    """The state of one upload between its pending row and its commit."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.size = 0
        # Of the bytes written to the store, set once they all are.
        self.sha256: Any = None

    async def counted(self, head: bytes, body: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        """The request's bytes, the head first; refused as soon as they pass the limit."""
        if head:
            self._count(head)
            yield head
        async for chunk in body:
            if chunk:
                self._count(chunk)
                yield chunk

    def _count(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.limit:
            raise too_large(self.limit)


class ObjectService:
    def __init__(self, db: Database, store: ObjectStore, settings: StorageSettings) -> None:
        self.db = db
        self.store = store
        self.settings = settings

    # -- upload -------------------------------------------------------------------------------

    async def upload(
        self,
        *,
        tenant_id: uuid.UUID,
        principal: Principal,
        file_name: str,
        content_type: str | None,
        content_length: int | None,
        body: AsyncIterator[bytes],
    ) -> StoredObject:
        name = clean_file_name(file_name)
        declared = declared_kind(name, content_type)
        limit = await self._limit(tenant_id, content_length)
        head = await _read_head(body)
        sniffed = sniff_head(head)
        if not head:
            raise RejectedFile("Tệp rỗng.", "The file is empty.", reason="empty")
        if sniffed is None:
            raise RejectedFile(
                "Không nhận ra loại tệp. Chấp nhận: PDF, DOC/DOCX, XLS/XLSX, ODT/ODS, "
                "PNG/JPEG/TIFF, ZIP, XML.",
                "Unknown file type. Accepted: PDF, DOC/DOCX, XLS/XLSX, ODT/ODS, PNG/JPEG/TIFF, "
                "ZIP, XML.",
                reason="unknown-type",
            )
        if not _may_become(declared, sniffed):
            check_matches(declared, sniffed)
        if needs_full_inspection(sniffed):
            limit = min(
                limit,
                self.settings.max_xml_bytes
                if sniffed is FileKind.XML
                else self.settings.max_inspected_bytes,
            )
        if content_length is not None and content_length > limit:
            raise too_large(limit)

        object_id = uuid.uuid4()
        key = object_key(tenant_id, object_id)
        bucket = self.settings.bucket
        try:
            async with self.db.transaction(tenant_id) as conn:
                await records.insert_pending(
                    conn,
                    tenant_id=tenant_id,
                    object_id=object_id,
                    file_name=name,
                    bucket=bucket,
                    key=key,
                    principal=principal,
                )
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            raise database_unavailable(exc) from exc

        upload = Upload(limit)
        try:
            if needs_full_inspection(sniffed):
                kind = await self._inspect_and_put(key, declared, sniffed, head, body, upload)
            else:
                kind = sniffed
                upload.sha256 = await self._write(
                    key, MEDIA_TYPES[kind], upload.counted(head, body)
                )
        except BaseException:
            await self._discard(tenant_id, object_id, bucket, key)
            raise

        try:
            async with self.db.transaction(tenant_id) as conn:
                return await records.mark_committed(
                    conn,
                    tenant_id=tenant_id,
                    object_id=object_id,
                    size=upload.size,
                    sha256=upload.sha256.hexdigest(),
                    kind=kind.value,
                    content_type=MEDIA_TYPES[kind],
                )
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            # Bytes and pending row stay for the sweeper (see the module docstring).
            logger.warning(
                "commit of an upload failed",
                extra={"object_id": str(object_id), "error": repr(exc)},
            )
            raise database_unavailable(exc) from exc

    async def _limit(self, tenant_id: uuid.UUID, content_length: int | None) -> int:
        try:
            async with self.db.transaction(tenant_id, read_only=True) as conn:
                used, _, quota = await records.usage(
                    conn, tenant_id, self.settings.default_quota_bytes
                )
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            raise database_unavailable(exc) from exc
        remaining = quota - used
        if remaining <= 0 or (content_length is not None and content_length > remaining):
            raise QuotaExceeded(
                "Cơ quan đã dùng hết hạn mức lưu trữ; hãy liên hệ quản trị nền tảng.",
                "The agency has used up its storage quota; contact the platform operators.",
                used_bytes=used,
                quota_bytes=quota,
            )
        return min(self.settings.max_object_bytes, remaining)

    async def _write(self, key: str, content_type: str, chunks: AsyncIterator[bytes]) -> Any:
        """Writes the chunks as the object's bytes, as they come; their SHA-256."""
        writer = self.store.writer(self.settings.bucket, key, content_type)
        try:
            async for chunk in chunks:
                await writer.write(chunk)
            await writer.finish()
        except BaseException:
            await writer.abort()
            raise
        return writer.sha256

    async def _inspect_and_put(
        self,
        key: str,
        declared: FileKind | None,
        sniffed: FileKind,
        head: bytes,
        body: AsyncIterator[bytes],
        upload: Upload,
    ) -> FileKind:
        with tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY) as spool:
            async for chunk in upload.counted(head, body):
                spool.write(chunk)
            spool.seek(0)
            kind = await asyncio.to_thread(_inspect, sniffed, spool)
            check_matches(declared, kind)
            spool.seek(0)
            upload.sha256 = await self._write(key, MEDIA_TYPES[kind], _spooled(spool))
        return kind

    async def _discard(
        self, tenant_id: uuid.UUID, object_id: uuid.UUID, bucket: str, key: str
    ) -> None:
        """Remove what a failed upload left. Bytes go first; if the S3 server cannot be reached,
        the row still goes (the uploader was told nothing was stored) and the key is recorded
        for the sweeper, which removes any bytes that did arrive. If the database cannot be
        reached either, the pending row stays and the sweeper finds it."""
        try:
            await self.store.remove(bucket, key)
            removed = True
        except DependencyUnavailable:
            removed = False
        try:
            async with self.db.transaction(tenant_id) as conn:
                await records.delete_row(conn, tenant_id, object_id)
                if not removed:
                    await records.record_discarded(conn, tenant_id, bucket, key)
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            logger.warning(
                "could not discard a failed upload; the sweeper will",
                extra={"object_id": str(object_id), "error": repr(exc)},
            )

    # -- reading ------------------------------------------------------------------------------

    async def get(self, tenant_id: uuid.UUID, object_id: uuid.UUID) -> Any:
        async with self.db.transaction(tenant_id, read_only=True) as conn:
            return await records.fetch(conn, tenant_id, object_id)

    async def content(
        self, row: Any, offset: int = 0, length: int = 0, *, verify: bool = False
    ) -> AsyncIterator[bytearray]:
        """The bytes of a committed object. With `verify`, the stream fails before its end when
        the bytes no longer match the recorded hash, so a reader never gets a complete copy of a
        corrupt file (used by signing and exchange)."""
        digest = hashlib.sha256()
        size = 0
        try:
            async for chunk in self.store.read(row.bucket, row.key, offset, length):
                if verify:
                    digest.update(chunk)
                    size += len(chunk)
                    if size >= row.size and digest.hexdigest() != row.sha256:
                        await self._mark_corrupt(row.tenant_id, row.id)
                        raise Corrupt(
                            "Nội dung tệp không còn khớp mã băm đã ghi nhận.",
                            "The file's bytes no longer match their recorded hash.",
                        )
                yield chunk
        except ObjectMissing as exc:
            await self._mark_corrupt(row.tenant_id, row.id)
            raise Corrupt(
                "Không còn dữ liệu của tệp trong kho lưu trữ.",
                "The file's bytes are missing from the store.",
            ) from exc
        if verify and size < row.size:
            await self._mark_corrupt(row.tenant_id, row.id)
            raise Corrupt("Tệp bị cắt cụt.", "The stored file is truncated.")

    async def verify(self, tenant_id: uuid.UUID, object_id: uuid.UUID) -> Verification:
        row = await self.get(tenant_id, object_id)
        actual = await self.hash_of(row)
        intact = actual == row.sha256
        if intact:
            await self._mark_verified(tenant_id, object_id)
        else:
            await self._mark_corrupt(tenant_id, object_id)
        return Verification(
            id=object_id, sha256_recorded=row.sha256, sha256_actual=actual, intact=intact
        )

    async def hash_of(self, row: Any) -> str:
        digest = hashlib.sha256()
        try:
            async for chunk in self.store.read(row.bucket, row.key):
                digest.update(chunk)
        except ObjectMissing:
            return ""
        return digest.hexdigest()

    async def _mark_verified(self, tenant_id: uuid.UUID, object_id: uuid.UUID) -> None:
        async with self.db.transaction(tenant_id) as conn:
            await conn.execute(
                update(stored_object)
                .where(stored_object.c.tenant_id == tenant_id, stored_object.c.id == object_id)
                .values(verified_at=func.now(), corrupt=False)
            )

    async def _mark_corrupt(self, tenant_id: uuid.UUID, object_id: uuid.UUID) -> None:
        async with self.db.transaction(tenant_id) as conn:
            changed = await conn.execute(
                update(stored_object)
                .where(
                    stored_object.c.tenant_id == tenant_id,
                    stored_object.c.id == object_id,
                    stored_object.c.corrupt.is_(False),
                )
                .values(verified_at=func.now(), corrupt=True)
            )
            if changed.rowcount:
                await publish(
                    conn,
                    outbox,
                    tenant_id,
                    "storage.object.corrupt",
                    {"object_id": str(object_id)},
                )
        logger.error("stored object is corrupt", extra={"object_id": str(object_id)})

    # -- deletion and retention ---------------------------------------------------------------

    async def soft_delete(self, tenant_id: uuid.UUID, object_id: uuid.UUID) -> StoredObject:
        async with self.db.transaction(tenant_id) as conn:
            row = await records.fetch(conn, tenant_id, object_id, for_update=True)
            if row.locked_until is not None:
                raise Locked(
                    f"Tệp được lưu trữ có thời hạn đến {row.locked_until:%d/%m/%Y}; không thể xóa.",
                    f"The file is under retention until {row.locked_until:%Y-%m-%d}; it "
                    "cannot be deleted.",
                )
            updated = (
                await conn.execute(
                    update(stored_object)
                    .where(stored_object.c.tenant_id == tenant_id, stored_object.c.id == object_id)
                    .values(state=records.DELETED, deleted_at=func.now())
                    .returning(*stored_object.c)
                )
            ).one()
            await records.add_usage(conn, tenant_id, -int(row.size), -1)
            await publish(
                conn, outbox, tenant_id, "storage.object.deleted", {"object_id": str(object_id)}
            )
            return records.view(updated)

    async def restore(self, tenant_id: uuid.UUID, object_id: uuid.UUID) -> StoredObject:
        async with self.db.transaction(tenant_id) as conn:
            row = await records.fetch(
                conn, tenant_id, object_id, states=(records.DELETED,), for_update=True
            )
            updated = (
                await conn.execute(
                    update(stored_object)
                    .where(stored_object.c.tenant_id == tenant_id, stored_object.c.id == object_id)
                    .values(state=records.COMMITTED, deleted_at=None)
                    .returning(*stored_object.c)
                )
            ).one()
            await records.add_usage(conn, tenant_id, int(row.size), 1)
            return records.view(updated)

    async def lock(
        self, tenant_id: uuid.UUID, object_id: uuid.UUID, retain_until: dt.date
    ) -> StoredObject:
        """Put an issued file under object lock: a server-side copy into the lock bucket."""
        until = dt.datetime.combine(retain_until, dt.time(0, 0), tzinfo=dt.UTC)
        if until <= records.now():
            raise InvalidInput(
                "Thời hạn lưu trữ phải ở tương lai.", "The retention date must be in the future."
            )
        row = await self.get(tenant_id, object_id)
        locked_bucket = self.settings.locked_bucket
        if row.locked_until is not None:
            if until <= row.locked_until:
                return records.view(row)  # a retention is only ever extended
            await self.store.extend_retention(row.bucket, row.key, until)
        else:
            # Verified first: locking corrupt bytes for decades would be the worst outcome.
            if await self.hash_of(row) != row.sha256:
                await self._mark_corrupt(tenant_id, object_id)
                raise Corrupt(
                    "Nội dung tệp không khớp mã băm; không khóa lưu trữ.",
                    "The file's bytes do not match their hash; not locked.",
                )
            await self.store.copy_locked(row.key, locked_bucket, row.key, until)
        async with self.db.transaction(tenant_id) as conn:
            updated = (
                await conn.execute(
                    update(stored_object)
                    .where(stored_object.c.tenant_id == tenant_id, stored_object.c.id == object_id)
                    .values(
                        bucket=locked_bucket,
                        locked_until=until,
                        lock_mode=self.settings.lock_mode,
                    )
                    .returning(*stored_object.c)
                )
            ).one()
            await publish(
                conn,
                outbox,
                tenant_id,
                "storage.object.locked",
                {"object_id": str(object_id), "locked_until": until.isoformat()},
            )
        if row.locked_until is None:
            # The unlocked original is no longer referenced; the locked copy is the file now.
            try:
                await self.store.remove(row.bucket, row.key)
            except DependencyUnavailable:
                logger.warning("unreferenced original left", extra={"key": row.key})
        return records.view(updated)


async def _spooled(spool: IO[bytes]) -> AsyncIterator[bytes]:
    # Past 8 MiB the spool is a file on disk: read off the event loop.
    while chunk := await asyncio.to_thread(spool.read, _SPOOL_READ):
        yield chunk


async def _read_head(body: AsyncIterator[bytes]) -> bytes:
    head = bytearray()
    async for chunk in body:
        head += chunk
        if len(head) >= HEAD_SIZE:
            break
    return bytes(head)


def _may_become(declared: FileKind | None, sniffed: FileKind) -> bool:
    """A ZIP or OLE2 head is a container: its real type is known only after inspection."""
    return (sniffed is FileKind.ZIP and declared in _ZIP_FAMILY) or (
        sniffed is FileKind.DOC and declared in _OLE2_FAMILY
    )


def _inspect(sniffed: FileKind, file: IO[bytes]) -> FileKind:
    data: BinaryIO = file  # type: ignore[assignment]
    if sniffed is FileKind.ZIP:
        return inspect_zip(data)
    if sniffed is FileKind.DOC:
        return inspect_ole2(data)
    inspect_xml(data)
    return FileKind.XML
