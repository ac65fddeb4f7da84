"""The identity service's schema: its one MetaData, the agency registry and the event tables."""

from __future__ import annotations

import sqlalchemy as sa

from services.common.db import service_metadata
from services.common.outbox import outbox_table, processed_event_table

SCHEMA = "identity"
metadata = service_metadata(SCHEMA)
outbox = outbox_table(metadata)
processed_event = processed_event_table(metadata)

# The registry of tenants. An agency *is* a tenant, so this table has no tenant_id and is
# readable by every agency (names and codes are public: they appear on every document).
agency = sa.Table(
    "agency",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("code102", sa.String(13), nullable=False, unique=True),
    sa.Column("name", sa.String(300), nullable=False),
    sa.Column("short_name", sa.String(30), nullable=False),
    sa.Column("level", sa.String(30), nullable=False),
    sa.Column("parent_id", sa.Uuid, sa.ForeignKey("identity.agency.id"), nullable=True),
    sa.Column("status", sa.String(20), nullable=False, server_default="active"),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
)

# Internal units of an agency; tenant rows under row-level security.
department = sa.Table(
    "department",
    metadata,
    sa.Column("tenant_id", sa.Uuid, primary_key=True),
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("name", sa.String(300), nullable=False),
    sa.Column("short_name", sa.String(30), nullable=False),
    sa.Column("parent_id", sa.Uuid, nullable=True),
)
