"""Fixtures of the identity API tests: the app in process (in the test's event loop, which owns
the database pool), real Keycloak tokens of the demo people, the demo province seeded into the
test database, and helpers that make fresh agencies and people through the API."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import select

from services.common.db import Database
from services.identity.agencies.seed import seed_province
from services.identity.app import create_app
from services.identity.settings import load
from services.identity.tables import outbox
from tests.conftest import FreshTokens

DEMO_FILE = Path(__file__).resolve().parents[2] / "devstack" / "demo-province.json"
DEMO = json.loads(DEMO_FILE.read_text(encoding="utf-8"))
DEMO_IDS = {a["code"]: uuid.UUID(a["id"]) for a in DEMO["agencies"]}
# UBND tỉnh Phú Thọ: quantri is its agency admin, chutich its leader, phochutich its deputy.
PROVINCE = DEMO_IDS["000.00.00.H44"]

_random = random.SystemRandom()


def new_code() -> str:
    """A well-formed QCVN 102 code in a range no real province uses (Z98)."""
    r = _random
    return f"{r.randrange(1000):03d}.{r.randrange(100):02d}.{r.randrange(100):02d}.Z98"


def new_username(prefix: str = "test") -> str:
    return f"{prefix}.{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def tokens(keycloak: Any) -> FreshTokens:
    return FreshTokens(keycloak)


@pytest.fixture(scope="session")
async def demo_province() -> dict[str, uuid.UUID]:
    db = Database.from_url(os.environ["QLVB_IDENTITY_DATABASE_URL"], pool_size=1)
    try:
        await seed_province(db, DEMO)
    finally:
        await db.dispose()
    return DEMO_IDS


@pytest.fixture(scope="session")
async def identity_app(demo_province: dict[str, uuid.UUID]) -> AsyncIterator[Litestar]:
    app = create_app(load())
    yield app
    # httpx.ASGITransport sends no lifespan events: the app's resources are closed here.
    await app.state.resources.close()
    await app.state.accounts.close()


class Api:
    """The identity API as one demo person calls it."""

    def __init__(self, client: httpx.AsyncClient, tokens: FreshTokens) -> None:
        self.client = client
        self.tokens = tokens

    def headers(
        self, user: str, agency: uuid.UUID | None = None, acting_for: uuid.UUID | None = None
    ) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.tokens(user)}"}
        if agency is not None:
            headers["X-Agency-Id"] = str(agency)
        if acting_for is not None:
            headers["X-Acting-For"] = str(acting_for)
        return headers

    async def get(
        self, user: str, path: str, *, agency: uuid.UUID | None = None, **params: Any
    ) -> httpx.Response:
        return await self.client.get(path, headers=self.headers(user, agency), params=params)

    async def post(
        self,
        user: str,
        path: str,
        body: Any = None,
        *,
        agency: uuid.UUID | None = None,
        acting_for: uuid.UUID | None = None,
        **params: Any,
    ) -> httpx.Response:
        return await self.client.post(
            path, json=body, headers=self.headers(user, agency, acting_for), params=params
        )

    async def patch(
        self,
        user: str,
        path: str,
        body: Any,
        *,
        agency: uuid.UUID | None = None,
        acting_for: uuid.UUID | None = None,
        **params: Any,
    ) -> httpx.Response:
        return await self.client.patch(
            path, json=body, headers=self.headers(user, agency, acting_for), params=params
        )

    async def agency(self, **fields: Any) -> dict[str, Any]:
        """A fresh agency (by the operator), existing since 2020 unless told otherwise."""
        body = {
            "code": new_code(),
            "name": f"Cơ quan thử nghiệm {uuid.uuid4().hex[:6]}",
            "short_name": "TN",
            "level": "department",
            "valid_from": "2020-01-01",
        } | fields
        response = await self.post("vanhanh", "/api/v1/agencies", body)
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()
        return result

    async def person(
        self, agency: uuid.UUID, roles: list[str] | None = None, **fields: Any
    ) -> dict[str, Any]:
        """A fresh person with a membership in `agency` (made by the operator)."""
        username = new_username()
        body = {
            "username": username,
            "full_name": "Nguyễn Văn Thử",
            "email": f"{username}@test.qlvb.vn",
            "roles": roles or ["specialist"],
        } | fields
        response = await self.post("vanhanh", "/api/v1/people", body, agency_id=str(agency))
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()
        return result

    async def audit(
        self, agency: uuid.UUID, entity_id: uuid.UUID | str, **params: Any
    ) -> list[dict[str, Any]]:
        response = await self.get(
            "vanhanh", "/api/v1/audit", agency_id=str(agency), entity_id=str(entity_id), **params
        )
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items


@pytest.fixture
async def api(identity_app: Litestar, tokens: FreshTokens) -> AsyncIterator[Api]:
    transport = httpx.ASGITransport(app=identity_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://identity.test") as client:
        yield Api(client, tokens)


OutboxReader = Callable[[uuid.UUID, str], Awaitable[list[dict[str, Any]]]]


@pytest.fixture
def outbox_events(identity_db: Database) -> OutboxReader:
    """The payloads of one agency's outbox events of a topic, oldest first."""

    async def read(tenant: uuid.UUID, topic: str) -> list[dict[str, Any]]:
        async with identity_db.transaction(tenant, read_only=True) as conn:
            rows = await conn.execute(
                select(outbox.c.payload, outbox.c.tenant_id)
                .where(outbox.c.topic == topic)
                .order_by(outbox.c.occurred_at, outbox.c.id)
            )
            return [dict(row.payload) | {"_tenant": str(row.tenant_id)} for row in rows]

    return read


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)
