"""The parts every service app shares: resources, authentication, errors, health, telemetry,
OpenAPI. A service's `create_app` lists its own routes and hands them to `build_app`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import httpx
from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin
from litestar.template.config import TemplateConfig
from litestar.types import ControllerRouterHandler, Middleware
from redis.asyncio import Redis

from services.common.auth.keys import KeySet
from services.common.auth.middleware import authentication_middleware
from services.common.auth.tokens import TokenVerifier
from services.common.db import Database
from services.common.health import Check, database_check, health_handlers, redis_check
from services.common.problems import exception_handlers
from services.common.settings import ServiceSettings
from services.common.telemetry import (
    configure_logging,
    configure_telemetry,
    http_telemetry_middleware,
    instrument_engine,
)


class Resources:
    """Long-lived clients of one service process, created before the app serves requests."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self.db = Database.from_url(
            settings.database_url,
            pool_size=settings.database_pool_size,
            application_name=f"qlvb-{settings.service}",
        )
        self.redis: Redis = Redis.from_url(settings.redis_url)
        self.http = httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=3.0))
        self.keys = KeySet(settings.oidc, self.http)
        self.verifier = TokenVerifier(settings.oidc, self.keys, audience=settings.client_id)

    async def close(self) -> None:
        await self.http.aclose()
        await self.redis.aclose()
        await self.db.dispose()


def build_app(
    settings: ServiceSettings,
    route_handlers: Sequence[ControllerRouterHandler],
    *,
    resources: Resources | None = None,
    extra_checks: dict[str, Check] | None = None,
    dependencies: dict[str, Provide] | None = None,
    template_config: TemplateConfig[Any] | None = None,
    middleware: Sequence[Middleware] = (),
) -> Litestar:
    """`middleware` runs after authentication (it sees `request.user`)."""
    configure_logging(settings.log_level)
    telemetry_on = configure_telemetry(settings.service, settings.telemetry)
    res = resources or Resources(settings)
    if telemetry_on:
        instrument_engine(res.db.engine)
    checks: dict[str, Check] = {
        "postgresql": database_check(res.db),
        "redis": redis_check(res.redis),
    }
    checks |= extra_checks or {}

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await res.close()

    async def provide_db() -> Database:
        return res.db

    return Litestar(
        route_handlers=[*health_handlers(settings.service, checks), *route_handlers],
        middleware=[
            *([http_telemetry_middleware()] if telemetry_on else []),
            authentication_middleware(res.verifier),
            *middleware,
        ],
        exception_handlers=exception_handlers(),
        lifespan=[lifespan],
        state=State({"resources": res, "settings": settings}),
        dependencies={
            "db": Provide(provide_db),
            **(dependencies or {}),
        },
        openapi_config=OpenAPIConfig(
            title=f"QLVB {settings.service}",
            version="0.1.0",
            path="/schema",
            render_plugins=[ScalarRenderPlugin()],
        ),
        template_config=template_config,
        logging_config=None,
        debug=False,
    )
