"""Stored objects and per-tenant usage.

Revision ID: storage_0002
Revises: storage_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from services.common.migration_ops import enable_tenant_rls

revision = "storage_0002"
down_revision = "storage_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "object",
        sa.Column("tenant_id", sa.Uuid, primary_key=True),
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(10), nullable=True),
        sa.Column("content_type", sa.String(120), nullable=True),
        sa.Column("size", sa.BigInteger, nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("bucket", sa.String(63), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("uploaded_by", sa.String(64), nullable=False),
        sa.Column("uploaded_by_name", sa.String(200), nullable=False, server_default=""),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("committed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lock_mode", sa.String(12), nullable=True),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("corrupt", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.CheckConstraint("state IN ('pending', 'committed', 'deleted')", name="state"),
        sa.CheckConstraint(
            "state = 'pending' OR (size IS NOT NULL AND sha256 IS NOT NULL AND kind IS NOT NULL)",
            name="committed_complete",
        ),
        schema="storage",
    )
    # The sweeper's and the purge job's scans.
    op.create_index(
        "ix_object_pending",
        "object",
        ["created_at"],
        schema="storage",
        postgresql_where=sa.text("state = 'pending'"),
    )
    op.create_index(
        "ix_object_deleted",
        "object",
        ["deleted_at"],
        schema="storage",
        postgresql_where=sa.text("state = 'deleted'"),
    )
    # The scrub verifies the least recently verified first.
    op.create_index(
        "ix_object_verified_at",
        "object",
        [sa.text("verified_at NULLS FIRST")],
        schema="storage",
        postgresql_where=sa.text("state = 'committed'"),
    )
    enable_tenant_rls("storage", "object")
    op.create_table(
        "tenant_usage",
        sa.Column("tenant_id", sa.Uuid, primary_key=True),
        sa.Column("bytes", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("objects", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("quota_bytes", sa.BigInteger, nullable=True),
        schema="storage",
    )
    enable_tenant_rls("storage", "tenant_usage")
    # The maintenance jobs (sweeper, purge, scrub, usage metrics) work across tenants and run
    # as the service's relay role, the one role that may read past row-level security.
    op.execute("GRANT SELECT, UPDATE, DELETE ON storage.object TO qlvb_storage_relay")
    op.execute("GRANT SELECT, UPDATE ON storage.tenant_usage TO qlvb_storage_relay")
    op.execute("GRANT INSERT ON storage.outbox TO qlvb_storage_relay")


def downgrade() -> None:
    op.drop_table("tenant_usage", schema="storage")
    op.drop_table("object", schema="storage")
