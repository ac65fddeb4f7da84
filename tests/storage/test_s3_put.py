"""Writing objects over presigned URLs, on the real MinIO: one PUT for a small file, a multipart
upload for a large one, the hash of exactly what was written, nothing left by an abort or a
refused part."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator

import msgspec
import pytest
from minio import Minio

from services.common.problems import DependencyUnavailable
from services.storage.objects.s3 import ObjectStore
from tests.storage.conftest import TEST_BUCKET, s3_client, storage_settings

MiB = 1 << 20
PART = 5 * MiB


@pytest.fixture
def store() -> ObjectStore:
    return ObjectStore(msgspec.structs.replace(storage_settings(), part_size=PART))


@pytest.fixture
def s3() -> Minio:
    return s3_client(storage_settings())


@pytest.fixture
def key(s3: Minio) -> Iterator[str]:
    name = f"test-s3-put/{uuid.uuid4()}"
    yield name
    s3.remove_object(TEST_BUCKET, name)


def pieces(data: bytes, size: int = 64 << 10) -> Iterator[bytes]:
    """As a request body arrives: pieces that do not line up with the parts."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


def stored(s3: Minio, key: str) -> bytes:
    response = s3.get_object(TEST_BUCKET, key)
    try:
        return response.read()
    finally:
        response.close()
        response.release_conn()


def pending_uploads(s3: Minio, key: str) -> list[str]:
    """Upload ids of the store's unfinished multipart uploads of the key (ListMultipartUploads,
    which the SDK has only as an internal call)."""
    listing = s3._list_multipart_uploads(TEST_BUCKET, prefix=key)
    return [upload.upload_id or "" for upload in listing.uploads]


@pytest.mark.parametrize("size", [1, PART - 1, PART, 2 * PART + 12345])
async def test_the_bytes_and_their_hash_are_what_was_written(
    store: ObjectStore, s3: Minio, key: str, size: int
) -> None:
    data = os.urandom(size)
    writer = store.writer(TEST_BUCKET, key, "application/pdf")
    for piece in pieces(data):
        await writer.write(piece)
    await writer.finish()

    assert writer.size == size
    assert writer.sha256.hexdigest() == hashlib.sha256(data).hexdigest()
    assert stored(s3, key) == data
    assert s3.stat_object(TEST_BUCKET, key).content_type == "application/pdf"
    assert pending_uploads(s3, key) == []


async def test_an_aborted_upload_leaves_no_object_and_no_parts(
    store: ObjectStore, s3: Minio, key: str
) -> None:
    writer = store.writer(TEST_BUCKET, key, "application/pdf")
    for piece in pieces(os.urandom(2 * PART + 1)):
        await writer.write(piece)
    assert len(pending_uploads(s3, key)) == 1  # the parts reached the store

    await writer.abort()

    assert list(s3.list_objects(TEST_BUCKET, prefix=key)) == []
    assert pending_uploads(s3, key) == []


async def test_a_part_the_store_refuses_fails_the_upload_with_its_reason(
    store: ObjectStore, s3: Minio, key: str
) -> None:
    writer = store.writer(TEST_BUCKET, key, "application/pdf")
    honest = writer._sign  # the one seam to make the store refuse a request

    def spoiled(method: str, query: dict[str, str]) -> str:
        url = honest(method, query)
        return (
            url.replace("X-Amz-Signature=", "X-Amz-Signature=0") if "partNumber" in query else url
        )

    writer._sign = spoiled
    with pytest.raises(DependencyUnavailable) as refused:
        for piece in pieces(os.urandom(3 * PART)):
            await writer.write(piece)
        await writer.finish()
    await writer.abort()

    assert refused.value.extensions["reason"] == "part"
    assert refused.value.extensions["s3_status"] == 403
    assert list(s3.list_objects(TEST_BUCKET, prefix=key)) == []
    assert pending_uploads(s3, key) == []
