"""What every part of the delivery pipeline uses, built once per process and passed in: the
databases, the other services, the connectors' key box, the clock, and where follow-up jobs go.

The clock is injectable because every schedule (polls, backoff, give-up) compares against it,
never against the database's now(): tests and benchmarks move it forward an hour in an
instant."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

import httpx

from services.common.db import Database
from services.interchange.axis.lgsp import LgspTokens
from services.interchange.connectors.secrets import SecretBox
from services.interchange.connectors.signing import SignerCache
from services.interchange.platform.agencies import Agencies
from services.interchange.platform.storage import StorageClient
from services.interchange.settings import InterchangeSettings

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Jobs(Protocol):
    """Where per-agency work is asked for: saq in the service, a plain list in tests."""

    async def send(self, tenant_id: uuid.UUID) -> None: ...

    async def poll(self, tenant_id: uuid.UUID) -> None: ...


class NoJobs:
    """Nothing is kicked; the scheduler's tick finds the work anyway."""

    async def send(self, tenant_id: uuid.UUID) -> None:
        return None

    async def poll(self, tenant_id: uuid.UUID) -> None:
        return None


@dataclass
class Context:
    settings: InterchangeSettings
    db: Database  # the service role, under RLS
    agencies: Agencies
    storage: StorageClient
    secrets: SecretBox
    axis_http: httpx.AsyncClient  # shared by every connector's client (one pool)
    # The relay role: reads past RLS of the few tables the scheduler and operators list.
    platform_db: Database | None = None
    jobs: Jobs = field(default_factory=NoJobs)
    clock: Clock = utc_now
    rng: random.Random = field(default_factory=random.Random)
    # Loaded packet-signing keys, and bearer tokens of LGSP connections: both outlive the one
    # job run a connector's client lives for.
    signers: SignerCache = field(default_factory=SignerCache)
    lgsp_tokens: LgspTokens = field(default_factory=LgspTokens)

    def now(self) -> datetime:
        return self.clock()
