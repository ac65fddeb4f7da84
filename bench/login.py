"""bench/login: complete web logins per second against Keycloak's own token endpoint.

A web login is what a browser does: `GET /auth/login` on the identity app, Keycloak's login
form, the form posted with username and password, and the callback, where the app exchanges
the code (with its PKCE verifier), verifies the ID and access tokens and creates the session
in Redis. The baseline is one password grant (client `qlvb-dev-cli`) for the same users in the
same run. Both pay for one password hash (Argon2) in Keycloak, which dominates either.

The identity app runs as production runs it, `qlvb serve identity` (uvicorn) in its own process;
Keycloak is the real one of the local stack. Everything shares this machine's cores, the
simulated browsers too, so the bench also reports the CPU each kind of login costs Keycloak, the
app and the client, and the ratio that would remain if the app cost nothing.

Every login uses a fresh cookie jar (a new browser), so Keycloak always shows its form. Several
workers run at once, one login at a time each, each cycling through users of its own: Keycloak
26's brute-force protection refuses a login of a user whose previous login it is still
processing (`DefaultBlockingBruteForceProtector`, user_temporarily_disabled), and under load that
processing can outlast the previous request, so a user's logins are kept apart.

`Browser` is also the login tests' browser (tests/identity/test_login.py)."""

from __future__ import annotations

import asyncio
import http.cookiejar
import itertools
import json
import os
import re
import subprocess
import time
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import msgspec
import uvloop

from bench.common import (
    CLI_CLIENT_ID,
    BenchError,
    Result,
    ServedApp,
    detail,
    identity_settings,
    interleave,
    median,
    paired_ratio,
    report,
    spread,
    stack_env,
)
from devstack.bootstrap_keycloak import DEMO_FILE, admin
from devstack.environment import REALM, stack_values
from services.common.settings import TelemetrySettings
from services.identity.settings import IdentitySettings

NAME = "login"
TARGET = 0.80
# Two cores here, and Keycloak's hashing is CPU-bound: a few logins in flight keep both busy.
WORKERS = int(os.environ.get("QLVB_BENCH_LOGIN_WORKERS", "3"))
USERS_PER_WORKER = 4
# Other work on the machine moves single rounds a lot; the medians of many short rounds hold.
ROUNDS = 15
LOGINS_PER_WORKER = 6
WARM_UP = 3
BENCH_USER_PREFIX = "bench-login-"
WEB_TEST_CLIENT = "qlvb-web-test"
SESSION_COOKIE = "qlvb_session"
LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


# --------------------------------------------------------------------------- the browser


