"""Recipient statuses from the interchange service include `change_accepted` (15 characters).

Revision ID: docs_0007
Revises: docs_0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "docs_0007"
down_revision = "docs_0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column(
        "outgoing_recipient", "status", type_=sa.String(20), existing_nullable=False, schema="docs"
    )


def downgrade() -> None:
    op.alter_column(
        "outgoing_recipient", "status", type_=sa.String(12), existing_nullable=False, schema="docs"
    )
