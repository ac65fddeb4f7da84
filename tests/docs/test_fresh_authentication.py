"""Signing needs a recent login (issue 6: "with a fresh authentication"): the access token's
`auth_time`, from a real Keycloak login page, must be within `signing_fresh_auth_seconds`. A
stale login is refused with 401 `reauthentication-required` and nothing is signed; the same
login, recent enough for the platform's setting, signs."""

# ruff: noqa: F811
# (The signing tests' fixtures are imported below, and fixtures are requested by argument name.)

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.common import BenchError
from bench.login import Browser
from services.common.auth.principal import principal_from_claims
from services.docs.settings import load as load_docs
from tests.conftest import Keycloak
from tests.docs.test_outgoing_signatures import (  # noqa: F401
    PIN,
    Desk,
    admin_token,
    desk,
    desk_app,
    enrolled,
    problem,
    reviewed,
    trust_files,
)
from tests.signing.conftest import pki  # noqa: F401
from tests.signing.pki import SigningPki

WEB_TEST_CLIENT = "qlvb-web-test"
CALLBACK = "http://127.0.0.1:58100/auth/callback"
LOGIN_ATTEMPTS = 5
LOGIN_PAUSE = 0.3


def claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return decoded


async def logged_in_token(keycloak: Keycloak, username: str) -> str:
    """An access token as the web login gets one: Keycloak's login page filled in by a
    browser-like client, then the code exchanged by the web client (code + PKCE). Unlike the
    password grant, it says when the person authenticated (`auth_time`)."""
    verifier = secrets.token_urlsafe(48)
    challenge = hashlib.sha256(verifier.encode()).digest()
    authorize = httpx.URL(
        f"{keycloak.issuer}/protocol/openid-connect/auth",
        params={
            "client_id": WEB_TEST_CLIENT,
            "response_type": "code",
            "scope": "openid",
            "redirect_uri": CALLBACK,
            "state": secrets.token_urlsafe(16),
            "code_challenge": base64.urlsafe_b64encode(challenge).rstrip(b"=").decode(),
            "code_challenge_method": "S256",
        },
    )
    async with httpx.AsyncClient(timeout=30) as http:
        for attempt in range(1, LOGIN_ATTEMPTS + 1):
            try:
                callback = await Browser(http).fill_in(
                    str(authorize), username, keycloak.demo_password
                )
                break
            except BenchError:
                # Keycloak 26 refuses a login of a user whose previous login (another test
                # process's) it is still processing; tried again a bounded number of times.
                if attempt == LOGIN_ATTEMPTS:
                    raise
                await asyncio.sleep(LOGIN_PAUSE)
        tokens = await http.post(
            f"{keycloak.issuer}/protocol/openid-connect/token",
            data={
                "grant_type": "authorization_code",
                "code": httpx.URL(callback).params["code"],
                "redirect_uri": CALLBACK,
                "code_verifier": verifier,
            },
            auth=(WEB_TEST_CLIENT, load_docs().web.client_secret),
        )
    tokens.raise_for_status()
    return str(tokens.json()["access_token"])


@pytest.fixture
async def strict(
    enrolled: Desk, pki: SigningPki, trust_files: tuple[Path, Path]
) -> AsyncIterator[Desk]:
    """The same platform, configured to accept only a login of this very second."""
    async with desk_app(
        pki, trust_files, enrolled.docs.tokens, signing_fresh_auth_seconds=0
    ) as built:
        yield built


async def test_the_login_time_reaches_the_principal(keycloak: Keycloak) -> None:
    token = await logged_in_token(keycloak, "chutich")
    claims = claims_of(token)
    principal = principal_from_claims(claims)
    assert principal.auth_time == claims["auth_time"]
    assert principal.auth_time <= principal.issued_at


async def test_a_stale_login_is_refused_and_nothing_is_signed(
    enrolled: Desk, strict: Desk, keycloak: Keycloak
) -> None:
    card = await reviewed(enrolled, "Quyết định ký khi phiên đăng nhập đã cũ")
    sign = f"/api/v1/outgoing/{card['id']}/sign"
    token = await logged_in_token(keycloak, "chutich")
    authenticated = claims_of(token)["auth_time"]
    # A login of an earlier second is already too old for this platform (0 seconds allowed).
    await asyncio.sleep(max(authenticated + 1 - time.time(), 0))
    headers = {**enrolled.docs.as_("chutich"), "Authorization": f"Bearer {token}"}

    refused = await strict.docs.client.post(sign, json={"pin": PIN}, headers=headers)

    body = problem(refused, 401, "reauthentication-required")
    assert body["type"].endswith("/reauthentication-required")
    assert "đăng nhập lại" in body["detail"]
    after = (await enrolled.call("GET", f"/api/v1/outgoing/{card['id']}", "chutich", 200)).json()
    assert after["signatures"] == []
    assert after["state"] == card["state"]
    assert after["current_file"] == card["current_file"]


async def test_a_recent_login_signs(enrolled: Desk, keycloak: Keycloak) -> None:
    card = await reviewed(enrolled, "Quyết định ký ngay sau khi đăng nhập")
    token = await logged_in_token(keycloak, "chutich")
    headers = {**enrolled.docs.as_("chutich"), "Authorization": f"Bearer {token}"}

    signed = await enrolled.docs.client.post(
        f"/api/v1/outgoing/{card['id']}/sign", json={"pin": PIN}, headers=headers
    )

    assert signed.status_code == 200, signed.text
    (signature,) = signed.json()["signatures"]
    assert (signature["kind"], signature["signer"]) == ("leader", "chutich")
