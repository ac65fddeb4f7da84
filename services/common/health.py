"""`/health` (the process is alive) and `/ready` (its dependencies answer), for every service."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from litestar import Request, Response, get
from litestar.handlers import HTTPRouteHandler
from sqlalchemy import text

from services.common.db import Database
from services.common.problems import PROBLEM_MEDIA_TYPE, PROBLEM_TYPE_BASE, prefers_english

Check = Callable[[], Awaitable[None]]


class Health(msgspec.Struct):
    status: str
    service: str


class Readiness(msgspec.Struct):
    status: str
    service: str
    checks: dict[str, str]


def database_check(db: Database) -> Check:
    async def check() -> None:
        async with db.transaction(None, read_only=True) as conn:
            await conn.execute(text("SELECT 1"))

    return check


def redis_check(redis: Any) -> Check:
    async def check() -> None:
        await redis.ping()

    return check


def health_handlers(service: str, checks: dict[str, Check]) -> list[HTTPRouteHandler]:
    @get("/health", include_in_schema=True, tags=["operations"], sync_to_thread=False)
    def health() -> Health:
        return Health(status="ok", service=service)

    @get("/ready", include_in_schema=True, tags=["operations"])
    async def ready(request: Request[Any, Any, Any]) -> Response[Any]:
        async def run(name: str, check: Check) -> tuple[str, str]:
            try:
                await asyncio.wait_for(check(), timeout=3.0)
            except Exception as exc:
                return name, f"error: {type(exc).__name__}"
            return name, "ok"

        results = dict(await asyncio.gather(*(run(n, c) for n, c in checks.items())))
        if all(v == "ok" for v in results.values()):
            return Response(Readiness(status="ready", service=service, checks=results))
        body = {
            "type": PROBLEM_TYPE_BASE + "not-ready",
            "title": "Service not ready" if prefers_english(request) else "Dịch vụ chưa sẵn sàng",
            "status": 503,
            "code": "not-ready",
            "instance": request.url.path,
            "service": service,
            "checks": results,
        }
        return Response(body, status_code=503, media_type=PROBLEM_MEDIA_TYPE)

    return [health, ready]
