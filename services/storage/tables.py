"""The storage service's schema: objects, per-tenant usage and the shared event tables."""

from __future__ import annotations

import sqlalchemy as sa

from services.common.db import service_metadata
from services.common.outbox import outbox_table, processed_event_table

SCHEMA = "storage"
metadata = service_metadata(SCHEMA)
outbox = outbox_table(metadata)
processed_event = processed_event_table(metadata)

# One row per stored file. `pending` rows exist before their bytes are written, so bytes never
# exist without a row; only `committed` rows are served.
stored_object = sa.Table(
    "object",
    metadata,
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
)

tenant_usage = sa.Table(
    "tenant_usage",
    metadata,
    sa.Column("tenant_id", sa.Uuid, primary_key=True),
    sa.Column("bytes", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("objects", sa.BigInteger, nullable=False, server_default="0"),
    # NULL: the platform default (setting `default_quota_bytes`).
    sa.Column("quota_bytes", sa.BigInteger, nullable=True),
)

# Keys of failed uploads whose bytes could not be removed at the time (the S3 server was
# unreachable); the sweeper removes them. Their object rows are already gone.
discarded_key = sa.Table(
    "discarded_key",
    metadata,
    sa.Column("tenant_id", sa.Uuid, primary_key=True),
    sa.Column("bucket", sa.String(63), primary_key=True),
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column(
        "recorded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
)
