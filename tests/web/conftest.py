"""The platform behind one host name, as a browser meets it: identity, storage, interchange and
docs served by uvicorn over real HTTP, the gateway in front routing by the chart's ingress paths,
the real Keycloak login page, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
import uvicorn
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from devstack.gateway import Gateway
from services.common.db import Database
from services.docs.app import create_app as create_docs
from services.docs.settings import load as load_docs
from services.docs.signatures.demo import seed_demo_signing
from services.docs.signatures.desk import credential_box
from services.identity.agencies.seed import seed_province
from services.identity.app import create_app as create_identity
from services.identity.settings import load as load_identity
from services.interchange.app import create_app as create_interchange
from services.interchange.settings import load as load_interchange
from services.storage.app import create_app as create_storage
from tests.storage.conftest import storage_settings

WEB_TEST_CLIENT = "qlvb-web-test"
PROVINCE = Path(__file__).resolve().parents[2] / "devstack" / "demo-province.json"
CHROMIUM = "/usr/bin/chromium"
# Screenshots of the main pages, kept as the run's artefacts (CI keeps the directory).
ARTEFACTS = Path(os.environ.get("QLVB_TEST_ARTEFACTS", "test-artefacts")) / "web"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 360, "height": 740}
# Bounded waits for a server thread to bind its fixed port (another test may still hold it).
PORT_ATTEMPTS = 120
PORT_PAUSE = 0.5


class ServerThread:
    """An ASGI app served by uvicorn on a fixed loopback port, in a thread of its own. The port
    is fixed (the realm names the callback), so another test run may hold it for a while:
    starting is tried again until it is free, a bounded number of times."""

    def __init__(self, make_app: Callable[[], Any], port: int, name: str) -> None:
        self.port = port
        for _ in range(PORT_ATTEMPTS):
            # A fresh app each attempt: a failed start has already run the app's shutdown.
            self.server = uvicorn.Server(
                uvicorn.Config(
                    make_app(), host="127.0.0.1", port=port, log_level="critical", lifespan="on"
                )
            )
            self.thread = threading.Thread(target=self.server.run, name=name, daemon=True)
            self.thread.start()
            while self.thread.is_alive() and not self.server.started:
                self.thread.join(0.05)
            if self.server.started:
                return
            time.sleep(PORT_PAUSE)
        raise RuntimeError(f"port {port} stayed busy for {name}")

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


@dataclass(frozen=True)
class Platform:
    origin: str
    password: str


@pytest.fixture(scope="session")
def seeded_province() -> dict[str, Any]:
    import asyncio

    data: dict[str, Any] = json.loads(PROVINCE.read_text(encoding="utf-8"))

    async def seed() -> None:
        db = Database.from_url(load_identity().database_url, pool_size=1)
        try:
            await seed_province(db, data)
        finally:
            await db.dispose()
        # The demo signing credentials, back in place of any another test enrolled.
        docs = load_docs()
        box = credential_box(docs)
        assert box is not None
        db = Database.from_url(docs.database_url, pool_size=1)
        try:
            await seed_demo_signing(db, data, box, restore=True)
        finally:
            await db.dispose()

    asyncio.run(seed())
    return data


@pytest.fixture(scope="module")
def platform(
    stack: dict[str, str], seeded_province: dict[str, Any], request: pytest.FixtureRequest
) -> Iterator[Platform]:
    """The platform behind its gateway, for one test module; a module may change the docs
    service's settings with a `DOCS_SETTINGS` dict of its own."""
    origin = f"http://127.0.0.1:{stack['QLVB_WEB_TEST_PORT']}"
    identity_port = int(stack["QLVB_IDENTITY_TEST_PORT"])
    storage_port = int(stack["QLVB_STORAGE_TEST_PORT"])
    docs_port = int(stack["QLVB_DOCS_TEST_PORT"])
    interchange_port = int(stack["QLVB_INTERCHANGE_TEST_PORT"])

    identity_base = load_identity()
    identity_settings = msgspec.structs.replace(
        identity_base,
        port=identity_port,
        web=msgspec.structs.replace(
            identity_base.web, public_url=origin, client_id=WEB_TEST_CLIENT
        ),
        log_level="WARNING",
    )
    docs_base = load_docs()
    identity_url = f"http://127.0.0.1:{identity_port}"
    storage_url = f"http://127.0.0.1:{storage_port}"
    interchange_url = f"http://127.0.0.1:{interchange_port}"
    interchange_settings = msgspec.structs.replace(
        load_interchange(),
        port=interchange_port,
        identity_url=identity_url,
        storage_url=storage_url,
        log_level="WARNING",
    )
    docs_settings = msgspec.structs.replace(
        docs_base,
        port=docs_port,
        identity_url=identity_url,
        storage_url=storage_url,
        interchange_url=interchange_url,
        web=msgspec.structs.replace(docs_base.web, public_url=origin, client_id=WEB_TEST_CLIENT),
        # Issued files go under object lock (compliance mode); two days is enough for tests.
        issued_retention_days=2,
        log_level="WARNING",
        **getattr(request.module, "DOCS_SETTINGS", {}),
    )
    servers = [
        ServerThread(lambda: create_identity(identity_settings), identity_port, "identity-web")
    ]
    servers.append(
        ServerThread(lambda: create_storage(storage_settings()), storage_port, "storage-web")
    )
    servers.append(
        ServerThread(
            lambda: create_interchange(interchange_settings), interchange_port, "interchange-web"
        )
    )
    servers.append(ServerThread(lambda: create_docs(docs_settings), docs_port, "docs-web"))
    upstreams = {
        "identity": identity_url,
        "storage": storage_url,
        "interchange": interchange_url,
        "docs": f"http://127.0.0.1:{docs_port}",
    }
    servers.append(
        ServerThread(lambda: Gateway(upstreams), int(stack["QLVB_WEB_TEST_PORT"]), "gateway-web")
    )
    try:
        yield Platform(origin, stack["QLVB_DEMO_PASSWORD"])
    finally:
        for server in reversed(servers):
            server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield chromium
        chromium.close()


