"""bench/principal: building the principal from a token costs no database or network call, and
adds little to a trivial request.

One app is built by the kernel's `build_app` (the real middleware stack, the identity service's
settings and resources) with one trivial handler at two paths: behind the authentication
middleware, which builds the principal (token, memberships, active agency from X-Agency-Id) and
hands it to the handler, and opted out of it (`exclude_from_auth`). Both requests carry the same
headers.

Counted while requests are served: SQL statements and pool checkouts on the service's engine,
requests by any httpx client (Keycloak's keys would be fetched by one), Redis commands, and TCP
connections opened by the event loop. A positive control (`/ready`, which queries PostgreSQL and
Redis) shows the counters see calls when there are some. The first authenticated request loads
the signing keys (one HTTP request, once per process and ten minutes); the counts are taken
after it: many requests with one token, then tokens never seen before (cold verification).

Timing, same run, alternating rounds: through a real HTTP server (uvicorn on loopback, a
keep-alive httpx client; a trivial request as a client sees it), and in-process (requests handed
to the ASGI app directly: the middleware's cost against the app's own, the strict figure)."""

from __future__ import annotations

import asyncio
import collections
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn
from litestar import Request, get
from redis.asyncio import Redis
from sqlalchemy import event

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
from services.common.settings import TelemetrySettings

NAME = "principal"
TARGET = 0.95  # the principal may add at most 5% to a trivial request
COUNTED_REQUESTS = 20_000
COLD_TOKENS = 20
ROUNDS = 9
ROUND_OPS = 4000
ROUND_SECONDS = 0.6
HTTP_ROUND_OPS = 1500
HTTP_ROUND_SECONDS = 1.0

AUTHENTICATED_PATH = "/api/v1/bench/principal"
OPEN_PATH = "/api/v1/bench/principal-open"


# What the open path answers in place of the caller's agency: the same work on both paths.
NO_AGENCY = uuid.UUID(int=0)


async def who(request: Request[Any, Any, Any]) -> dict[str, str]:
    """Trivial, and the same work on both paths: the caller's active agency, from the
    principal when there is one."""
    principal = request.scope.get("user")
    agency = principal.active_agency_id if principal is not None else NO_AGENCY
    return {"agency": str(agency)}


authenticated_who = get(AUTHENTICATED_PATH, name="bench-principal")(who)
open_who = get(OPEN_PATH, name="bench-principal-open", exclude_from_auth=True)(who)


class Calls:
    """Every database and network call made in the process while counting."""

    def __init__(self, resources: Resources) -> None:
        self.counts: collections.Counter[str] = collections.Counter()
        self.on = False
        engine = resources.db.engine.sync_engine
        event.listen(engine, "before_cursor_execute", self._sql)
        event.listen(engine.pool, "checkout", self._checkout)

    def _sql(self, *_: Any) -> None:
        if self.on:
            self.counts["sql statements"] += 1

    def _checkout(self, *_: Any) -> None:
        if self.on:
            self.counts["pool checkouts"] += 1

    @contextmanager
    def patched(self) -> Iterator[None]:
        """Counts at the lowest shared layers: httpx's transport, Redis' command, the event
        loop's connection and socket calls."""
        calls = self
        transport = httpx.AsyncHTTPTransport.handle_async_request
        command = Redis.execute_command
        loop = asyncio.get_running_loop()
        create_connection = loop.create_connection
        sock_connect = loop.sock_connect

        async def counted_transport(self: Any, request: httpx.Request) -> httpx.Response:
            if calls.on:
                calls.counts["http requests"] += 1
            return await transport(self, request)

        async def counted_command(self: Any, *args: Any, **kwargs: Any) -> Any:
            if calls.on:
                calls.counts["redis commands"] += 1
            return await command(self, *args, **kwargs)  # type: ignore[no-untyped-call]

        async def counted_connection(*args: Any, **kwargs: Any) -> Any:
            if calls.on:
                calls.counts["tcp connections"] += 1
            return await create_connection(*args, **kwargs)

        async def counted_sock_connect(sock: socket.socket, address: Any) -> None:
            if calls.on:
                calls.counts["tcp connections"] += 1
            await sock_connect(sock, address)

        httpx.AsyncHTTPTransport.handle_async_request = counted_transport  # type: ignore[method-assign]
        Redis.execute_command = counted_command  # type: ignore[method-assign]
        loop.create_connection = counted_connection  # type: ignore[method-assign]
        loop.sock_connect = counted_sock_connect  # type: ignore[method-assign]
        try:
            yield
        finally:
            httpx.AsyncHTTPTransport.handle_async_request = transport  # type: ignore[method-assign]
            Redis.execute_command = command  # type: ignore[method-assign]
            loop.create_connection = create_connection  # type: ignore[method-assign]
            loop.sock_connect = sock_connect  # type: ignore[method-assign]

    @contextmanager
    def counting(self) -> Iterator[collections.Counter[str]]:
        self.counts = collections.Counter()
        self.on = True
        try:
            yield self.counts
        finally:
            self.on = False


