"""Creates the QLVB database, its schemas and the three roles of each service, idempotently.

The chart's db-bootstrap hook Job runs it as the PostgreSQL superuser, before the migrations,
with the QLVB image's Python. It issues the statements of devstack/bootstrap_db.py (the local
stack's version): per service a schema owned by `qlvb_<service>_owner` (Alembic), the role
`qlvb_<service>_app` that owns nothing and cannot bypass row-level security (the services), and
`qlvb_<service>_relay`, which may bypass it but is granted only the outbox by the migrations.

Role names and passwords are read from the services' own database URLs, so the Secret stays the
one place that holds them; re-running it after a password change in the Secret rotates it.

Environment: QLVB_POSTGRES_SUPERUSER_URL (any database; the script uses `postgres` and then the
services' database), QLVB_<SERVICE>_{,MIGRATION_,RELAY_}DATABASE_URL for each service to set
up, QLVB_BOOTSTRAP_CREATE_DATABASE (true|false)."""

from __future__ import annotations

import asyncio
import os
import re
import sys

import asyncpg
from sqlalchemy.engine import URL, make_url

SERVICES = ("identity", "storage", "docs", "interchange")
# role kind -> (the URL variable's infix, role attributes); as in devstack/bootstrap_db.py.
ROLES = {
    "owner": ("MIGRATION_", "NOSUPERUSER NOBYPASSRLS"),
    "app": ("", "NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS"),
    "relay": ("RELAY_", "NOSUPERUSER NOCREATEDB NOCREATEROLE BYPASSRLS"),
}
IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class BootstrapError(Exception):
    pass


def asyncpg_dsn(url: URL, database: str | None = None) -> str:
    if database is not None:
        url = url.set(database=database)
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def wanted_roles(env: dict[str, str]) -> tuple[str, list[tuple[str, str, str, str]]]:
    """(database, [(service, role, password, attributes)]) from the services' URLs."""
    databases: set[str] = set()
    roles: list[tuple[str, str, str, str]] = []
    for service in SERVICES:
        if f"QLVB_{service.upper()}_DATABASE_URL" not in env:
            continue
        for kind, (infix, attributes) in ROLES.items():
            variable = f"QLVB_{service.upper()}_{infix}DATABASE_URL"
            if variable not in env:
                raise BootstrapError(f"{variable} is missing")
            url = make_url(env[variable])
            expected = f"qlvb_{service}_{kind}"
            if url.username != expected:
                raise BootstrapError(f"{variable} must connect as {expected}, not {url.username}")
            if not url.password:
                raise BootstrapError(f"{variable} has no password")
            databases.add(url.database or "")
            roles.append((service, expected, str(url.password), attributes))
    if not roles:
        raise BootstrapError("no QLVB_<SERVICE>_DATABASE_URL is set: nothing to bootstrap")
    if len(databases) != 1:
        raise BootstrapError(f"the services must share one database, not {sorted(databases)}")
    database = databases.pop()
    if not IDENTIFIER.match(database):
        raise BootstrapError(f"database name {database!r} is not a plain lower-case identifier")
    return database, roles


async def ensure_role(conn: asyncpg.Connection, name: str, password: str, extra: str) -> None:
    exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", name)
    verb = "ALTER" if exists else "CREATE"
    # DDL takes no parameters: the server quotes the password; the name is checked above.
    literal = await conn.fetchval("SELECT quote_literal($1)", password)
    await conn.execute(f"{verb} ROLE {name} LOGIN PASSWORD {literal} {extra}")
    print(f"role {name}: {'updated' if exists else 'created'}", flush=True)


async def bootstrap_schemas(conn: asyncpg.Connection, database: str, services: list[str]) -> None:
    await conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    await conn.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for service in services:
        owner, app, relay = (f"qlvb_{service}_{kind}" for kind in ("owner", "app", "relay"))
        await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {service} AUTHORIZATION {owner}")
        await conn.execute(f"GRANT USAGE ON SCHEMA {service} TO {app}, {relay}")
        await conn.execute(
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {service} "
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {app}"
        )
        await conn.execute(
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {service} "
            f"GRANT USAGE, SELECT ON SEQUENCES TO {app}"
        )
        await conn.execute(
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {service} "
            f"GRANT EXECUTE ON FUNCTIONS TO {app}, {relay}"
        )
        for role in (owner, app, relay):
            await conn.execute(
                f"ALTER ROLE {role} IN DATABASE {database} SET search_path = {service}, public"
            )
        print(f"schema {service}: ready", flush=True)


async def main(env: dict[str, str]) -> None:
    superuser = make_url(env["QLVB_POSTGRES_SUPERUSER_URL"])
    database, roles = wanted_roles(env)
    # Roles and databases are the cluster's: work from the maintenance database, whatever the
    # URL names (CloudNativePG's superuser URL names none in particular).
    conn = await asyncpg.connect(asyncpg_dsn(superuser, "postgres"))
    try:
        for _, name, password, attributes in roles:
            await ensure_role(conn, name, password, attributes)
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
        if not exists:
            if env.get("QLVB_BOOTSTRAP_CREATE_DATABASE", "true").lower() != "true":
                raise BootstrapError(f"database {database} does not exist")
            await conn.execute(f"CREATE DATABASE \"{database}\" ENCODING 'UTF8' TEMPLATE template0")
            print(f"database {database}: created", flush=True)
    finally:
        await conn.close()
    conn = await asyncpg.connect(asyncpg_dsn(superuser, database))
    try:
        services = list(dict.fromkeys(service for service, *_ in roles))
        await bootstrap_schemas(conn, database, services)
    finally:
        await conn.close()


if __name__ == "__main__":
    try:
        asyncio.run(main(dict(os.environ)))
    except BootstrapError as exc:
        print(f"db-bootstrap: {exc}", file=sys.stderr)
        sys.exit(1)
