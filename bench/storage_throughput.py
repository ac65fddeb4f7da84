"""bench/storage_throughput: uploads and downloads through the storage service against the MinIO
SDK talking to the same MinIO directly, in the same run; and the service's memory while a 1 GiB
file streams through it.

The service runs as it does in production: `qlvb serve storage` (uvicorn) in its own process, on
a free loopback port, against the test database and buckets. The client is urllib3 over real
sockets (the SDK's own HTTP stack; httpx streams the 1 GiB upload of the memory check); the
baseline is `Minio.put_object` / `get_object` from this process. Rounds alternate
between the two so that machine noise falls on both. Bench files live under a tenant of their
own and are removed at the end (bytes and rows)."""

from __future__ import annotations

import asyncio
import io
import os
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import urllib3
from minio import Minio

from bench.common import BenchError, Result, ServedApp, detail, median, report
from devstack.environment import TEST_DATABASE, service_environment, stack_values

NAME = "storage_throughput"
TARGET = 0.8
MiB = 1 << 20
ROUNDS = {1: 9, 100: 11}
# The SDK's part size for the baseline's uploads.
PART = 16 * MiB
RSS_FILE = 1024 * MiB
RSS_LIMIT = 64 * MiB
BUCKET = "qlvb-test-files"


def payload(size: int) -> bytes:
    block = b"%PDF-1.7\n" + os.urandom(MiB - 9)
    return (block * (size // MiB + 1))[:size]


def service_token(env: dict[str, str]) -> str:
    values = stack_values()
    response = httpx.post(
        f"{env['QLVB_OIDC_ISSUER']}/protocol/openid-connect/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "qlvb-docs",
            "client_secret": values["QLVB_CLIENT_SECRET"],
        },
        timeout=30,
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def storage_service(env: dict[str, str]) -> ServedApp:
    return ServedApp(
        "storage",
        {
            **env,
            "QLVB_STORAGE_BUCKET": BUCKET,
            "QLVB_STORAGE_LOCKED_BUCKET": "qlvb-test-issued",
        },
    )


async def generated(total: int, size: int = MiB) -> AsyncIterator[bytes]:
    block = b"%PDF-1.7\n" + os.urandom(size - 9)
    sent = 0
    while sent < total:
        piece = block[: min(size, total - sent)]
        sent += len(piece)
        yield piece


class Peak:
    """Samples the service's resident memory while a transfer runs."""

    def __init__(self, service: ServedApp) -> None:
        self.service = service
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.service.rss())
            time.sleep(0.02)

    def __enter__(self) -> Peak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


async def run() -> Result:
    env = service_environment(TEST_DATABASE)
    token = service_token(env)
    tenant = uuid.uuid4()
    headers = {"Authorization": f"Bearer {token}", "X-Agency-Id": str(tenant)}
    s3 = Minio(
        env["QLVB_S3_ENDPOINT"],
        access_key=env["QLVB_S3_ACCESS_KEY"],
        secret_key=env["QLVB_S3_SECRET_KEY"],
        secure=False,
        region="us-east-1",
    )
    service = storage_service(env)
    # The service is called with urllib3, the HTTP stack the SDK baseline uses: the ratio is
    # the cost of the hop through the service, not a difference between client libraries
    # (httpx parsed a 100 MiB answer at a third of urllib3's speed here).
    pool = urllib3.PoolManager(timeout=urllib3.Timeout(connect=5.0, read=300.0))
    uploaded: list[str] = []
    figures: dict[str, dict[int, float]] = {"up": {}, "down": {}, "sdk_up": {}, "sdk_down": {}}
    try:
        await asyncio.to_thread(service.wait_ready)
        timeout = httpx.Timeout(300.0, connect=5.0)
        async with httpx.AsyncClient(base_url=service.url, timeout=timeout) as client:
            for size_mib, rounds in ROUNDS.items():
                data = payload(size_mib * MiB)
                up, down, sdk_up, sdk_down = [], [], [], []
                for index in range(rounds):
                    # Who goes first alternates, so that noise falls on both alike.
                    for service_turn in (index % 2 == 0, index % 2 == 1):
                        if service_turn:
                            put_s, get_s, object_id = await asyncio.to_thread(
                                _through_service, pool, service.url, headers, data
                            )
                            up.append(put_s)
                            down.append(get_s)
                            uploaded.append(object_id)
                        else:
                            key = f"bench/{tenant}/{size_mib}-{index}"
                            put_s, get_s = await asyncio.to_thread(_through_sdk, s3, key, data)
                            sdk_up.append(put_s)
                            sdk_down.append(get_s)

                mib = float(size_mib)
                figures["up"][size_mib] = mib / median(up)
                figures["down"][size_mib] = mib / median(down)
                figures["sdk_up"][size_mib] = mib / median(sdk_up)
                figures["sdk_down"][size_mib] = mib / median(sdk_down)

            # Memory: one 1 GiB upload, generated on the fly (the client holds 1 MiB at a time).
            before = service.rss()
            with Peak(service) as peak:
                response = await client.post(
                    "/api/v1/objects",
                    params={"name": "bench-1GiB.pdf"},
                    content=generated(RSS_FILE),
                    headers=headers,
                )
            if response.status_code != 201:
                raise BenchError(f"1 GiB upload: HTTP {response.status_code} {response.text}")
            uploaded.append(response.json()["id"])
            growth = peak.peak - before
    finally:
        service.stop()
        await _clean(env, s3, tenant)

    for size_mib in ROUNDS:
        detail(
            NAME,
            f"{size_mib} MiB: upload service {figures['up'][size_mib]:.0f} MiB/s vs SDK "
            f"{figures['sdk_up'][size_mib]:.0f} MiB/s (ratio "
            f"{figures['up'][size_mib] / figures['sdk_up'][size_mib]:.3f}); download service "
            f"{figures['down'][size_mib]:.0f} MiB/s vs SDK {figures['sdk_down'][size_mib]:.0f} "
            f"MiB/s (ratio {figures['down'][size_mib] / figures['sdk_down'][size_mib]:.3f})",
        )
    detail(
        NAME,
        f"1 GiB upload: service RSS {before / MiB:.0f} MiB before, peak {peak.peak / MiB:.0f} MiB, "
        f"growth {growth / MiB:.1f} MiB (limit {RSS_LIMIT / MiB:.0f} MiB: "
        f"{'met' if growth < RSS_LIMIT else 'NOT met'})",
    )
    report(
        Result(
            f"{NAME}_download_100MiB",
            figures["down"][100],
            figures["sdk_down"][100],
            "MiB/s",
            TARGET,
        )
    )
    result = Result(NAME, figures["up"][100], figures["sdk_up"][100], "MiB/s", TARGET)
    report(result)
    return result


def _through_service(
    pool: urllib3.PoolManager, base: str, headers: dict[str, str], data: bytes
) -> tuple[float, float, str]:
    """Seconds to upload and to download the data through the service; the object's id."""
    start = time.perf_counter()
    object_id = _service_put(pool, base, headers, f"bench-{len(data)}.pdf", data)
    uploaded = time.perf_counter()
    received = _service_read(pool, base, headers, object_id)
    downloaded = time.perf_counter()
    if received != len(data):
        raise BenchError(f"download returned {received} of {len(data)} bytes")
    return uploaded - start, downloaded - uploaded, object_id


def _through_sdk(s3: Minio, key: str, data: bytes) -> tuple[float, float]:
    """Seconds to put and to get the data with the SDK, straight to MinIO."""
    start = time.perf_counter()
    s3.put_object(BUCKET, key, io.BytesIO(data), len(data), part_size=PART)
    uploaded = time.perf_counter()
    _sdk_read(s3, key)
    downloaded = time.perf_counter()
    s3.remove_object(BUCKET, key)
    return uploaded - start, downloaded - uploaded


def _service_put(
    pool: urllib3.PoolManager, base: str, headers: dict[str, str], name: str, data: bytes
) -> str:
    response = pool.request(
        "POST", f"{base}/api/v1/objects?name={name}", body=data, headers=headers
    )
    if response.status != 201:
        raise BenchError(f"upload: HTTP {response.status} {response.data[:500]!r}")
    return str(response.json()["id"])


def _service_read(
    pool: urllib3.PoolManager, base: str, headers: dict[str, str], object_id: str
) -> int:
    response = pool.request(
        "GET", f"{base}/api/v1/objects/{object_id}/content", headers=headers, preload_content=False
    )
    try:
        if response.status != 200:
            raise BenchError(f"download: HTTP {response.status}")
        return sum(len(chunk) for chunk in _stream(response))
    finally:
        response.release_conn()


def _sdk_read(s3: Minio, key: str) -> int:
    response = s3.get_object(BUCKET, key)
    try:
        return sum(len(chunk) for chunk in _stream(response))
    finally:
        response.close()
        response.release_conn()


def _stream(response: object) -> Iterator[bytes]:
    while chunk := response.read(MiB):  # type: ignore[attr-defined]
        yield chunk


async def _clean(env: dict[str, str], s3: Minio, tenant: uuid.UUID) -> None:
    """Bench bytes and rows go: bytes first, then rows, as the service itself does."""
    from sqlalchemy import text

    from services.common.db import Database

    for prefix in (f"{tenant}/", f"bench/{tenant}/"):
        for item in s3.list_objects(BUCKET, prefix=prefix, recursive=True):
            s3.remove_object(BUCKET, item.object_name or "")
    db = Database.from_url(env["QLVB_STORAGE_RELAY_DATABASE_URL"], pool_size=1)
    try:
        async with db.transaction(None) as conn:
            await conn.execute(
                text("DELETE FROM storage.object WHERE tenant_id = :t"), {"t": tenant}
            )
            await conn.execute(
                text("UPDATE storage.tenant_usage SET bytes = 0, objects = 0 WHERE tenant_id = :t"),
                {"t": tenant},
            )
    finally:
        await db.dispose()


def main() -> None:
    asyncio.run(run())


if __name__ == "__main__":
    main()
