"""Fixtures of the storage tests: the app in the test's event loop, the test buckets, a fresh
tenant per test reached through the docs service's account (services may act for any agency)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import msgspec
import pytest
from minio import Minio
from sqlalchemy import func, select

from services.common.db import Database
from services.storage.app import create_app
from services.storage.settings import StorageSettings, load
from services.storage.tables import stored_object

TEST_BUCKET = "qlvb-test-files"
TEST_LOCKED_BUCKET = "qlvb-test-issued"


def storage_settings(**changes: Any) -> StorageSettings:
    base = load()
    return msgspec.structs.replace(
        base, bucket=TEST_BUCKET, locked_bucket=TEST_LOCKED_BUCKET, **changes
    )


@dataclass
class Storage:
    client: httpx.AsyncClient
    settings: StorageSettings
    db: Database
    s3: Minio
    tenant: uuid.UUID
    token: str

    def headers(self, tenant: uuid.UUID | None = None, **extra: str) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.token}",
            "X-Agency-Id": str(tenant or self.tenant),
            **extra,
        }

    async def upload(
        self,
        name: str,
        content: Any,
        content_type: str | None = None,
        tenant: uuid.UUID | None = None,
    ) -> httpx.Response:
        headers = self.headers(tenant)
        if content_type:
            headers["Content-Type"] = content_type
        return await self.client.post(
            "/api/v1/objects", params={"name": name}, content=content, headers=headers
        )

    async def rows(self, tenant: uuid.UUID | None = None) -> int:
        tenant = tenant or self.tenant
        async with self.db.transaction(tenant, read_only=True) as conn:
            count = await conn.execute(select(func.count()).select_from(stored_object))
            return int(count.scalar_one())

    def keys(self, tenant: uuid.UUID | None = None) -> list[str]:
        prefix = f"{tenant or self.tenant}/"
        return [o.object_name or "" for o in self.s3.list_objects(TEST_BUCKET, prefix=prefix)]


def s3_client(settings: StorageSettings) -> Minio:
    return Minio(
        settings.s3_endpoint,
        access_key=settings.s3_access_key,
        secret_key=settings.s3_secret_key,
        secure=settings.s3_secure,
        region=settings.s3_region,
    )


@pytest.fixture(scope="session")
def docs_token(keycloak) -> str:  # type: ignore[no-untyped-def]
    return str(keycloak.service_token("qlvb-docs"))


async def open_storage(token: str, **changes: Any) -> AsyncIterator[Storage]:
    settings = storage_settings(**changes)
    app = create_app(settings)
    db = Database.from_url(settings.database_url, pool_size=2)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://storage.test") as client:
        yield Storage(client, settings, db, s3_client(settings), uuid.uuid4(), token)
    # The transport runs no lifespan; what the app's shutdown would close is closed here.
    await app.state["resources"].close()
    await db.dispose()


@pytest.fixture
async def storage(docs_token: str) -> AsyncIterator[Storage]:
    async for opened in open_storage(docs_token):
        yield opened


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def pdf_bytes(size: int = 50_000, seed: int = 1) -> bytes:
    """A PDF-shaped payload of the given size (the header is what the sniffer checks)."""
    head = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
    filler = hashlib.sha256(str(seed).encode()).digest() * (size // 32 + 1)
    return (head + filler)[:size]
