"""The docs service's schema: registers, the working-day calendar, the audit chain, events."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from services.common.db import service_metadata
from services.common.outbox import outbox_table, processed_event_table

SCHEMA = "docs"
metadata = service_metadata(SCHEMA)
outbox = outbox_table(metadata)
processed_event = processed_event_table(metadata)

# Sổ văn bản: an agency keeps incoming and outgoing registers, several if it wants (e.g. one for
# confidential documents, which NĐ 30 requires to be numbered separately).
register = sa.Table(
    "register",
    metadata,
    sa.Column("tenant_id", sa.Uuid, primary_key=True),
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("direction", sa.String(8), nullable=False),  # incoming | outgoing
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("confidential", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
)

# The last number given in a register's year; numbers restart at 1 on 1 January.
register_counter = sa.Table(
    "register_counter",
    metadata,
    sa.Column("tenant_id", sa.Uuid, primary_key=True),
    sa.Column("register_id", sa.Uuid, primary_key=True),
    sa.Column("year", sa.SmallInteger, primary_key=True),
    sa.Column("last_number", sa.Integer, nullable=False),
)

# Days off and make-up working days, platform-wide (an operator edits them each year).
calendar_day = sa.Table(
    "calendar_day",
    metadata,
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("kind", sa.String(8), nullable=False),  # holiday | workday
    sa.Column("name", sa.String(200), nullable=False),
)

# Append-only, hash-chained log of everything done to documents, per tenant.
audit_entry = sa.Table(
    "audit_entry",
    metadata,
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
)

# The end of each tenant's chain; its row lock orders appends.
audit_head = sa.Table(
    "audit_head",
    metadata,
    sa.Column("tenant_id", sa.Uuid, primary_key=True),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)
