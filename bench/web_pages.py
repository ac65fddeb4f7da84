"""bench/web_pages: server time of the home and inbox pages for a person of an agency holding
100,000 documents, against the inbox JSON API for the same query, in the same run.

The person is the demo account `kiemnhiem` acting in its second agency, whose inbox is filled
with generated documents once. The page requests carry a real web session (Redis, a real
Keycloak token); the API requests the same person's bearer token. Both go to the same app in
process, as a server hands it a parsed request, so the figures are the app's own work.

Reported: API p50 / page p50 for each page (higher is better; 1.0 means a page costs no more
than the JSON it shows). Target 0.5: rendering and the frame may at most double the cost."""

from __future__ import annotations

import asyncio
import logging
import os
import time
import uuid

import asyncpg  # type: ignore[import-untyped]
import httpx

from bench.common import AsgiDriver, BenchError, Result, detail, report
from bench.docs_search import percentile
from bench.generate_documents import INSERT
from devstack.environment import TEST_DATABASE, service_environment, stack_values

NAME = "web_pages"
TARGET = 0.5
DOCUMENTS = 100_000
USERNAME = "kiemnhiem"
AGENCY_CODE = "000.00.09.H44"
REQUESTS = 60


def password_tokens(env: dict[str, str]) -> dict[str, object]:
    response = httpx.post(
        f"{env['QLVB_OIDC_ISSUER']}/protocol/openid-connect/token",
        data={
            "grant_type": "password",
            "client_id": "qlvb-dev-cli",
            "username": USERNAME,
            "password": stack_values()["QLVB_DEMO_PASSWORD"],
        },
        timeout=30,
    )
    response.raise_for_status()
    body: dict[str, object] = response.json()
    return body


async def fill(dsn: str, tenant: uuid.UUID) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            await conn.execute(f"SET LOCAL app.tenant_id = '{tenant}'")
            have = await conn.fetchval(
                "SELECT count(*) FROM docs.document WHERE tenant_id = $1", tenant
            )
            if have < DOCUMENTS:
                detail(NAME, f"generating {DOCUMENTS - have:,} documents (one time)")
                await conn.execute(INSERT, tenant, DOCUMENTS - have)
        await conn.execute("ANALYZE docs.document")
    finally:
        await conn.close()


async def run() -> Result:
    env = service_environment(TEST_DATABASE)
    os.environ.update(env)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    from redis.asyncio import Redis

    from services.common.auth.oidc import OidcClient, TokenResponse
    from services.common.auth.service_tokens import ServiceTokens
    from services.common.auth.web_sessions import SESSION_COOKIE, SessionOwner, SessionStore
    from services.docs.app import create_app
    from services.docs.incoming.directory import IdentityDirectory
    from services.docs.outgoing.agencies import IdentityAgencies
    from services.docs.settings import load
    from services.identity.app import create_app as create_identity

    settings = load()
    issued_at = int(time.time())
    raw = password_tokens(env)
    identity_app = create_identity()
    identity_http = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=identity_app), base_url="http://identity.bench"
    )
    keycloak_http = httpx.AsyncClient(timeout=30)
    redis = Redis.from_url(settings.redis_url)
    try:
        tokens = ServiceTokens(
            settings.oidc, settings.client_id, settings.client_secret, keycloak_http
        )
        app = create_app(
            settings,
            directory=IdentityDirectory("http://identity.bench", identity_http, tokens),
            agencies=IdentityAgencies("http://identity.bench", identity_http, tokens),
        )
        verifier = app.state["resources"].verifier
        principal = await verifier.verify(str(raw["access_token"]))
        membership = next((m for m in principal.memberships if m.agency_code == AGENCY_CODE), None)
        if membership is None:
            raise BenchError(f"{USERNAME} holds no position in {AGENCY_CODE}; run make seed")
        tenant = membership.agency_id
        await fill(settings.database_url.replace("postgresql+asyncpg://", "postgresql://"), tenant)

        oidc = OidcClient(settings.oidc, "qlvb-dev-cli", "", "http://bench/cb", keycloak_http)
        store = SessionStore(redis, oidc, verifier)
        session_id = await store.create(
            TokenResponse(
                access_token=str(raw["access_token"]),
                expires_in=int(str(raw["expires_in"])),
            ),
            principal,
            SessionOwner(principal.subject, ""),
            issued_at,
        )
        await store.select_agency(session_id, tenant)

        page_driver = AsgiDriver(app, {"cookie": f"{SESSION_COOKIE}={session_id}"})
        api_driver = AsgiDriver(
            app,
            {"authorization": f"Bearer {raw['access_token']}", "x-agency-id": str(tenant)},
        )
        runs = {
            "home": (page_driver, "/"),
            "inbox": (page_driver, "/incoming"),
            "api": (api_driver, "/api/v1/incoming"),
        }
        times: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(5):  # warm: templates compiled, caches filled
            for driver, path in runs.values():
                await driver.get(path)
        for _ in range(REQUESTS):
            for name, (driver, path) in runs.items():
                started = time.perf_counter()
                status = await driver.get(path)
                times[name].append((time.perf_counter() - started) * 1000)
                if status != 200:
                    raise BenchError(f"GET {path}: HTTP {status}")
        await store.end(session_id)
        await app.state["resources"].close()
    finally:
        await redis.aclose()
        await identity_http.aclose()
        await keycloak_http.aclose()
        await identity_app.state["resources"].close()

    for name, values in times.items():
        detail(
            NAME,
            f"{name}: p50 {percentile(values, 0.5):.1f} ms, p95 {percentile(values, 0.95):.1f} ms "
            f"({len(values)} requests, {DOCUMENTS:,} documents in the agency)",
        )
    api_p50 = percentile(times["api"], 0.5)
    home = Result(
        f"{NAME}_home", 1000 / percentile(times["home"], 0.5), 1000 / api_p50, "1/ms at p50", TARGET
    )
    report(home)
    inbox = Result(
        NAME, 1000 / percentile(times["inbox"], 0.5), 1000 / api_p50, "1/ms at p50", TARGET
    )
    report(inbox)
    return inbox


def main() -> None:
    asyncio.run(run())


if __name__ == "__main__":
    main()
