"""Fixtures over the real servers of the local stack (devstack/): tests run against the
`qlvb_test` database, migrated at session start; each test makes its own tenant."""

from __future__ import annotations

import os
import random
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping

import httpx
import pytest
from sqlalchemy.dialects.postgresql import insert

from devstack.environment import SERVICES, TEST_DATABASE, service_environment, stack_values

os.environ.update(service_environment(TEST_DATABASE))
os.environ["QLVB_ENVIRONMENT"] = "test"

from services.common.db import Database
from services.common.migrations import upgrade
from services.identity.tables import agency


def env(name: str) -> str:
    return os.environ[name]


@pytest.fixture(scope="session", autouse=True)
def migrated() -> None:
    for service in SERVICES:
        upgrade(service, env(f"QLVB_{service.upper()}_MIGRATION_DATABASE_URL"))


@pytest.fixture(scope="session")
def stack() -> dict[str, str]:
    return stack_values()


class Keycloak:
    """Real tokens from the real Keycloak of the local stack."""

    def __init__(self, values: dict[str, str]) -> None:
        self.base = f"http://localhost:{values['QLVB_KEYCLOAK_PORT']}"
        self.issuer = env("QLVB_OIDC_ISSUER")
        self.demo_password = values["QLVB_DEMO_PASSWORD"]
        self.client_secret = values["QLVB_CLIENT_SECRET"]

    def token(self, username: str, client_id: str = "qlvb-dev-cli") -> str:
        response = httpx.post(
            f"{self.issuer}/protocol/openid-connect/token",
            data={
                "grant_type": "password",
                "client_id": client_id,
                "username": username,
                "password": self.demo_password,
            },
            timeout=30,
        )
        response.raise_for_status()
        return str(response.json()["access_token"])

    def service_token(self, client_id: str) -> str:
        response = httpx.post(
            f"{self.issuer}/protocol/openid-connect/token",
            data={"grant_type": "client_credentials"},
            auth=(client_id, self.client_secret),
            timeout=30,
        )
        response.raise_for_status()
        return str(response.json()["access_token"])


class FreshTokens(Mapping[str, str]):
    """Access tokens of demo people, by username, renewed well before they expire (5 minutes):
    a session-wide fixture outlives any one token on a slow machine."""

    RENEW_AFTER_SECONDS = 120.0

    def __init__(self, keycloak: Keycloak, usernames: Iterable[str] = ()) -> None:
        self._keycloak = keycloak
        self._usernames = tuple(usernames)
        self._cache: dict[str, tuple[float, str]] = {}

    def __call__(self, username: str) -> str:
        fetched = self._cache.get(username)
        if fetched is None or time.monotonic() - fetched[0] > self.RENEW_AFTER_SECONDS:
            # One at a time: Keycloak refuses concurrent logins of one user.
            fetched = (time.monotonic(), self._keycloak.token(username))
            self._cache[username] = fetched
        return fetched[1]

    def __getitem__(self, username: str) -> str:
        return self(username)

    def __iter__(self) -> Iterator[str]:
        return iter(self._usernames)

    def __len__(self) -> int:
        return len(self._usernames)


@pytest.fixture(scope="session")
def keycloak(stack: dict[str, str]) -> Keycloak:
    return Keycloak(stack)


@pytest.fixture
async def identity_db() -> AsyncIterator[Database]:
    db = Database.from_url(env("QLVB_IDENTITY_DATABASE_URL"), pool_size=2)
    yield db
    await db.dispose()


def random_agency_code() -> str:
    """A well-formed, unused QCVN 102 code in a range no real province uses (Z99)."""
    r = random.SystemRandom()
    return f"{r.randrange(1000):03d}.{r.randrange(100):02d}.{r.randrange(100):02d}.Z99"


async def make_tenant(db: Database, name: str = "Cơ quan thử nghiệm") -> uuid.UUID:
    tenant = uuid.uuid4()
    async with db.transaction(None) as conn:
        await conn.execute(
            insert(agency)
            .values(
                id=tenant, code102=random_agency_code(), name=name, short_name="TN", level="test"
            )
            .on_conflict_do_nothing()
        )
    return tenant


@pytest.fixture
async def tenant(identity_db: Database) -> uuid.UUID:
    return await make_tenant(identity_db)


TenantFactory = Callable[[], Awaitable[uuid.UUID]]


@pytest.fixture
def new_tenant(identity_db: Database) -> TenantFactory:
    """Makes further tenants for tests that need more than one."""

    async def factory() -> uuid.UUID:
        return await make_tenant(identity_db)

    return factory
