"""The chart's database bootstrap hook, run for real against the local stack's PostgreSQL: on a
blank database it creates what devstack/bootstrap_db.py creates, twice without harm, and the
migration hooks then run on it as the owner roles."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from devstack.environment import stack_values
from services.common.migrations import upgrade
from tests.deploy.chart import SERVICES, of_kind, render

KINDS = {"owner": "MIGRATION_", "app": "", "relay": "RELAY_"}


def _script(tmp_path: Path) -> Path:
    """The script exactly as the chart ships it in the hook ConfigMap."""
    (config_map,) = (
        d
        for d in of_kind(render("dev"), "ConfigMap")
        if d["metadata"]["name"] == "qlvb-db-bootstrap"
    )
    script = tmp_path / "bootstrap_db.py"
    script.write_text(config_map["data"]["bootstrap_db.py"], encoding="utf-8")
    return script


def _server() -> tuple[str, str, str]:
    v = stack_values()
    return f"127.0.0.1:{v['QLVB_PG_PORT']}", v["QLVB_PG_SUPERPASSWORD"], v["QLVB_PG_ROLE_PASSWORD"]


def _environment(database: str) -> dict[str, str]:
    server, superpassword, password = _server()
    env = {
        "PATH": os.environ["PATH"],
        "QLVB_POSTGRES_SUPERUSER_URL": f"postgresql://postgres:{superpassword}@{server}/postgres",
        "QLVB_BOOTSTRAP_CREATE_DATABASE": "true",
    }
    for service in SERVICES:
        for kind, infix in KINDS.items():
            env[f"QLVB_{service.upper()}_{infix}DATABASE_URL"] = (
                f"postgresql+asyncpg://qlvb_{service}_{kind}:{password}@{server}/{database}"
            )
    return env


def _run(script: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=120
    )


async def _superuser(database: str) -> asyncpg.Connection:
    server, superpassword, _ = _server()
    return await asyncpg.connect(f"postgresql://postgres:{superpassword}@{server}/{database}")


@pytest.fixture
def blank_database() -> Iterator[str]:
    name = f"qlvb_chart_{uuid.uuid4().hex[:12]}"
    yield name

    async def drop() -> None:
        conn = await _superuser("postgres")
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    asyncio.run(drop())


def test_bootstrap_then_migrations_build_a_blank_database(
    blank_database: str, tmp_path: Path
) -> None:
    script = _script(tmp_path)
    env = _environment(blank_database)
    first = _run(script, env)
    assert first.returncode == 0, first.stderr
    assert f"database {blank_database}: created" in first.stdout
    # The hook runs before every upgrade: the second run creates nothing.
    second = _run(script, env)
    assert second.returncode == 0, second.stderr
    assert "created" not in second.stdout

    async def inspect() -> tuple[dict[str, str], dict[str, bool], bool]:
        conn = await _superuser(blank_database)
        try:
            owners = dict(
                await conn.fetch(
                    "SELECT nspname, pg_get_userbyid(nspowner) FROM pg_namespace"
                    " WHERE nspname = ANY($1::text[])",
                    list(SERVICES),
                )
            )
            bypass = dict(
                await conn.fetch(
                    "SELECT rolname, rolbypassrls FROM pg_roles WHERE rolname LIKE 'qlvb\\_%'"
                )
            )
            public_create = await conn.fetchval(
                "SELECT has_schema_privilege('public', 'public', 'CREATE')"
            )
        finally:
            await conn.close()
        return owners, bypass, public_create

    owners, bypass, public_create = asyncio.run(inspect())
    assert owners == {s: f"qlvb_{s}_owner" for s in SERVICES}
    for service in SERVICES:
        assert bypass[f"qlvb_{service}_relay"] is True
        assert bypass[f"qlvb_{service}_app"] is False
        assert bypass[f"qlvb_{service}_owner"] is False
    assert public_create is False

    # The migration hooks, in the chart's order, as the owner roles.
    for service in SERVICES:
        upgrade(service, env[f"QLVB_{service.upper()}_MIGRATION_DATABASE_URL"])

    async def app_can_read() -> int:
        server, _, password = _server()
        conn = await asyncpg.connect(
            f"postgresql://qlvb_identity_app:{password}@{server}/{blank_database}"
        )
        try:
            return int(await conn.fetchval("SELECT count(*) FROM agency"))
        finally:
            await conn.close()

    assert asyncio.run(app_can_read()) >= 0


def test_bootstrap_refuses_a_url_for_the_wrong_role(tmp_path: Path) -> None:
    env = _environment("qlvb_never_created")
    env["QLVB_DOCS_RELAY_DATABASE_URL"] = env["QLVB_DOCS_DATABASE_URL"]
    result = _run(_script(tmp_path), env)
    assert result.returncode == 1
    assert "QLVB_DOCS_RELAY_DATABASE_URL must connect as qlvb_docs_relay, not qlvb_docs_app" in (
        result.stderr
    )
