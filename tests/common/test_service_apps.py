"""Every service starts with /health, /ready, an OpenAPI document and problem-details errors."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from devstack.environment import SERVICES


def create(service: str, **changes: object) -> Litestar:
    settings = importlib.import_module(f"services.{service}.settings").load()
    app_module = importlib.import_module(f"services.{service}.app")
    return app_module.create_app(msgspec.structs.replace(settings, **changes))  # type: ignore[no-any-return]


@pytest.fixture(params=SERVICES)
async def client(request: pytest.FixtureRequest) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(create(request.param)) as c:
        yield c


async def test_health_answers_without_a_token(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


# Beyond PostgreSQL and Redis, each service checks what else it cannot work without.
EXTRA_CHECKS = {"storage": {"s3": "ok"}}


async def test_ready_checks_database_and_redis(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/ready")
    assert response.status_code == 200
    service = response.json()["service"]
    expected = {"postgresql": "ok", "redis": "ok", **EXTRA_CHECKS.get(service, {})}
    assert response.json()["checks"] == expected


async def test_openapi_document_is_served(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    assert "/api/v1/whoami" in response.json()["paths"]


async def test_unknown_route_is_a_problem_in_vietnamese(
    client: AsyncTestClient[Litestar], keycloak
) -> None:  # type: ignore[no-untyped-def]
    response = await client.get(
        "/api/v1/khong-co", headers={"Authorization": f"Bearer {keycloak.token('vanthu')}"}
    )
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["title"] == "Không tìm thấy"


async def test_problem_in_english_when_asked(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/api/v1/whoami", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert response.status_code == 401
    assert response.json()["title"] == "Not authenticated"


@pytest.mark.parametrize("service", SERVICES)
async def test_ready_reports_redis_down_as_503(service: str) -> None:
    # Nothing listens on port 1: the dependency is down, the service is alive but not ready.
    app = create(service, redis_url="redis://127.0.0.1:1/0")
    async with AsyncTestClient(app) as c:
        assert (await c.get("/health")).status_code == 200
        response = await c.get("/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["postgresql"] == "ok"
    assert body["checks"]["redis"].startswith("error")
