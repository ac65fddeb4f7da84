"""Registers and their yearly counters, the working-day calendar, the hash-chained audit log.

Revision ID: docs_0002
Revises: docs_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from services.common.migration_ops import enable_tenant_rls

revision = "docs_0002"
down_revision = "docs_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "register",
        sa.Column("tenant_id", sa.Uuid, primary_key=True),
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("confidential", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.CheckConstraint("direction IN ('incoming', 'outgoing')", name="direction"),
        sa.UniqueConstraint("tenant_id", "direction", "name"),
        schema="docs",
    )
    enable_tenant_rls("docs", "register")
    op.create_table(
        "register_counter",
        sa.Column("tenant_id", sa.Uuid, primary_key=True),
        sa.Column("register_id", sa.Uuid, primary_key=True),
        sa.Column("year", sa.SmallInteger, primary_key=True),
        sa.Column("last_number", sa.Integer, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "register_id"],
            ["docs.register.tenant_id", "docs.register.id"],
            name="fk_register_counter_register",
        ),
        sa.CheckConstraint("last_number > 0", name="positive"),
        schema="docs",
    )
    enable_tenant_rls("docs", "register_counter")
    op.create_table(
        "calendar_day",
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.CheckConstraint("kind IN ('holiday', 'workday')", name="kind"),
        schema="docs",
    )
    op.create_table(
        "audit_entry",
        sa.Column("tenant_id", sa.Uuid, primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("actor_name", sa.String(200), nullable=False),
        sa.Column("acting_for", sa.String(64), nullable=True),
        sa.Column("action", sa.String(60), nullable=False),
        sa.Column("entity", sa.String(40), nullable=False),
        sa.Column("entity_id", sa.Uuid, nullable=True),
        sa.Column("data", JSONB, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        schema="docs",
    )
    op.create_index(
        "ix_audit_entry_entity", "audit_entry", ["tenant_id", "entity_id"], schema="docs"
    )
    enable_tenant_rls("docs", "audit_entry")
    # Append-only for the service itself: it may add entries, never change or remove them.
    op.execute("REVOKE UPDATE, DELETE ON docs.audit_entry FROM qlvb_docs_app")
    op.create_table(
        "audit_head",
        sa.Column("tenant_id", sa.Uuid, primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        schema="docs",
    )
    enable_tenant_rls("docs", "audit_head")


def downgrade() -> None:
    op.drop_table("audit_head", schema="docs")
    op.drop_table("audit_entry", schema="docs")
    op.drop_table("calendar_day", schema="docs")
    op.drop_table("register_counter", schema="docs")
    op.drop_table("register", schema="docs")
