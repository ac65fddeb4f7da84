"""Event tables: the transactional outbox and the processed-event ledger.

Revision ID: storage_0001
Revises:
"""

from __future__ import annotations

from services.common.migration_ops import create_event_tables, drop_event_tables

revision = "storage_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_event_tables("storage")


def downgrade() -> None:
    drop_event_tables("storage")
