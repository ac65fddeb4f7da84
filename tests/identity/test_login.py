"""The web login against the real Keycloak: a browser-like client goes through Keycloak's HTML
login form, lands on the identity app's callback and holds only a session cookie.

The identity app runs in a real uvicorn server on QLVB_IDENTITY_TEST_PORT, because Keycloak
delivers back-channel logouts to it over HTTP (client `qlvb-web-test` in the realm names that
port). Most tests log in as a Keycloak user of their own: Keycloak 26 refuses a login of a user
whose previous login it is still processing, and a user of their own keeps tests independent."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import msgspec
import pytest
import uvicorn
from cryptography.hazmat.primitives.asymmetric import rsa
from keycloak import KeycloakAdmin
from redis.asyncio import Redis

from bench.common import BenchError
from bench.login import Browser, location
from devstack.bootstrap_keycloak import admin
from devstack.environment import REALM
from services.common.auth.keys import KeySet
from services.common.auth.oidc import OidcClient
from services.common.auth.tokens import TokenVerifier
from services.common.auth.web_sessions import SessionStore
from services.identity.app import create_app
from services.identity.login.tokens import (
    BACKCHANNEL_LOGOUT_EVENT,
    InvalidLoginToken,
    JwtChecks,
    verify_logout_token,
)
from services.identity.settings import IdentitySettings, load

WEB_TEST_CLIENT = "qlvb-web-test"
SESSION_COOKIE = "qlvb_session"
# The demo province (devstack/demo-province.json).
UBND_ID = "8ed2a563-ac2c-5215-80e1-ae060bf0f4a1"
STC_ID = "92e5cba4-b151-5fc0-a7da-1b9fa7b192db"
SNV_ID = "0206bdf1-e27b-55fe-884a-b77f3e577334"
# Polling for what Keycloak does in its own time: bounded, never a bare sleep.
POLL_ATTEMPTS = 100
POLL_INTERVAL = 0.05
PATIENT_LOGIN_ATTEMPTS = 5
PORT_ATTEMPTS = 120
PORT_PAUSE = 0.5
PATIENT_LOGIN_PAUSE = 0.3


@pytest.fixture(scope="module")
def settings(stack: dict[str, str]) -> IdentitySettings:
    base = load()
    return msgspec.structs.replace(
        base,
        port=int(stack["QLVB_IDENTITY_TEST_PORT"]),
        web=msgspec.structs.replace(base.web, public_url="", client_id=WEB_TEST_CLIENT),
        log_level="WARNING",
    )


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.fixture(scope="module")
def origin(settings: IdentitySettings) -> Iterator[str]:
    """The identity app, served by uvicorn in a thread of its own for the module's tests. The
    port is fixed (the realm names it), so a test run elsewhere in this tree may hold it for a
    while: starting is tried again until it is free, a bounded number of times."""
    for _ in range(PORT_ATTEMPTS):
        if not port_is_free(settings.port):
            time.sleep(PORT_PAUSE)
            continue
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(settings),
                host="127.0.0.1",
                port=settings.port,
                log_level="critical",
                lifespan="on",
            )
        )
        thread = threading.Thread(target=server.run, name="identity-test-server", daemon=True)
        thread.start()
        while thread.is_alive() and not server.started:
            thread.join(POLL_INTERVAL)
        if server.started:
            break
    else:
        raise RuntimeError(f"port {settings.port} stayed busy; is another test run using it?")
    yield settings.web_origin
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30.0) as client:
        yield client


@pytest.fixture
def browser(http: httpx.AsyncClient) -> Browser:
    return Browser(http)


@pytest.fixture(scope="module")
def kc_admin() -> KeycloakAdmin:
    return admin(REALM)


@dataclass(frozen=True)
class Person:
    username: str
    user_id: str


PersonFactory = Callable[[], Person]


@pytest.fixture
def new_person(kc_admin: KeycloakAdmin, keycloak: Any) -> Iterator[PersonFactory]:
    """Keycloak accounts made for one test (a clerk of the demo UBND, with the demo password),
    deleted after it."""
    made: list[str] = []
    membership = {"agency_id": UBND_ID, "agency_code": "000.00.00.H44", "roles": ["clerk"]}

    def factory() -> Person:
        username = f"t-login-{uuid.uuid4().hex[:12]}"
        user_id = kc_admin.create_user(
            {
                "username": username,
                "email": f"{username}@test.qlvb.vn",
                "emailVerified": True,
                "firstName": "Thử",
                "lastName": "Nghiệm",
                "enabled": True,
                "attributes": {"membership": [json.dumps(membership)]},
                "credentials": [
                    {"type": "password", "value": keycloak.demo_password, "temporary": False}
                ],
            }
        )
        made.append(user_id)
        return Person(username, user_id)

    yield factory
    for user_id in made:
        kc_admin.delete_user(user_id)


async def log_in(
    browser: Browser, origin: str, username: str, password: str, next_path: str = "/"
) -> httpx.Response:
    return await browser.login(
        f"{origin}/auth/login?{httpx.QueryParams({'next': next_path})}", username, password
    )


async def log_in_patiently(
    browser: Browser, origin: str, username: str, password: str, next_path: str = "/"
) -> httpx.Response:
    """A login of a user whose previous login may still be in progress in Keycloak: a demo user
    (other test processes log in as them) or one logged in a moment ago. Keycloak 26 refuses
    such a login (user_temporarily_disabled, not counted as a failure), so a refusal is tried
    again, a bounded number of times."""
    for attempt in range(1, PATIENT_LOGIN_ATTEMPTS + 1):
        try:
            return await log_in(browser, origin, username, password, next_path)
        except BenchError:
            if attempt == PATIENT_LOGIN_ATTEMPTS:
                raise
            await asyncio.sleep(PATIENT_LOGIN_PAUSE)
    raise AssertionError("unreachable")


async def session_of(http: httpx.AsyncClient, origin: str, session_id: str) -> httpx.Response:
    return await http.get(
        f"{origin}/auth/session", headers={"Cookie": f"{SESSION_COOKIE}={session_id}"}
    )


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    return body


async def until_session_ends(http: httpx.AsyncClient, origin: str, session_id: str) -> None:
    """Poll the session until it is gone (Keycloak calls back in its own time), within a
    bounded number of attempts."""
    for _ in range(POLL_ATTEMPTS):
        if (await session_of(http, origin, session_id)).status_code == 401:
            return
        await asyncio.sleep(POLL_INTERVAL)
    raise AssertionError(f"the session still answers after {POLL_ATTEMPTS} attempts")


# --------------------------------------------------------------------------- logging in


async def test_login_through_the_keycloak_form_creates_a_session(
    origin: str, browser: Browser, keycloak: Any
) -> None:
    landed = await log_in_patiently(
        browser, origin, "vanthu", keycloak.demo_password, "/van-ban/den?trang=2"
    )

    assert landed.status_code == 302
    assert landed.headers["location"] == "/van-ban/den?trang=2"
    session = await browser.request("GET", f"{origin}/auth/session")
    assert session.status_code == 200
    body = session.json()
    assert body["person"]["username"] == "vanthu"
    assert body["person"]["name"] == "Nguyễn Thị Lan"
    assert body["memberships"] == [
        {"agency_id": UBND_ID, "agency_code": "000.00.00.H44", "roles": ["clerk"]}
    ]
    assert body["active_agency"]["agency_id"] == UBND_ID  # the only membership


async def test_session_cookie_is_http_only_lax_secure_and_holds_no_token(
    origin: str, browser: Browser, new_person: PersonFactory, keycloak: Any
) -> None:
    person = new_person()
    landed = await log_in(browser, origin, person.username, keycloak.demo_password)

    cookie = next(
        c for c in landed.headers.get_list("set-cookie") if c.startswith(f"{SESSION_COOKIE}=")
    )
    value, *attributes = [part.strip() for part in cookie.split(";")]
    assert {a.lower() for a in attributes} >= {"httponly", "samesite=lax", "secure", "path=/"}
    session_id = value.split("=", 1)[1]
    assert len(session_id) == 43  # 256 random bits, base64url
    session = await browser.request("GET", f"{origin}/auth/session")
    assert "token" not in session.text


async def test_open_redirect_after_login_is_neutralised(
    origin: str, http: httpx.AsyncClient, new_person: PersonFactory, keycloak: Any
) -> None:
    for evil in (
        "https://evil.example/x",
        "//evil.example/x",
        "/\\evil.example",
        "/\t/evil.example",
    ):
        person = new_person()  # one each: Keycloak refuses logins of one user back to back
        landed = await log_in(Browser(http), origin, person.username, keycloak.demo_password, evil)
        assert landed.status_code == 302
        assert landed.headers["location"] == "/", evil


async def test_next_path_in_vietnamese_arrives_percent_encoded(
    origin: str, browser: Browser, new_person: PersonFactory, keycloak: Any
) -> None:
    person = new_person()

    landed = await log_in(browser, origin, person.username, keycloak.demo_password, "/văn-bản")

    assert landed.status_code == 302
    assert landed.headers["location"] == "/v%C4%83n-b%E1%BA%A3n"


async def test_login_started_in_two_tabs_finishes_in_the_first(
    origin: str, browser: Browser, new_person: PersonFactory, keycloak: Any
) -> None:
    person = new_person()
    first_tab = location(await browser.request("GET", f"{origin}/auth/login?next=/a"), origin)
    await browser.request("GET", f"{origin}/auth/login?next=/b")  # the second tab

    callback = await browser.fill_in(first_tab, person.username, keycloak.demo_password)
    landed = await browser.request("GET", callback)

    assert landed.status_code == 302
    assert landed.headers["location"] == "/a"


async def test_a_login_before_signing_asks_for_the_password_again(
    origin: str, browser: Browser, new_person: PersonFactory, keycloak: Any
) -> None:
    person = new_person()
    await log_in(browser, origin, person.username, keycloak.demo_password)
    # Within Keycloak's session, another login goes straight back to the app...
    again = location(await browser.request("GET", f"{origin}/auth/login?next=/a"), origin)
    assert location(await browser.request("GET", again), again).startswith(f"{origin}/auth/")

    # ...but a signature needs a fresh authentication: Keycloak asks for the password.
    query = httpx.QueryParams({"next": "/outgoing/van-ban", "reauth": "true"})
    fresh = location(await browser.request("GET", f"{origin}/auth/login?{query}"), origin)
    assert httpx.URL(fresh).params["prompt"] == "login"
    callback = await browser.fill_in(fresh, person.username, keycloak.demo_password)
    landed = await browser.request("GET", callback)

    assert landed.status_code == 302
    assert landed.headers["location"] == "/outgoing/van-ban"


async def test_no_session_cookie_is_unauthenticated(origin: str, http: httpx.AsyncClient) -> None:
    assert_problem(await http.get(f"{origin}/auth/session"), 401, "unauthenticated")
    forged = await session_of(http, origin, "A" * 43)
    body = assert_problem(forged, 401, "unauthenticated")
    assert body["title"] == "Chưa xác thực"


# --------------------------------------------------------------------------- the callback


async def test_replayed_callback_is_refused(
    origin: str, browser: Browser, new_person: PersonFactory, keycloak: Any
) -> None:
    person = new_person()
    callback = await browser.to_callback(
        f"{origin}/auth/login", person.username, keycloak.demo_password
    )
    assert (await browser.request("GET", callback)).status_code == 302

    replay = await browser.request("GET", callback)

    body = assert_problem(replay, 400, "invalid-input")
    assert body["title"] == "Dữ liệu không hợp lệ"


async def test_callback_with_an_unknown_state_is_refused(
    origin: str, http: httpx.AsyncClient
) -> None:
    response = await http.get(
        f"{origin}/auth/callback",
        params={"state": "x" * 43, "code": "made-up"},
        headers={"Accept-Language": "en"},
    )
    body = assert_problem(response, 400, "invalid-input")
    assert body["detail"] == "The login is unknown, expired or already used. Please log in again."


async def test_callback_without_state_or_code_is_refused(
    origin: str, http: httpx.AsyncClient
) -> None:
    assert_problem(await http.get(f"{origin}/auth/callback"), 400, "invalid-input")
    assert_problem(
        await http.get(f"{origin}/auth/callback", params={"state": "a;b"}), 400, "invalid-input"
    )


async def test_callback_in_another_browser_is_refused(
    origin: str, http: httpx.AsyncClient, new_person: PersonFactory, keycloak: Any
) -> None:
    person = new_person()
    callback = await Browser(http).to_callback(
        f"{origin}/auth/login", person.username, keycloak.demo_password
    )

    # A victim's browser made to open an attacker's callback (login CSRF).
    response = await Browser(http).request("GET", callback)

    assert_problem(response, 400, "invalid-input")


async def test_callback_with_a_keycloak_error_is_refused(origin: str, browser: Browser) -> None:
    started = await browser.request("GET", f"{origin}/auth/login")
    state = httpx.URL(started.headers["location"]).params["state"]

    response = await browser.request(
        "GET", f"{origin}/auth/callback", params={"state": state, "error": "access_denied"}
    )

    assert_problem(response, 400, "invalid-input")


# --------------------------------------------------------------------------- agencies


async def test_person_with_two_memberships_switches_the_active_agency(
    origin: str, browser: Browser, keycloak: Any
) -> None:
    await log_in_patiently(browser, origin, "kiemnhiem", keycloak.demo_password)
    first = (await browser.request("GET", f"{origin}/auth/session")).json()
    assert {m["agency_code"] for m in first["memberships"]} == {"000.00.05.H44", "000.00.09.H44"}
    assert first["active_agency"] is None  # two positions: the person must choose

    to_stc = await browser.request(
        "POST", f"{origin}/auth/session/agency", json={"agency_id": STC_ID}
    )
    assert to_stc.status_code == 200
    assert to_stc.json()["active_agency"]["agency_id"] == STC_ID
    to_snv = await browser.request(
        "POST", f"{origin}/auth/session/agency", json={"agency_id": SNV_ID}
    )
    assert to_snv.json()["active_agency"]["agency_id"] == SNV_ID
    now = (await browser.request("GET", f"{origin}/auth/session")).json()
    assert now["active_agency"]["agency_code"] == "000.00.09.H44"


async def test_switch_to_an_agency_outside_the_memberships_is_refused(
    origin: str, browser: Browser, keycloak: Any
) -> None:
    await log_in_patiently(browser, origin, "vanthu", keycloak.demo_password)

    refused = await browser.request(
        "POST", f"{origin}/auth/session/agency", json={"agency_id": STC_ID}
    )

    body = assert_problem(refused, 403, "forbidden")
    assert body["title"] == "Không có quyền"
    still = (await browser.request("GET", f"{origin}/auth/session")).json()
    assert still["active_agency"]["agency_id"] == UBND_ID


async def test_switch_with_a_malformed_agency_id_is_invalid_input(
    origin: str, browser: Browser, new_person: PersonFactory, keycloak: Any
) -> None:
    person = new_person()
    await log_in(browser, origin, person.username, keycloak.demo_password)

    response = await browser.request(
        "POST", f"{origin}/auth/session/agency", json={"agency_id": "không-phải-uuid"}
    )

    assert_problem(response, 400, "invalid-input")


async def test_switch_from_another_site_is_refused(
    origin: str, browser: Browser, new_person: PersonFactory, keycloak: Any
) -> None:
    person = new_person()
    await log_in(browser, origin, person.username, keycloak.demo_password)

    response = await browser.request(
        "POST",
        f"{origin}/auth/session/agency",
        json={"agency_id": UBND_ID},
        headers={"Origin": "https://evil.example"},
    )

    assert_problem(response, 403, "forbidden")


# --------------------------------------------------------------------------- logout


async def test_logout_ends_the_qlvb_and_the_keycloak_session(
    origin: str,
    browser: Browser,
    http: httpx.AsyncClient,
    new_person: PersonFactory,
    kc_admin: KeycloakAdmin,
    keycloak: Any,
) -> None:
    person = new_person()
    await log_in(browser, origin, person.username, keycloak.demo_password)
    session_id = browser.cookie(SESSION_COOKIE)
    assert session_id is not None
    assert len(kc_admin.get_sessions(person.user_id)) == 1

    response = await browser.request("POST", f"{origin}/auth/logout")

    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert browser.cookie(SESSION_COOKIE) is None  # the browser was told to drop it
    assert_problem(await session_of(http, origin, session_id), 401, "unauthenticated")
    assert kc_admin.get_sessions(person.user_id) == []


async def test_logout_without_a_session_still_clears_the_cookie(
    origin: str, http: httpx.AsyncClient
) -> None:
    response = await http.post(
        f"{origin}/auth/logout", headers={"Cookie": f"{SESSION_COOKIE}={'B' * 43}"}
    )
    assert response.status_code == 303
    assert any(
        c.startswith(f"{SESSION_COOKIE}=") and "max-age=0" in c.lower()
        for c in response.headers.get_list("set-cookie")
    )


async def test_keycloak_ending_the_session_ends_the_qlvb_session(
    origin: str,
    browser: Browser,
    http: httpx.AsyncClient,
    new_person: PersonFactory,
    kc_admin: KeycloakAdmin,
    keycloak: Any,
) -> None:
    person = new_person()
    await log_in(browser, origin, person.username, keycloak.demo_password)
    session_id = browser.cookie(SESSION_COOKIE)
    assert session_id is not None
    assert (await session_of(http, origin, session_id)).status_code == 200

    # An administrator signs the person out in Keycloak: Keycloak posts a logout token to
    # the client's back-channel URL, the test server.
    kc_admin.user_logout(person.user_id)

    await until_session_ends(http, origin, session_id)


async def test_back_channel_logout_ends_only_the_named_keycloak_session(
    origin: str,
    http: httpx.AsyncClient,
    new_person: PersonFactory,
    kc_admin: KeycloakAdmin,
    keycloak: Any,
) -> None:
    person = new_person()
    office, home = Browser(http), Browser(http)
    await log_in(office, origin, person.username, keycloak.demo_password)
    [office_keycloak_session] = kc_admin.get_sessions(person.user_id)
    await log_in_patiently(home, origin, person.username, keycloak.demo_password)
    office_session, home_session = office.cookie(SESSION_COOKIE), home.cookie(SESSION_COOKIE)
    assert office_session is not None
    assert home_session is not None
    assert len(kc_admin.get_sessions(person.user_id)) == 2

    # An administrator ends one Keycloak session (the office browser's).
    kc_admin.connection.raw_delete(f"admin/realms/{REALM}/sessions/{office_keycloak_session['id']}")

    await until_session_ends(http, origin, office_session)
    assert (await session_of(http, origin, home_session)).status_code == 200


async def test_forged_logout_token_is_refused(
    origin: str, http: httpx.AsyncClient, settings: IdentitySettings
) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(
        {
            "iss": settings.oidc.issuer,
            "aud": WEB_TEST_CLIENT,
            "iat": int(time.time()),
            "jti": uuid.uuid4().hex,
            "sid": "any-session",
            "events": {BACKCHANNEL_LOGOUT_EVENT: {}},
        },
        key,
        algorithm="RS256",
        headers={"kid": "not-a-keycloak-key"},
    )

    response = await http.post(f"{origin}/auth/backchannel-logout", data={"logout_token": forged})

    assert_problem(response, 400, "invalid-input")
    missing = await http.post(f"{origin}/auth/backchannel-logout", data={"other": "x"})
    assert_problem(missing, 400, "invalid-input")


class LocalKeys:
    """A key set of one local key, for logout tokens Keycloak would never send."""

    def __init__(self) -> None:
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public = jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        self.jwk = jwt.PyJWK({**public, "kid": "local", "alg": "RS256", "use": "sig"})

    async def get(self, kid: str) -> jwt.PyJWK:
        return self.jwk

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self.private, algorithm="RS256", headers={"kid": "local"})


def logout_claims(issuer: str, **changes: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": WEB_TEST_CLIENT,
        "iat": int(time.time()),
        "exp": int(time.time()) + 60,
        "jti": uuid.uuid4().hex,
        "sub": "someone",
        "sid": "some-session",
        "events": {BACKCHANNEL_LOGOUT_EVENT: {}},
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"nonce": "n"}, id="nonce-present"),
        pytest.param({"events": None}, id="no-events"),
        pytest.param({"events": {"http://example/other": {}}}, id="other-event"),
        pytest.param({"sid": None, "sub": None}, id="neither-sid-nor-sub"),
        pytest.param({"aud": "qlvb-docs"}, id="other-audience"),
        pytest.param({"iss": "http://localhost:58080/realms/other"}, id="other-issuer"),
        pytest.param({"iat": None}, id="no-iat"),
        pytest.param({"iat": int(time.time()) - 3600, "exp": None}, id="stale-iat"),
    ],
)
async def test_logout_token_claims_are_checked(
    settings: IdentitySettings, changes: dict[str, Any]
) -> None:
    keys = LocalKeys()
    checks = JwtChecks(settings.oidc, keys, WEB_TEST_CLIENT)
    issuer = settings.oidc.issuer
    accepted = await verify_logout_token(checks, keys.sign(logout_claims(issuer)))
    assert (accepted.subject, accepted.keycloak_sid) == ("someone", "some-session")

    with pytest.raises(InvalidLoginToken):
        await verify_logout_token(checks, keys.sign(logout_claims(issuer, **changes)))


# --------------------------------------------------------------------------- other services


async def test_concurrent_requests_refresh_the_access_token_once(
    origin: str,
    browser: Browser,
    new_person: PersonFactory,
    settings: IdentitySettings,
    keycloak: Any,
) -> None:
    person = new_person()
    await log_in(browser, origin, person.username, keycloak.demo_password)
    session_id = browser.cookie(SESSION_COOKIE)
    assert session_id is not None
    refreshes = 0

    async def count_and_hold(request: httpx.Request) -> None:
        nonlocal refreshes
        if request.url.path.endswith("/token") and b"refresh_token" in request.content:
            refreshes += 1
            # Keycloak answers slowly: every concurrent resolve starts while this refresh runs.
            await asyncio.sleep(0.3)

    # What another service serving the web UI does: its own store over the same Redis. A margin
    # longer than the token's life makes every resolve want a refresh.
    async with httpx.AsyncClient(event_hooks={"request": [count_and_hold]}) as client:
        redis = Redis.from_url(settings.redis_url)
        oidc = OidcClient(
            settings.oidc,
            WEB_TEST_CLIENT,
            settings.web.client_secret,
            f"{origin}/auth/callback",
            client,
        )
        verifier = TokenVerifier(settings.oidc, KeySet(settings.oidc, client), settings.client_id)
        store = SessionStore(redis, oidc, verifier, refresh_margin_seconds=3600)
        try:
            before = await SessionStore(redis, oidc, verifier).resolve(session_id)
            resolved = await asyncio.gather(*(store.resolve(session_id) for _ in range(5)))
            after = await SessionStore(redis, oidc, verifier).resolve(session_id)
        finally:
            await redis.aclose()

    assert refreshes == 1
    assert before is not None
    assert after is not None
    assert all(r is not None and r.principal.username == person.username for r in resolved)
    assert after.access_token != before.access_token
    assert after.active_agency_id == uuid.UUID(UBND_ID)
