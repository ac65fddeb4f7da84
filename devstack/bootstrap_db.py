"""Creates the databases and roles of the local stack (idempotent), as the PostgreSQL superuser.

Per service and database: a schema named after the service, owned by `qlvb_<service>_owner`
(runs Alembic); `qlvb_<service>_app` owns nothing and cannot bypass row-level security (the
services connect as it); `qlvb_<service>_relay` may bypass RLS but is granted only the outbox
table, because the relay publishes every tenant's events.  In Kubernetes the same statements run
from the migration hook Job (charts/qlvb)."""

from __future__ import annotations

import asyncio

import asyncpg

from devstack.environment import DATABASE, SERVICES, TEST_DATABASE, stack_values


async def ensure_role(conn: asyncpg.Connection, name: str, password: str, extra: str) -> None:
    exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", name)
    verb = "ALTER" if exists else "CREATE"
    # Role names are our own constants; the password is a dev secret from devstack/dev.env.
    await conn.execute(f"{verb} ROLE {name} LOGIN PASSWORD '{password}' {extra}")


async def ensure_database(conn: asyncpg.Connection, name: str, owner: str = "postgres") -> None:
    if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
        await conn.execute(
            f"CREATE DATABASE \"{name}\" OWNER {owner} ENCODING 'UTF8' TEMPLATE template0"
        )


async def bootstrap_service_schemas(server: str, database: str) -> None:
    conn = await asyncpg.connect(f"{server}/{database}")
    try:
        await conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        await conn.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for service in SERVICES:
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
    finally:
        await conn.close()


async def main() -> None:
    v = stack_values()
    superuser = f"postgres://postgres:{v['QLVB_PG_SUPERPASSWORD']}@127.0.0.1:{v['QLVB_PG_PORT']}"
    password = v["QLVB_PG_ROLE_PASSWORD"]
    conn = await asyncpg.connect(superuser + "/postgres")
    try:
        for service in SERVICES:
            await ensure_role(conn, f"qlvb_{service}_owner", password, "NOSUPERUSER NOBYPASSRLS")
            await ensure_role(
                conn,
                f"qlvb_{service}_app",
                password,
                "NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS",
            )
            await ensure_role(
                conn,
                f"qlvb_{service}_relay",
                password,
                "NOSUPERUSER NOCREATEDB NOCREATEROLE BYPASSRLS",
            )
        await ensure_role(conn, "keycloak", v["QLVB_KEYCLOAK_DB_PASSWORD"], "NOSUPERUSER")
        await ensure_database(conn, "keycloak", owner="keycloak")
        for database in (DATABASE, TEST_DATABASE):
            await ensure_database(conn, database)
    finally:
        await conn.close()
    for database in (DATABASE, TEST_DATABASE):
        await bootstrap_service_schemas(superuser, database)


if __name__ == "__main__":
    asyncio.run(main())
