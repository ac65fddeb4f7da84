"""The docs service in-process, asking a real identity service (also in-process) who works
where, with real Keycloak tokens; the demo province is seeded into the test database."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from services.common.auth.service_tokens import ServiceTokens
from services.common.db import Database
from services.docs.app import create_app as create_docs
from services.docs.files.storage_client import StorageClient
from services.docs.incoming.directory import IdentityDirectory
from services.docs.outgoing.agencies import IdentityAgencies
from services.docs.settings import load as load_docs
from services.docs.signatures.delegations import IdentityDelegations
from services.identity.agencies.seed import seed_province
from services.identity.app import create_app as create_identity
from services.identity.settings import load as load_identity
from services.identity.tables import person
from services.storage.app import create_app as create_storage
from tests.conftest import FreshTokens
from tests.storage.conftest import storage_settings

PROVINCE = Path(__file__).resolve().parents[2] / "devstack" / "demo-province.json"
UBND_TINH = "8ed2a563-ac2c-5215-80e1-ae060bf0f4a1"


@pytest.fixture(scope="session")
async def province() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(PROVINCE.read_text(encoding="utf-8"))
    db = Database.from_url(load_identity().database_url, pool_size=1)
    try:
        await seed_province(db, data)
    finally:
        await db.dispose()
    return data


async def person_id(username: str) -> uuid.UUID:
    """A demo person's id, read straight from identity's database."""
    db = Database.from_url(load_identity().database_url, pool_size=1)
    try:
        async with db.transaction(None, read_only=True) as conn:
            found: uuid.UUID = (
                await conn.execute(select(person.c.id).where(person.c.username == username))
            ).scalar_one()
            return found
    finally:
        await db.dispose()


@dataclass
class Docs:
    client: httpx.AsyncClient
    tokens: Mapping[str, str]
    storage: httpx.AsyncClient
    service_token: ServiceTokens
    identity: httpx.AsyncClient | None = None

    async def stored(self, name: str, content: bytes | None = None) -> dict[str, Any]:
        """A file really uploaded to the agency's storage, as a document's file reference."""
        data = content or b"%PDF-1.7\n" + name.encode() + uuid.uuid4().bytes * 64
        response = await self.storage.post(
            "/api/v1/objects",
            params={"name": name},
            content=data,
            headers={
                "Authorization": f"Bearer {await self.service_token.token()}",
                "X-Agency-Id": UBND_TINH,
            },
        )
        response.raise_for_status()
        body = response.json()
        return {
            "object_id": body["id"],
            "file_name": body["file_name"],
            "sha256": body["sha256"],
            "size": body["size"],
        }

    def as_(self, username: str, agency: str = UBND_TINH) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[username]}", "X-Agency-Id": agency}

    async def call(self, method: str, path: str, user: str, **kwargs: Any) -> httpx.Response:
        return await self.client.request(method, path, headers=self.as_(user), **kwargs)


@pytest.fixture(scope="session")
def user_tokens(keycloak) -> FreshTokens:  # type: ignore[no-untyped-def]
    names = ("vanthu", "chuyenvien", "truongphong", "phochutich", "chutich", "vanthu.xa")
    return FreshTokens(keycloak, names)


@pytest.fixture
async def docs(province: dict[str, Any], user_tokens: dict[str, str]) -> AsyncIterator[Docs]:
    identity_app = create_identity()
    identity_http = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=identity_app), base_url="http://identity.test"
    )
    settings = load_docs()
    keycloak_http = httpx.AsyncClient(timeout=30)
    tokens = ServiceTokens(settings.oidc, settings.client_id, settings.client_secret, keycloak_http)
    directory = IdentityDirectory("http://identity.test", identity_http, tokens)
    agencies = IdentityAgencies("http://identity.test", identity_http, tokens)
    storage_app = create_storage(storage_settings())
    storage_http = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=storage_app), base_url="http://storage.test"
    )
    storage = StorageClient("http://storage.test", storage_http, tokens)
    app = create_docs(
        settings,
        directory=directory,
        agencies=agencies,
        storage=storage,
        delegations=IdentityDelegations("http://identity.test", identity_http),
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://docs.test") as client:
        yield Docs(client, user_tokens, storage_http, tokens, identity_http)
    await storage_http.aclose()
    await storage_app.state["resources"].close()
    await identity_http.aclose()
    await keycloak_http.aclose()
    await app.state["resources"].close()
    await identity_app.state["resources"].close()
