"""Deadline reminders already sent, so that each is sent once.

Revision ID: docs_0005
Revises: docs_0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from services.common.migration_ops import enable_tenant_rls

revision = "docs_0005"
down_revision = "docs_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reminder",
        sa.Column("tenant_id", sa.Uuid, primary_key=True),
        sa.Column("assignment_id", sa.Uuid, primary_key=True),
        sa.Column("kind", sa.String(10), primary_key=True),
        sa.Column(
            "sent_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.CheckConstraint("kind IN ('due_soon', 'overdue', 'escalated')", name="kind"),
        schema="docs",
    )
    enable_tenant_rls("docs", "reminder")
    # The reminder job looks at every agency's open assignments: it runs as the relay role,
    # granted only this.
    op.execute("GRANT SELECT ON docs.assignment, docs.document TO qlvb_docs_relay")
    op.execute("GRANT SELECT, INSERT ON docs.reminder TO qlvb_docs_relay")
    op.execute("GRANT INSERT ON docs.outbox TO qlvb_docs_relay")
    op.execute("GRANT SELECT ON docs.calendar_day TO qlvb_docs_relay")


def downgrade() -> None:
    op.drop_table("reminder", schema="docs")
