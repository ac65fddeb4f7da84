"""Alembic for every service, configured in code: one schema and one version table per service,
run as the schema's owner role."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

SERVICES_DIR = Path(__file__).resolve().parent.parent


def alembic_config(service: str, database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SERVICES_DIR / service / "migrations"))
    config.set_main_option("path_separator", "os")
    config.set_main_option(
        "version_locations", str(SERVICES_DIR / service / "migrations" / "versions")
    )
    config.attributes["database_url"] = database_url
    config.attributes["schema"] = service
    return config


def upgrade(service: str, database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(service, database_url), revision)


def downgrade(service: str, database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(service, database_url), revision)


def run_env(context: Any, metadata: MetaData) -> None:
    """The body of every service's migrations/env.py.

    `context` is `alembic.context`, a module that proxies the running EnvironmentContext."""
    config = context.config
    schema = str(config.attributes["schema"])
    url = str(config.attributes["database_url"])

    def configure_and_run(connection: Connection) -> None:
        # Several pods (or test runs) may start together: one migrates, the others wait and
        # then find nothing left to do. A session lock, released when the connection closes.
        connection.exec_driver_sql(f"SELECT pg_advisory_lock(hashtext('qlvb-migrate-{schema}'))")
        connection.commit()
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table="alembic_version",
            version_table_schema=schema,
            include_schemas=False,
            transaction_per_migration=True,
        )
        with context.begin_transaction():
            context.run_migrations()

    async def run() -> None:
        engine = create_async_engine(url, poolclass=pool.NullPool)
        async with engine.connect() as conn:
            await conn.run_sync(configure_and_run)
        await engine.dispose()

    asyncio.run(run())


def heads(service: str) -> list[str]:
    script = ScriptDirectory.from_config(alembic_config(service, ""))
    return list(script.get_heads())
