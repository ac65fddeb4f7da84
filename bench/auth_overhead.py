"""bench/auth_overhead: what bearer authentication adds to a request, and what a token costs the
first time it is seen.

One app is built by the kernel's `build_app` (so it has the real middleware stack) with the same
trivial handler at two paths: one behind the authentication middleware, one opted out of it by
Litestar's `exclude_from_auth` route option, which is the middleware's own bypass check. Both
requests carry the same headers (bearer token, X-Agency-Id), so the only difference is the
middleware's work: reading the header, the verified-token cache lookup and the agency check.

Requests are handed to the app in-process by `AsgiDriver`, with no HTTP client in between, so
the overhead is compared with the app's own cost rather than with a client's; a figure through
httpx's ASGI transport is printed for context. The cold cost (signature and claims of a token
never seen before) comes from verifying distinct real tokens with a fresh verifier."""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from litestar import get

from bench.common import (
    AsgiDriver,
    BenchError,
    Result,
    compare,
    detail,
    fetch_tokens,
    identity_settings,
    median,
    paired_ratio,
    report,
    spread,
    warm_up,
)
from services.common.app_factory import Resources, build_app
from services.common.auth.tokens import TokenVerifier
from services.common.settings import TelemetrySettings

NAME = "auth_overhead"
TARGET = 0.90
ROUNDS = 9
ROUND_OPS = 4000
ROUND_SECONDS = 0.6
HTTPX_ROUNDS = 5
COLD_TOKENS = 20
COLD_REPEATS = 15
CACHED_REPEATS = 20

AUTHENTICATED_PATH = "/api/v1/bench/ping"
OPEN_PATH = "/api/v1/bench/ping-open"


async def ping() -> dict[str, bool]:
    return {"ok": True}


# One function, two routes: identical handler work, only the authentication differs.
authenticated_ping = get(AUTHENTICATED_PATH, name="bench-ping")(ping)
open_ping = get(OPEN_PATH, name="bench-ping-open", exclude_from_auth=True)(ping)


async def expect_ok(call: Callable[[str], Awaitable[int]], path: str) -> None:
    status = await call(path)
    if status != 200:
        raise BenchError(f"GET {path}: HTTP {status}")


async def cold_verification(resources: Resources, tokens: list[str]) -> tuple[float, float]:
    """Median microseconds per token: first verification (no cache) and a repeated one."""
    settings = resources.settings
    cold: list[float] = []
    cached: list[float] = []
    for _ in range(COLD_REPEATS):
        # A fresh verifier has an empty cache but shares the loaded key set: a new token, not
        # a key fetch, is what is being timed.
        verifier = TokenVerifier(settings.oidc, resources.keys, audience=settings.client_id)
        gc.collect()
        started = time.perf_counter()
        for token in tokens:
            await verifier.verify(token)
        first = time.perf_counter()
        for _ in range(CACHED_REPEATS):
            for token in tokens:
                await verifier.verify(token)
        done = time.perf_counter()
        cold.append((first - started) / len(tokens) * 1e6)
        cached.append((done - first) / (len(tokens) * CACHED_REPEATS) * 1e6)
    return median(cold), median(cached)


async def real_caller(resources: Resources) -> tuple[list[str], dict[str, str]]:
    """Distinct real tokens of the demo user, and the headers a client of theirs sends."""
    tokens = await fetch_tokens(resources.settings, COLD_TOKENS)
    # A real verification (it also loads the signing keys): the agency the caller acts in.
    principal = await resources.verifier.verify(tokens[0])
    if not principal.memberships:
        raise BenchError(f"user {principal.username} has no agency membership")
    headers = {
        "authorization": f"Bearer {tokens[0]}",
        # The agency switcher's header, as the web client always sends it.
        "x-agency-id": str(principal.memberships[0].agency_id),
        "accept": "application/json",
        "user-agent": "qlvb-bench",
    }
    return tokens, headers


async def through_httpx(app: Any, headers: dict[str, str]) -> dict[str, list[float]]:
    """The same comparison through httpx's in-process transport (client cost included)."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1", headers=headers
    ) as client:

        async def via_client(path: str) -> int:
            return (await client.get(path)).status_code

        async def authenticated() -> None:
            await expect_ok(via_client, AUTHENTICATED_PATH)

        async def open_() -> None:
            await expect_ok(via_client, OPEN_PATH)

        await warm_up(authenticated, 200)
        await warm_up(open_, 200)
        return await compare(
            {"authenticated": authenticated, "open": open_},
            rounds=HTTPX_ROUNDS,
            max_ops=ROUND_OPS,
            max_seconds=ROUND_SECONDS,
        )


async def run() -> Result:
    settings = identity_settings(telemetry=TelemetrySettings(exporter="none"))
    resources = Resources(settings)
    try:
        tokens, headers = await real_caller(resources)
        app = build_app(settings, [authenticated_ping, open_ping], resources=resources)
        driver = AsgiDriver(app, headers)

        # The comparison means something only if the middleware really guards one path.
        anonymous = AsgiDriver(app, {"accept": "application/json"})
        if await anonymous.get(AUTHENTICATED_PATH) != 401:
            raise BenchError(f"{AUTHENTICATED_PATH} answered an anonymous request")
        await expect_ok(anonymous.get, OPEN_PATH)

        async def authenticated() -> None:
            await expect_ok(driver.get, AUTHENTICATED_PATH)

        async def open_() -> None:
            await expect_ok(driver.get, OPEN_PATH)

        await warm_up(authenticated, 500)
        await warm_up(open_, 500)
        samples = await compare(
            {"authenticated": authenticated, "open": open_},
            rounds=ROUNDS,
            max_ops=ROUND_OPS,
            max_seconds=ROUND_SECONDS,
        )
        via_client = await through_httpx(app, headers)
        cold_us, cached_us = await cold_verification(resources, tokens)
    finally:
        await resources.close()

    measured, baseline = median(samples["authenticated"]), median(samples["open"])
    detail(
        NAME,
        f"in-process ASGI, {ROUNDS} alternating rounds: authenticated {measured:.0f} req/s "
        f"({spread(samples['authenticated'])}), open {baseline:.0f} req/s "
        f"({spread(samples['open'])}); authentication adds "
        f"{1e6 / measured - 1e6 / baseline:.1f} us/request with a cached token, paired ratio "
        f"{paired_ratio(samples['authenticated'], samples['open']):.3f}",
    )
    client_auth, client_open = median(via_client["authenticated"]), median(via_client["open"])
    detail(
        NAME,
        f"context, through httpx.ASGITransport ({HTTPX_ROUNDS} rounds): authenticated "
        f"{client_auth:.0f} req/s, open {client_open:.0f} req/s, ratio "
        f"{client_auth / client_open:.3f} (client work dilutes the overhead)",
    )
    detail(
        NAME,
        f"token verification, {COLD_TOKENS} distinct real tokens x {COLD_REPEATS}: cold "
        f"{cold_us:.1f} us/token (signature + claims + principal), cached "
        f"{cached_us:.2f} us/token",
    )
    result = Result(NAME, measured, baseline, "req/s", TARGET)
    report(result)
    return result


def main() -> None:
    asyncio.run(run())


if __name__ == "__main__":
    main()