class LoopbackIsSecure(http.cookiejar.DefaultCookiePolicy):
    """Browsers count http://localhost and 127.0.0.1 as secure contexts and send Secure
    cookies there (Keycloak marks its cookies Secure, QLVB its session cookie); the standard
    library's policy would drop them over plain HTTP."""

    def return_ok_secure(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        host = urlsplit(request.get_full_url()).hostname
        return host in LOOPBACK or bool(super().return_ok_secure(cookie, request))


class _Headers:
    """The one method `CookieJar.extract_cookies` reads from a response."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response

    def info(self) -> _Headers:
        return self

    def get_all(self, name: str, default: Any = None) -> Any:
        return self._response.headers.get_list(name) or default


class _LoginForm(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form" and values.get("id") == "kc-form-login":
            self.action = values.get("action")


def login_form_action(page: str) -> str:
    """The `action` URL of Keycloak's login form (`<form id="kc-form-login">`), entities
    decoded. Only the form's start tag is parsed, not the whole page."""
    at = page.find('id="kc-form-login"')
    start, end = page.rfind("<form", 0, at), page.find(">", at)
    if at < 0 or start < 0 or end < 0:
        raise BenchError("no Keycloak login form in the page")
    parser = _LoginForm()
    parser.feed(page[start : end + 1])
    if not parser.action:
        raise BenchError("Keycloak's login form has no action")
    return parser.action


def _feedback(page: str) -> str:
    """Keycloak's message on a refused login, for the error report."""
    for marker in ('id="input-error"', 'class="kc-feedback-text"', "pf-v5-c-helper-text__item"):
        at = page.find(marker)
        if at >= 0:
            text = page[page.find(">", at) + 1 :]
            return text[: text.find("<")].strip()
    return "(no message)"


class Browser:
    """A browser as far as a login needs one: its own cookie jar over a shared HTTP client,
    redirects followed by hand, Keycloak's form filled in."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.http = client
        self.jar = http.cookiejar.CookieJar(LoopbackIsSecure())

    async def request(
        self, method: str, url: str, *, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> httpx.Response:
        request = self.http.build_request(method, url, headers=headers, **kwargs)
        # The shared client would send cookies of its own jar (every browser's, with the
        # default policy); this browser sends exactly those of its own jar.
        request.headers.pop("Cookie", None)
        compat = urllib.request.Request(str(request.url), method=method)  # noqa: S310 (never opened)
        self.jar.add_cookie_header(compat)
        cookie = compat.get_header("Cookie")
        if cookie:
            request.headers["Cookie"] = cookie
        response = await self.http.send(request)
        self.jar.extract_cookies(_Headers(response), compat)  # type: ignore[arg-type]
        return response

    def cookie(self, name: str) -> str | None:
        for cookie in self.jar:
            if cookie.name == name:
                return cookie.value
        return None

    async def to_callback(self, login_url: str, username: str, password: str) -> str:
        """Start at the app's login URL, fill in Keycloak's form; the callback URL Keycloak
        sends the browser back to (not yet visited)."""
        keycloak_url = location(await self.request("GET", login_url), login_url)
        return await self.fill_in(keycloak_url, username, password)

    async def fill_in(self, keycloak_url: str, username: str, password: str) -> str:
        """Open Keycloak's login form and post it; the callback URL Keycloak answers with."""
        form_page = await self.request("GET", keycloak_url)
        if form_page.status_code != 200:
            raise BenchError(f"Keycloak login page: HTTP {form_page.status_code}")
        action = login_form_action(form_page.text)
        answer = await self.request(
            "POST", action, data={"username": username, "password": password, "credentialId": ""}
        )
        if answer.status_code != 302:
            raise BenchError(f"login of {username} refused: {_feedback(answer.text)}")
        return location(answer, action)

    async def login(self, login_url: str, username: str, password: str) -> httpx.Response:
        """The whole login; the app's answer to the callback (a redirect, with the cookie)."""
        return await self.request("GET", await self.to_callback(login_url, username, password))


def location(response: httpx.Response, base: str) -> str:
    if response.status_code not in (301, 302, 303, 307, 308):
        raise BenchError(f"{response.request.url}: expected a redirect, got {response.status_code}")
    return urljoin(base, response.headers["location"])


# --------------------------------------------------------------------------- users


def bench_usernames(count: int) -> list[str]:
    return [f"{BENCH_USER_PREFIX}{i:02d}" for i in range(1, count + 1)]


def ensure_bench_users(usernames: list[str], password: str) -> None:
    """Keycloak accounts of their own, so that no test or other bench logs in as the same
    person at the same time (brute-force protection would count that as an attack)."""
    demo = json.loads(DEMO_FILE.read_text(encoding="utf-8"))
    first = demo["agencies"][0]
    membership = json.dumps(
        {"agency_id": first["id"], "agency_code": first["code"], "roles": ["specialist"]},
        separators=(",", ":"),
    )
    kc = admin(REALM)
    for username in usernames:
        if kc.get_user_id(username) is not None:
            continue
        kc.create_user(
            {
                "username": username,
                "email": f"{username}@bench.qlvb.vn",
                "emailVerified": True,
                "firstName": "Thử tải",
                "lastName": username,
                "enabled": True,
                "attributes": {"membership": [membership]},
                "credentials": [{"type": "password", "value": password, "temporary": False}],
            }
        )


# --------------------------------------------------------------------------- timing

Login = Callable[[str], Awaitable[None]]


def listener_pid(port: int) -> int:
    """The process listening on a loopback port (Keycloak's JVM)."""
    answer = subprocess.run(
        ["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True, check=False
    )
    found = re.search(r"pid=(\d+)", answer.stdout)
    if found is None:
        raise BenchError(f"no process listens on port {port}")
    return int(found.group(1))


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU spent per login by Keycloak, the identity app and this process (the browsers, or
    the grant's client), summed over the timed rounds of one kind of login: what the ratio is
    made of on a machine whose cores all three share."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.spent = dict.fromkeys([*pids, "client"], 0.0)
        self.logins = 0

    def now(self) -> dict[str, float]:
        return {
            **{name: cpu_seconds(pid) for name, pid in self.pids.items()},
            "client": time.process_time(),
        }

    async def measure(self, round_: Callable[[], Awaitable[float]], logins: int) -> float:
        before = self.now()
        rate = await round_()
        after = self.now()
        for name in self.spent:
            self.spent[name] += after[name] - before[name]
        self.logins += logins
        return rate

    def per_login_ms(self, name: str) -> float:
        return self.spent[name] / max(self.logins, 1) * 1e3


async def login_round(login: Login, workers: list[Iterator[str]], per_worker: int) -> float:
    """Logins per second with the workers running at once, each logging in `per_worker` times
    in a row, as the next user of its own cycle each time."""

    async def worker(users: Iterator[str]) -> None:
        for _ in range(per_worker):
            await login(next(users))

    started = time.perf_counter()
    await asyncio.gather(*(worker(users) for users in workers))
    return len(workers) * per_worker / (time.perf_counter() - started)


def bench_settings() -> IdentitySettings:
    settings = identity_settings(telemetry=TelemetrySettings(exporter="none"))
    port = int(stack_values()["QLVB_IDENTITY_TEST_PORT"])
    return msgspec.structs.replace(
        settings,
        port=port,
        web=msgspec.structs.replace(settings.web, public_url="", client_id=WEB_TEST_CLIENT),
    )


def served_identity(settings: IdentitySettings) -> ServedApp:
    """The identity app as production runs it (uvicorn, its own process), with the web client
    registered for the test port."""
    return ServedApp(
        "identity",
        {
            **stack_env(),
            "QLVB_WEB_PUBLIC_URL": "",
            "QLVB_WEB_CLIENT_ID": WEB_TEST_CLIENT,
            "QLVB_TELEMETRY_EXPORTER": "none",
        },
        port=settings.port,
    )


async def run() -> Result:
    settings = bench_settings()
    password = stack_env().get("QLVB_BENCH_PASSWORD") or stack_values()["QLVB_DEMO_PASSWORD"]
    users = bench_usernames(WORKERS * USERS_PER_WORKER)
    ensure_bench_users(users, password)
    # Both kinds of login share the cycles, so a user's next login of either kind comes only
    # after the other users of its worker have had theirs.
    workers = [itertools.cycle(users[i::WORKERS]) for i in range(WORKERS)]
    app = served_identity(settings)
    origin = settings.web_origin
    login_url = f"{origin}/auth/login?next=/"
    steps: dict[str, list[float]] = {"app": [], "keycloak": []}

    await asyncio.to_thread(app.wait_ready)
    pids = {
        "keycloak": listener_pid(int(stack_values()["QLVB_KEYCLOAK_PORT"])),
        "app": app.process.pid,
    }
    meters = {"web": CpuMeter(pids), "grant": CpuMeter(pids)}
    async with httpx.AsyncClient(timeout=30.0) as client:

        async def web_login(username: str) -> None:
            browser = Browser(client)
            started = time.perf_counter()
            callback = await browser.to_callback(login_url, username, password)
            reached = time.perf_counter()
            landed = await browser.request("GET", callback)
            done = time.perf_counter()
            if landed.status_code != 302 or browser.cookie(SESSION_COOKIE) is None:
                raise BenchError(f"callback: HTTP {landed.status_code} {landed.text[:200]}")
            steps["keycloak"].append(reached - started)
            steps["app"].append(done - reached)

        async def password_grant(username: str) -> None:
            response = await client.post(
                settings.oidc.token_url,
                data={
                    "grant_type": "password",
                    "client_id": CLI_CLIENT_ID,
                    "username": username,
                    "password": password,
                },
            )
            if response.status_code != 200:
                raise BenchError(f"password grant: HTTP {response.status_code}")

        try:
            for _ in range(WARM_UP):
                await login_round(web_login, workers, 1)
                await login_round(password_grant, workers, 1)
            # The session the last login created really works.
            check, username = Browser(client), next(workers[0])
            await check.login(login_url, username, password)
            seen = await check.request("GET", f"{origin}/auth/session")
            if seen.status_code != 200 or seen.json()["person"]["username"] != username:
                raise BenchError(f"/auth/session: HTTP {seen.status_code} {seen.text[:200]}")
            for timings in steps.values():
                timings.clear()  # only the timed rounds' logins
            per_round = WORKERS * LOGINS_PER_WORKER
            samples = await interleave(
                {
                    "web": lambda: meters["web"].measure(
                        lambda: login_round(web_login, workers, LOGINS_PER_WORKER), per_round
                    ),
                    "grant": lambda: meters["grant"].measure(
                        lambda: login_round(password_grant, workers, LOGINS_PER_WORKER),
                        per_round,
                    ),
                },
                ROUNDS,
            )
        finally:
            app.stop()

    measured, baseline = median(samples["web"]), median(samples["grant"])
    detail(
        NAME,
        f"{WORKERS} logins in flight ({len(users)} users), {LOGINS_PER_WORKER} per worker per "
        f"round, {ROUNDS} alternating rounds: web login {measured:.1f}/s "
        f"({spread(samples['web'])}), password grant {baseline:.1f}/s "
        f"({spread(samples['grant'])}); paired ratio "
        f"{paired_ratio(samples['web'], samples['grant']):.3f}",
    )
    detail(
        NAME,
        f"one web login, median: {median(steps['keycloak']) * 1e3:.1f} ms to the callback "
        f"(app redirect, Keycloak form, form post), {median(steps['app']) * 1e3:.1f} ms in the "
        f"callback (code exchange, token checks, session in Redis)",
    )
    web, grant = meters["web"], meters["grant"]
    for kind, meter in meters.items():
        detail(
            NAME,
            f"CPU per {kind} login: Keycloak {meter.per_login_ms('keycloak'):.1f} ms, identity "
            f"app {meter.per_login_ms('app'):.1f} ms, client {meter.per_login_ms('client'):.1f} ms",
        )
    # What the ratio could be if the identity app cost nothing: the two Keycloak flows and
    # their clients alone, on the same cores.
    ceiling = (grant.per_login_ms("keycloak") + grant.per_login_ms("client")) / (
        web.per_login_ms("keycloak") + web.per_login_ms("client")
    )
    detail(NAME, f"ratio of CPU per login with the identity app at zero cost: {ceiling:.3f}")
    result = Result(NAME, measured, baseline, "logins/s", TARGET)
    report(result)
    return result


def main() -> None:
    uvloop.run(run())


if __name__ == "__main__":
    main()
