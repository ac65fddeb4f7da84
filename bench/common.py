"""What the benchmarks share: the local stack's settings, real tokens from Keycloak, an in-process
ASGI driver, interleaved timing rounds, the benchmark data and the one-line report."""

from __future__ import annotations

import gc
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import msgspec
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from devstack.environment import service_environment, stack_values
from services.common.db import Database
from services.common.settings import ServiceSettings, TelemetrySettings, load_settings
from services.identity.settings import IdentitySettings
from services.identity.tables import agency, department

# The password-grant client and the demo user of the local realm (see devstack/keycloak).
CLI_CLIENT_ID = "qlvb-dev-cli"
DEFAULT_USERNAME = "vanthu"
# Fixed, so that the benchmark rows keep their ids from run to run (seeding is idempotent).
BENCH_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://qlvb.local/bench")
BENCH_DEPARTMENTS = 50
READ_ROWS = 10
# The tenant-scoped read of the benchmarks: RLS, not a WHERE clause, picks the tenant's rows.
TENANT_READ = (
    select(department.c.id, department.c.name, department.c.short_name, department.c.parent_id)
    .order_by(department.c.short_name)
    .limit(READ_ROWS)
)


class BenchError(RuntimeError):
    """The benchmark could not measure what it claims to (an error response, missing data)."""


# --------------------------------------------------------------------------- environment


def stack_env() -> dict[str, str]:
    """The local stack's variables, overridden by anything exported in the shell, so a bench
    runs with or without `eval "$(devstack/stack.sh env)"`."""
    return {**service_environment(), **os.environ}


def identity_settings(*, telemetry: TelemetrySettings | None = None) -> IdentitySettings:
    settings = load_settings(IdentitySettings, "identity", stack_env())
    # Benches print their own figures; JSON log lines at INFO would only interleave with them.
    settings = msgspec.structs.replace(settings, log_level="WARNING")
    if telemetry is not None:
        settings = msgspec.structs.replace(settings, telemetry=telemetry)
    return settings


REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServedApp:
    """`qlvb serve <service>` in a child process, as production runs it (uvicorn, its own
    process), so that a bench measures the deployed shape rather than an app called in-process.
    `env` is the service's whole configuration on top of this process's environment."""

    def __init__(self, service: str, env: Mapping[str, str], port: int | None = None) -> None:
        self.port = port or free_port()
        child_env = {
            **os.environ,
            **env,
            f"QLVB_{service.upper()}_PORT": str(self.port),
            "QLVB_LOG_LEVEL": "WARNING",
        }
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / "qlvb"), "serve", service],
            cwd=REPO,
            env=child_env,
            stdout=subprocess.DEVNULL,
        )
        self.url = f"http://127.0.0.1:{self.port}"

    def wait_ready(self) -> None:
        for _ in range(600):
            if self.process.poll() is not None:
                raise BenchError("the service exited at start-up")
            try:
                if httpx.get(f"{self.url}/ready", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise BenchError("the service did not become ready")

    def rss(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise BenchError("no VmRSS")

    def stop(self) -> None:
        self.process.terminate()  # the child this bench started, by its own handle
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def plain_asyncpg_url(sqlalchemy_url: str) -> str:
    """`postgresql+asyncpg://...` as asyncpg itself spells it."""
    return sqlalchemy_url.replace("postgresql+asyncpg://", "postgresql://", 1)


# --------------------------------------------------------------------------- tokens


async def fetch_tokens(
    settings: ServiceSettings, count: int, *, http_timeout: float = 10.0
) -> list[str]:
    """`count` distinct access tokens of the demo user, by the password grant (one Keycloak
    session each), one request at a time: with brute-force protection on, Keycloak answers
    concurrent logins of one user with "Invalid user credentials" and counts them as failures,
    which could lock the demo user out."""
    username = os.environ.get("QLVB_BENCH_USERNAME", DEFAULT_USERNAME)
    password = os.environ.get("QLVB_BENCH_PASSWORD") or stack_values()["QLVB_DEMO_PASSWORD"]
    form = {
        "grant_type": "password",
        "client_id": CLI_CLIENT_ID,
        "username": username,
        "password": password,
    }
    tokens: list[str] = []
    async with httpx.AsyncClient(timeout=http_timeout) as client:
        for _ in range(count):
            response = await client.post(settings.oidc.token_url, data=form)
            if response.status_code != 200:
                raise BenchError(
                    f"token request: HTTP {response.status_code} {response.text[:200]}"
                )
            tokens.append(str(response.json()["access_token"]))
    if len(set(tokens)) != count:
        raise BenchError("Keycloak returned the same token twice; cold verification needs distinct")
    return tokens


# --------------------------------------------------------------------------- ASGI driver


class AsgiDriver:
    """Calls an ASGI app directly, the way a server would hand it one parsed request.

    No socket and no HTTP client sit between the loop and the app, so the figures are the app's
    own cost (middleware included) and an overhead is not diluted by client-side work that a
    production server would not do."""

    def __init__(self, app: Any, headers: Mapping[str, str]) -> None:
        self._app = app
        self._headers = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        self._headers.append((b"host", b"127.0.0.1:8000"))

    async def get(
        self, path: str, query: str = "", headers: Mapping[str, str] | None = None
    ) -> int:
        """One GET; the response status (the body is read and dropped)."""
        status, _ = await self.request("GET", path, query, headers)
        return status

    async def request(
        self,
        method: str,
        path: str,
        query: str = "",
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
    ) -> tuple[int, bytes]:
        """One request; the response status and body."""
        extra = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
        if body:
            extra.append((b"content-length", str(len(body)).encode()))
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            # A server builds a fresh header list for every request; so do we.
            "headers": [*self._headers, *extra],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
            "state": {},
        }
        received = False
        status = 0
        answer: list[bytes] = []

        async def receive() -> dict[str, Any]:
            nonlocal received
            if received:
                return {"type": "http.disconnect"}
            received = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: Mapping[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body":
                answer.append(bytes(message.get("body", b"")))

        await self._app(scope, receive, send)
        return status, b"".join(answer)


# --------------------------------------------------------------------------- timing

Operation = Callable[[], Awaitable[object]]
Round = Callable[[], Awaitable[float]]


async def rate(
    operation: Operation,
    *,
    max_ops: int,
    max_seconds: float,
    settle: Callable[[], object] | None = None,
) -> float:
    """Operations per second over one round: `max_ops` sequential calls, or fewer when
    `max_seconds` runs out first (so a slow machine shortens the round instead of the run).

    `settle`, when given, runs inside the timed window after the last call: work the round
    caused but left to a background thread (an exporter's queue) is charged to the round."""
    gc.collect()  # each round starts from the same heap, not from the previous round's garbage
    done = 0
    started = time.perf_counter()
    deadline = started + max_seconds
    while done < max_ops:
        await operation()
        done += 1
        if time.perf_counter() >= deadline:
            break
    if settle is not None:
        settle()
    return done / (time.perf_counter() - started)


async def warm_up(operation: Operation, count: int) -> None:
    """Fill caches (keys, prepared statements, pools, code paths) before anything is timed."""
    for _ in range(count):
        await operation()


def round_order(names: Sequence[str], index: int) -> list[str]:
    """Rotate the order each round and reverse it every other round (A B, B A, A B, ...), so
    each variant runs as often first as last and a drifting machine favours none."""
    shift = index % len(names)
    order = [*names[shift:], *names[:shift]]
    return order[::-1] if index % 2 else order


async def interleave(rounds: Mapping[str, Round], count: int) -> dict[str, list[float]]:
    """Run `count` rounds of every variant, alternating; the samples of each variant."""
    samples: dict[str, list[float]] = {name: [] for name in rounds}
    names = list(rounds)
    for index in range(count):
        for name in round_order(names, index):
            samples[name].append(await rounds[name]())
    return samples


async def compare(
    operations: Mapping[str, Operation], *, rounds: int, max_ops: int, max_seconds: float
) -> dict[str, list[float]]:
    """`interleave` over operations timed by `rate`: the per-round rates of each."""

    def round_of(operation: Operation) -> Round:
        return lambda: rate(operation, max_ops=max_ops, max_seconds=max_seconds)

    return await interleave({name: round_of(op) for name, op in operations.items()}, rounds)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def paired_ratio(measured: Sequence[float], baseline: Sequence[float]) -> float:
    """The median of round-by-round ratios: each pair ran back to back, so a machine that drifts
    over the run moves both sides of a pair alike (a check on the ratio of medians)."""
    return median([m / b for m, b in zip(measured, baseline, strict=True)])


def spread(values: Sequence[float]) -> str:
    """min..max of the rounds, as a percentage either side of the median (how noisy it was)."""
    mid = median(values)
    low, high = min(values), max(values)
    return f"-{(mid - low) / mid:.0%}/+{(high - mid) / mid:.0%}"


# --------------------------------------------------------------------------- report


@dataclass(frozen=True)
class Result:
    name: str
    measured: float
    baseline: float
    unit: str
    target: float

    @property
    def ratio(self) -> float:
        return self.measured / self.baseline

    @property
    def met(self) -> bool:
        return self.ratio >= self.target

    def line(self) -> str:
        return (
            f"bench/{self.name}: measured={self.measured:.1f} baseline={self.baseline:.1f} "
            f"ratio={self.ratio:.3f} target>={self.target:.2f} met={'yes' if self.met else 'no'} "
            f"unit={self.unit}"
        )


RESULT_PREFIX = "bench/"


def detail(name: str, text: str) -> None:
    """A context line; it never starts with `bench/`, which marks result lines only."""
    print(f"  [{name}] {text}", flush=True)


def report(result: Result) -> None:
    print(result.line(), flush=True)


# --------------------------------------------------------------------------- data


def department_rows(tenant_id: uuid.UUID, count: int = BENCH_DEPARTMENTS) -> list[dict[str, Any]]:
    """A small tree: five top-level units, the rest under them; deterministic ids."""

    def dept_id(i: int) -> uuid.UUID:
        return uuid.uuid5(BENCH_NAMESPACE, f"department/{tenant_id}/{i}")

    return [
        {
            "tenant_id": tenant_id,
            "id": dept_id(i),
            "name": f"Phòng thử tải {i:02d}",
            "short_name": f"BENCH{i:02d}",
            "parent_id": None if i < 5 else dept_id(i % 5),
        }
        for i in range(count)
    ]


async def first_agency(db: Database) -> uuid.UUID:
    """The first agency of the registry (a platform read: the registry has no RLS)."""
    async with db.transaction(None, read_only=True) as conn:
        found = (await conn.execute(select(agency.c.id).order_by(agency.c.code102))).first()
    if found is None:
        raise BenchError("identity.agency is empty: seed the demo agencies first")
    return uuid.UUID(str(found.id))


async def ensure_departments(db: Database, tenant_id: uuid.UUID) -> int:
    """Insert the benchmark departments of `tenant_id` unless present, through the kernel as the
    app role (so RLS checks them); how many rows the tenant then has."""
    statement = pg_insert(department).values(department_rows(tenant_id)).on_conflict_do_nothing()
    async with db.transaction(tenant_id) as conn:
        await conn.execute(statement)
    async with db.transaction(tenant_id, read_only=True) as conn:
        rows = (await conn.execute(select(department.c.id))).all()
    if len(rows) < READ_ROWS:
        raise BenchError(f"tenant {tenant_id} shows {len(rows)} departments, need {READ_ROWS}")
    return len(rows)
