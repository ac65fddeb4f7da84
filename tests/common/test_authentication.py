"""Access tokens from the real Keycloak, verified locally by the kernel."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import jwt
import msgspec
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from litestar import Litestar, Request, get
from litestar.testing import AsyncTestClient

from services.common.app_factory import build_app
from services.common.auth.guards import tenant_of
from services.common.auth.principal import Principal
from services.common.whoami import whoami
from services.identity.settings import load

AppFactory = Callable[..., Litestar]


@pytest.fixture
def make_app() -> AppFactory:
    def factory(**oidc_changes: object) -> Litestar:
        settings = load()
        oidc = msgspec.structs.replace(settings.oidc, **oidc_changes)
        return build_app(msgspec.structs.replace(settings, oidc=oidc), [whoami])

    return factory


@pytest.fixture
async def client(make_app: AppFactory) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(make_app()) as c:
        yield c


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def b64(data: dict[str, object]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def claims_of(token: str) -> dict[str, object]:
    return jwt.decode(token, options={"verify_signature": False})


def assert_unauthenticated(response: object) -> None:
    assert response.status_code == 401  # type: ignore[attr-defined]
    assert response.headers["content-type"].startswith("application/problem+json")  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["code"] == "unauthenticated"
    assert body["status"] == 401


async def test_real_keycloak_token_is_accepted(client: AsyncTestClient[Litestar], keycloak) -> None:  # type: ignore[no-untyped-def]
    response = await client.get("/api/v1/whoami", headers=bearer(keycloak.token("vanthu")))
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "vanthu"
    assert body["memberships"][0]["agency_code"] == "000.00.00.H44"
    assert body["memberships"][0]["roles"] == ["clerk"]
    # A single membership makes it the active agency.
    assert body["active_agency_id"] == body["memberships"][0]["agency_id"]
    # Family name first, as Vietnamese writes it (Keycloak's `name` claim is "Lan Nguyễn Thị").
    assert body["name"] == "Nguyễn Thị Lan"


async def test_service_account_token_is_recognised(
    client: AsyncTestClient[Litestar], keycloak
) -> None:  # type: ignore[no-untyped-def]
    response = await client.get(
        "/api/v1/whoami", headers=bearer(keycloak.service_token("qlvb-docs"))
    )
    assert response.status_code == 200
    assert response.json()["service_account"] is True


async def test_service_account_acts_for_the_agency_it_names(
    client: AsyncTestClient[Litestar], keycloak
) -> None:  # type: ignore[no-untyped-def]
    agency = "8ed2a563-ac2c-5215-80e1-ae060bf0f4a1"
    headers = {**bearer(keycloak.service_token("qlvb-docs")), "X-Agency-Id": agency}
    response = await client.get("/api/v1/whoami", headers=headers)
    assert response.status_code == 200
    assert response.json()["active_agency_id"] == agency


async def test_person_cannot_act_for_an_agency_outside_their_memberships(
    client: AsyncTestClient[Litestar], keycloak
) -> None:  # type: ignore[no-untyped-def]
    headers = {
        **bearer(keycloak.token("vanthu.xa")),
        "X-Agency-Id": "8ed2a563-ac2c-5215-80e1-ae060bf0f4a1",
    }
    response = await client.get("/api/v1/whoami", headers=headers)
    assert response.status_code == 403


async def test_missing_token_gets_problem(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/api/v1/whoami")
    assert_unauthenticated(response)
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_tampered_token_is_refused(client: AsyncTestClient[Litestar], keycloak) -> None:  # type: ignore[no-untyped-def]
    header, payload, signature = keycloak.token("vanthu").split(".")
    claims = claims_of(f"{header}.{payload}.{signature}")
    claims["preferred_username"] = "chutich"
    response = await client.get(
        "/api/v1/whoami", headers=bearer(f"{header}.{b64(claims)}.{signature}")
    )
    assert_unauthenticated(response)


async def test_forged_token_sharing_a_cached_tokens_tail_is_refused(
    client: AsyncTestClient[Litestar], keycloak
) -> None:  # type: ignore[no-untyped-def]
    # The principal cache looks tokens up by their tail; the genuine token is cached first,
    # then a token with another payload but the same signature (so the same tail) must fail.
    genuine = keycloak.token("vanthu")
    assert (await client.get("/api/v1/whoami", headers=bearer(genuine))).status_code == 200
    header, _payload, signature = genuine.split(".")
    claims = claims_of(genuine)
    claims["preferred_username"] = "chutich"
    forged = f"{header}.{b64(claims)}.{signature}"
    assert forged[-48:] == genuine[-48:]
    assert_unauthenticated(await client.get("/api/v1/whoami", headers=bearer(forged)))


async def test_alg_none_token_is_refused(client: AsyncTestClient[Litestar], keycloak) -> None:  # type: ignore[no-untyped-def]
    real = keycloak.token("vanthu")
    kid = jwt.get_unverified_header(real)["kid"]
    forged = f"{b64({'alg': 'none', 'typ': 'JWT', 'kid': kid})}.{b64(claims_of(real))}."
    assert_unauthenticated(await client.get("/api/v1/whoami", headers=bearer(forged)))


async def test_token_signed_by_unknown_key_is_refused(
    client: AsyncTestClient[Litestar], keycloak
) -> None:  # type: ignore[no-untyped-def]
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(
        claims_of(keycloak.token("vanthu")),
        key,
        algorithm="RS256",
        headers={"kid": "not-a-keycloak-key"},
    )
    assert_unauthenticated(await client.get("/api/v1/whoami", headers=bearer(forged)))


async def test_token_with_real_kid_but_foreign_signature_is_refused(
    client: AsyncTestClient[Litestar],
    keycloak,  # type: ignore[no-untyped-def]
) -> None:
    real = keycloak.token("vanthu")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(
        claims_of(real),
        key,
        algorithm="RS256",
        headers={"kid": jwt.get_unverified_header(real)["kid"]},
    )
    assert_unauthenticated(await client.get("/api/v1/whoami", headers=bearer(forged)))


async def test_wrong_audience_is_refused(keycloak) -> None:  # type: ignore[no-untyped-def]
    settings = load()
    app = build_app(msgspec.structs.replace(settings, client_id="qlvb-not-a-service"), [whoami])
    async with AsyncTestClient(app) as c:
        assert_unauthenticated(
            await c.get("/api/v1/whoami", headers=bearer(keycloak.token("vanthu")))
        )


async def test_wrong_issuer_is_refused(make_app: AppFactory, keycloak) -> None:  # type: ignore[no-untyped-def]
    real_issuer = os.environ["QLVB_OIDC_ISSUER"]
    app = make_app(
        issuer=real_issuer.replace("/realms/qlvb", "/realms/other"),
        jwks_url=f"{real_issuer}/protocol/openid-connect/certs",
    )
    async with AsyncTestClient(app) as c:
        assert_unauthenticated(
            await c.get("/api/v1/whoami", headers=bearer(keycloak.token("vanthu")))
        )


async def test_expired_token_is_refused(make_app: AppFactory, keycloak) -> None:  # type: ignore[no-untyped-def]
    # This development client's tokens live 2 s (devstack/keycloak/qlvb-realm.json).
    token = keycloak.token("vanthu", client_id="qlvb-dev-shortlived")
    app = make_app(leeway_seconds=0)
    async with AsyncTestClient(app) as c:
        assert (await c.get("/api/v1/whoami", headers=bearer(token))).status_code == 200
        await asyncio.sleep(max(0.0, float(claims_of(token)["exp"]) - time.time()) + 1.1)  # type: ignore[arg-type]
        assert_unauthenticated(await c.get("/api/v1/whoami", headers=bearer(token)))


async def test_active_agency_outside_memberships_is_refused(
    client: AsyncTestClient[Litestar], keycloak
) -> None:  # type: ignore[no-untyped-def]
    token = keycloak.token("kiemnhiem")
    response = await client.get(
        "/api/v1/whoami",
        headers=bearer(token) | {"X-Agency-Id": "00000000-0000-0000-0000-000000000001"},
    )
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


async def test_agency_switcher_selects_one_of_the_memberships(
    client: AsyncTestClient[Litestar], keycloak
) -> None:  # type: ignore[no-untyped-def]
    token = keycloak.token("kiemnhiem")
    first = (await client.get("/api/v1/whoami", headers=bearer(token))).json()
    assert first["active_agency_id"] is None  # two positions: the caller must choose
    chosen = first["memberships"][1]["agency_id"]
    second = await client.get("/api/v1/whoami", headers=bearer(token) | {"X-Agency-Id": chosen})
    assert second.json()["active_agency_id"] == chosen


async def test_the_tenant_of_a_request_is_its_active_agency(keycloak) -> None:  # type: ignore[no-untyped-def]
    @get("/api/v1/tenant")
    async def tenant(request: Request[Principal, Any, Any]) -> str:
        return str(tenant_of(request))

    token = keycloak.token("kiemnhiem")
    async with AsyncTestClient(build_app(load(), [whoami, tenant])) as c:
        unchosen = await c.get("/api/v1/tenant", headers=bearer(token))
        memberships = (await c.get("/api/v1/whoami", headers=bearer(token))).json()["memberships"]
        chosen = memberships[1]["agency_id"]
        answer = await c.get("/api/v1/tenant", headers=bearer(token) | {"X-Agency-Id": chosen})
    assert unchosen.status_code == 403  # two positions and none chosen
    assert unchosen.headers["content-type"].startswith("application/problem+json")
    assert "X-Agency-Id" in unchosen.json()["detail"]
    assert answer.status_code == 200
    assert answer.text == chosen


def keycloak_process_group(port: str) -> int:
    """The process group of the Keycloak serving `port` (started with setsid by devstack)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"keycloak" in b" ".join(argv) and f"--http-port={port}".encode() in argv:
            return os.getpgid(int(entry.name))
    raise LookupError(f"no Keycloak process serves port {port}")


