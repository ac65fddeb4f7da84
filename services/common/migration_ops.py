"""Schema operations that several services' migrations share, written out explicitly."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from services.common.rls import drop_tenant_rls_statements, tenant_rls_statements


def enable_tenant_rls(schema: str, table: str) -> None:
    for statement in tenant_rls_statements(schema, table):
        op.execute(statement)


def disable_tenant_rls(schema: str, table: str) -> None:
    for statement in drop_tenant_rls_statements(schema, table):
        op.execute(statement)


def create_event_tables(schema: str) -> None:
    """The outbox and the consumer's processed-event ledger of one service (see outbox.py)."""
    op.create_table(
        "outbox",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("tenant_id", sa.Uuid, nullable=False),
        sa.Column("topic", sa.String(100), nullable=False),
        sa.Column("payload", JSONB, nullable=False),
        sa.Column("headers", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column(
            "occurred_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        schema=schema,
    )
    # The relay scans only what is still to send.
    op.create_index(
        "ix_outbox_unpublished",
        "outbox",
        ["occurred_at", "id"],
        schema=schema,
        postgresql_where=sa.text("published_at IS NULL"),
    )
    op.create_index("ix_outbox_tenant_id", "outbox", ["tenant_id"], schema=schema)
    enable_tenant_rls(schema, "outbox")
    # The relay publishes every tenant's events: it alone may read past RLS, and only this table.
    op.execute(f"GRANT SELECT, UPDATE, DELETE ON {schema}.outbox TO qlvb_{schema}_relay")
    op.create_table(
        "processed_event",
        sa.Column("consumer", sa.String(100), primary_key=True),
        sa.Column("event_id", sa.Uuid, primary_key=True),
        sa.Column("tenant_id", sa.Uuid, nullable=False),
        sa.Column(
            "processed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        schema=schema,
    )
    enable_tenant_rls(schema, "processed_event")


def drop_event_tables(schema: str) -> None:
    op.drop_table("processed_event", schema=schema)
    op.drop_table("outbox", schema=schema)
