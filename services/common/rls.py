"""Row-level security for tenant tables, written out explicitly in each migration.

`NULLIF(..., '')` matters: once a connection has run `SET LOCAL app.tenant_id`, the setting reads
as '' (not NULL) in later transactions of the same pooled connection, and `''::uuid` would raise
instead of showing no rows."""

from __future__ import annotations

CURRENT_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"


def tenant_rls_statements(schema: str, table: str, column: str = "tenant_id") -> list[str]:
    """DDL that confines `schema.table` to the transaction's tenant, for owner and app alike.

    The permissive policy grants a tenant its rows; the restrictive one is the ceiling that any
    future permissive policy (e.g. a successor agency reading its predecessors') cannot lift."""
    qualified = f"{schema}.{table}"
    check = f"{column} = {CURRENT_TENANT}"
    return [
        f"ALTER TABLE {qualified} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {qualified} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY tenant_rows ON {qualified} AS PERMISSIVE FOR ALL "
        f"USING ({check}) WITH CHECK ({check})",
        f"CREATE POLICY tenant_isolation ON {qualified} AS RESTRICTIVE FOR ALL "
        f"USING ({check}) WITH CHECK ({check})",
    ]


def drop_tenant_rls_statements(schema: str, table: str) -> list[str]:
    qualified = f"{schema}.{table}"
    return [
        f"DROP POLICY IF EXISTS tenant_isolation ON {qualified}",
        f"DROP POLICY IF EXISTS tenant_rows ON {qualified}",
        f"ALTER TABLE {qualified} NO FORCE ROW LEVEL SECURITY",
        f"ALTER TABLE {qualified} DISABLE ROW LEVEL SECURITY",
    ]
