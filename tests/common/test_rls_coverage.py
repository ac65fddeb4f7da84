"""Every table that carries a tenant_id is under row-level security, forced, with a policy."""

from __future__ import annotations

import os

import asyncpg

from devstack.environment import SERVICES


async def test_every_tenant_table_has_forced_rls_and_a_policy() -> None:
    url = os.environ["QLVB_IDENTITY_MIGRATION_DATABASE_URL"].replace("+asyncpg", "")
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            """
            SELECT n.nspname AS schema, c.relname AS table, c.relrowsecurity AS enabled,
                   c.relforcerowsecurity AS forced,
                   (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) AS policies
            FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_attribute a
              ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
            WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY($1::text[])
            """,
            list(SERVICES),
        )
    finally:
        await conn.close()
    assert rows, "no tenant tables found: the migrations did not run"
    unprotected = [
        f"{r['schema']}.{r['table']}"
        for r in rows
        if not (r["enabled"] and r["forced"] and r["policies"] > 0)
    ]
    assert unprotected == []