class Person:
    """One official's browser: a context of its own (cookies), logged in through Keycloak."""

    def __init__(self, context: BrowserContext, platform: Platform, username: str) -> None:
        self.context = context
        self.platform = platform
        self.username = username
        self.page: Page = context.new_page()
        self._http: httpx.Client | None = None

    def go(self, path: str) -> Page:
        self.page.goto(self.platform.origin + path)
        return self.page

    def log_in(self) -> Page:
        page = self.go("/")
        # Keycloak's own login form, reached through /auth/login.
        page.wait_for_selector("#username")
        page.fill("#username", self.username)
        page.fill("#password", self.platform.password)
        page.click("#kc-login")
        page.wait_for_url(lambda url: url.startswith(self.platform.origin))
        page.wait_for_load_state("networkidle")
        return page

    @property
    def http(self) -> httpx.Client:
        """An HTTP client (no browser) carrying this person's session, for what a browser would
        hide: statuses, redirects, hand-made requests. Closed with the browser context."""
        if self._http is None:
            self._http = httpx.Client(
                base_url=self.platform.origin,
                timeout=30,
                follow_redirects=False,
                cookies=session_cookie(self),
            )
        return self._http

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
        self.context.close()

    def shot(self, name: str) -> None:
        """Desktop and phone screenshots of the current page."""
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
            self.page.set_viewport_size(size)
            self.page.screenshot(path=str(ARTEFACTS / f"{name}-{label}.png"), full_page=True)
        self.page.set_viewport_size(DESKTOP)


@pytest.fixture
def people(browser: Browser, platform: Platform) -> Iterator[Callable[[str], Person]]:
    opened: list[Person] = []

    def open_as(username: str) -> Person:
        context = browser.new_context(viewport=DESKTOP, locale="vi-VN")
        person = Person(context, platform, username)
        opened.append(person)
        person.log_in()
        return person

    yield open_as
    for person in opened:
        person.close()


@pytest.fixture
def gateway_http(platform: Platform) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=platform.origin, timeout=30, follow_redirects=False) as client:
        yield client


def session_cookie(person: Person) -> dict[str, str]:
    """The logged-in browser's session cookie, for requests made without the browser."""
    return {c["name"]: c["value"] for c in person.context.cookies() if c["name"] == "qlvb_session"}