async def test_cached_keys_keep_working_while_keycloak_is_down(
    make_app: AppFactory, keycloak, stack: dict[str, str]
) -> None:  # type: ignore[no-untyped-def]
    first, second = keycloak.token("vanthu"), keycloak.token("chuyenvien")
    # Keys older than 0 s are stale, so every new token makes the verifier try Keycloak again.
    app = make_app(jwks_cache_seconds=0, jwks_min_refetch_seconds=0)
    async with AsyncTestClient(app) as c:
        assert (await c.get("/api/v1/whoami", headers=bearer(first))).status_code == 200
        group = keycloak_process_group(stack["QLVB_KEYCLOAK_PORT"])
        # Freeze the whole Keycloak process group: connections hang as with a dead server.
        os.killpg(group, signal.SIGSTOP)
        try:
            response = await c.get("/api/v1/whoami", headers=bearer(second))
        finally:
            os.killpg(group, signal.SIGCONT)
    assert response.status_code == 200
    assert response.json()["username"] == "chuyenvien"


async def test_routes_that_only_start_like_public_ones_still_need_a_token() -> None:
    @get(["/healthz", "/ready-now", "/schemas/x"], sync_to_thread=False)
    def lookalike() -> str:
        return "secret"

    async with AsyncTestClient(build_app(load(), [lookalike, whoami])) as c:
        for path in ("/healthz", "/ready-now", "/schemas/x"):
            assert (await c.get(path)).status_code == 401, path
        assert (await c.get("/health")).status_code == 200


async def test_malformed_active_agency_header_is_invalid_input(
    client: AsyncTestClient[Litestar],
    keycloak,  # type: ignore[no-untyped-def]
) -> None:
    headers = bearer(keycloak.token("kiemnhiem")) | {"X-Agency-Id": "not-a-uuid"}
    response = await client.get("/api/v1/whoami", headers=headers)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid-input"