def shown(counts: collections.Counter[str]) -> str:
    names = ("sql statements", "pool checkouts", "http requests", "redis commands")
    return ", ".join(f"{name} {counts[name]}" for name in (*names, "tcp connections"))


async def expect(call: Any, path: str) -> None:
    status = await call(path)
    if status != 200:
        raise BenchError(f"GET {path}: HTTP {status}")


async def through_http(app: Any, headers: dict[str, str]) -> dict[str, list[float]]:
    """The comparison through uvicorn on a loopback port, with a keep-alive client."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="off"
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
        await asyncio.sleep(0.05)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=headers) as c:

            async def get_status(path: str) -> int:
                return (await c.get(path)).status_code

            async def authenticated() -> None:
                await expect(get_status, AUTHENTICATED_PATH)

            async def open_() -> None:
                await expect(get_status, OPEN_PATH)

            await warm_up(authenticated, 300)
            await warm_up(open_, 300)
            return await compare(
                {"authenticated": authenticated, "open": open_},
                rounds=ROUNDS,
                max_ops=HTTP_ROUND_OPS,
                max_seconds=HTTP_ROUND_SECONDS,
            )
    finally:
        server.should_exit = True
        await serving


async def run() -> Result:
    settings = identity_settings(telemetry=TelemetrySettings(exporter="none"))
    resources = Resources(settings)
    calls = Calls(resources)
    try:
        tokens = await fetch_tokens(settings, COLD_TOKENS + 1)
        app = build_app(settings, [authenticated_who, open_who], resources=resources)
        with calls.patched():
            # The first verification loads the issuer's keys: the one network call, once.
            with calls.counting() as loading:
                principal = await resources.verifier.verify(tokens[0])
            if not principal.memberships:
                raise BenchError(f"user {principal.username} has no agency membership")
            headers = {
                "authorization": f"Bearer {tokens[0]}",
                "x-agency-id": str(principal.memberships[0].agency_id),
                "accept": "application/json",
            }
            driver = AsgiDriver(app, headers)
            with calls.counting() as control:
                await driver.get("/ready")
            if not control["sql statements"] or not control["redis commands"]:
                raise BenchError(f"the counters missed /ready's calls: {shown(control)}")
            if await AsgiDriver(app, {}).get(AUTHENTICATED_PATH) != 401:
                raise BenchError(f"{AUTHENTICATED_PATH} answered an anonymous request")
            with calls.counting() as steady:
                for _ in range(COUNTED_REQUESTS):
                    await expect(driver.get, AUTHENTICATED_PATH)
            with calls.counting() as cold:
                for token in tokens[1:]:
                    fresh = AsgiDriver(app, headers | {"authorization": f"Bearer {token}"})
                    await expect(fresh.get, AUTHENTICATED_PATH)
        made = sum(steady.values()) + sum(cold.values())

        async def authenticated() -> None:
            await expect(driver.get, AUTHENTICATED_PATH)

        async def open_() -> None:
            await expect(driver.get, OPEN_PATH)

        await warm_up(authenticated, 500)
        await warm_up(open_, 500)
        in_process = await compare(
            {"authenticated": authenticated, "open": open_},
            rounds=ROUNDS,
            max_ops=ROUND_OPS,
            max_seconds=ROUND_SECONDS,
        )
        over_http = await through_http(app, headers)
    finally:
        await resources.close()

    detail(NAME, f"loading the signing keys (once): {shown(loading)}")
    detail(NAME, f"positive control, GET /ready: {shown(control)}")
    detail(NAME, f"{COUNTED_REQUESTS:,} authenticated requests, one token: {shown(steady)}")
    detail(NAME, f"{COLD_TOKENS} tokens never seen before (cold verification): {shown(cold)}")
    if made:
        raise BenchError(f"building the principal made {made} database or network calls")
    auth, base = median(in_process["authenticated"]), median(in_process["open"])
    paired = paired_ratio(in_process["authenticated"], in_process["open"])
    detail(
        NAME,
        f"in-process ASGI, {ROUNDS} alternating rounds: with principal {auth:.0f} req/s "
        f"({spread(in_process['authenticated'])}), without {base:.0f} req/s "
        f"({spread(in_process['open'])}); the principal adds {1e6 / auth - 1e6 / base:.2f} "
        f"us/request, paired ratio {paired:.3f}",
    )
    http_auth, http_base = median(over_http["authenticated"]), median(over_http["open"])
    detail(
        NAME,
        f"through uvicorn on loopback, {ROUNDS} alternating rounds: with principal "
        f"{http_auth:.0f} req/s ({spread(over_http['authenticated'])}), without "
        f"{http_base:.0f} req/s ({spread(over_http['open'])}); paired ratio "
        f"{paired_ratio(over_http['authenticated'], over_http['open']):.3f}",
    )
    results = [
        Result(NAME, http_auth, http_base, "req/s", TARGET),
        Result(f"{NAME}.in_process", auth, base, "req/s", TARGET),
    ]
    for result in results:
        report(result)
    return results[0]


def main() -> None:
    asyncio.run(run())


if __name__ == "__main__":
    main()
