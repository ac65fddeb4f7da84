"""Seed the working-day calendar with the announced holidays (operators edit it afterwards).

Revision ID: docs_0003
Revises: docs_0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from services.docs.calendar.holidays import SEED

revision = "docs_0003"
down_revision = "docs_0002"
branch_labels = None
depends_on = None

calendar_day = sa.table(
    "calendar_day",
    sa.column("day", sa.Date),
    sa.column("kind", sa.String),
    sa.column("name", sa.String),
    schema="docs",
)


def upgrade() -> None:
    rows = [
        {"day": day, "kind": kind, "name": name}
        for entries in SEED.values()
        for day, kind, name in entries
    ]
    op.bulk_insert(calendar_day, rows)


def downgrade() -> None:
    days = [day for entries in SEED.values() for day, _, _ in entries]
    op.execute(calendar_day.delete().where(calendar_day.c.day.in_(days)))
