"""Keys of failed uploads whose bytes are still to be removed.

Revision ID: storage_0003
Revises: storage_0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from services.common.migration_ops import enable_tenant_rls

revision = "storage_0003"
down_revision = "storage_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "discarded_key",
        sa.Column("tenant_id", sa.Uuid, primary_key=True),
        sa.Column("bucket", sa.String(63), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column(
            "recorded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        schema="storage",
    )
    enable_tenant_rls("storage", "discarded_key")
    op.execute("GRANT SELECT, DELETE ON storage.discarded_key TO qlvb_storage_relay")


def downgrade() -> None:
    op.drop_table("discarded_key", schema="storage")
