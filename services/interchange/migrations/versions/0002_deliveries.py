"""Deliveries: connectors per agency, packets, the sending queue, the inbox, axis receipts,
dead letters. Every table is a tenant table under forced row-level security.

Revision ID: interchange_0002
Revises: interchange_0001
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from services.common.migration_ops import disable_tenant_rls, enable_tenant_rls

revision = "interchange_0002"
down_revision = "interchange_0001"
branch_labels = None
depends_on = None

SCHEMA = "interchange"
TABLES = (
    "connector",
    "packet",
    "sent_document",
    "outgoing",
    "inbox",
    "axis_receipt",
    "dead_letter",
)


def _ts(name: str, nullable: bool = True) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "connector",
        sa.Column("tenant_id", sa.Uuid, primary_key=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("endpoint", sa.String(500), nullable=False),
        sa.Column("system_id", sa.String(200), nullable=False),
        sa.Column("secret", sa.LargeBinary, nullable=False),
        sa.Column("agency_code", sa.String(13), nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("poll_seconds", sa.Integer, nullable=False),
        sa.Column("rate_per_minute", sa.Integer, nullable=False),
        sa.Column("timeout_seconds", sa.Float, nullable=False),
        _ts("created_at", False),
        _ts("updated_at", False),
        _ts("next_poll_at"),
        _ts("last_poll_at"),
        _ts("last_success_at"),
        _ts("last_error_at"),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
        _ts("retry_at"),
        sa.Column("axis_backlog", sa.Integer, nullable=False, server_default="0"),
        _ts("rate_window_start"),
        sa.Column("rate_window_count", sa.Integer, nullable=False, server_default="0"),
        sa.CheckConstraint("kind IN ('vdxp', 'lgsp')", name="kind"),
        sa.CheckConstraint(
            "poll_seconds > 0 AND rate_per_minute > 0 AND timeout_seconds > 0", name="positive"
        ),
        schema=SCHEMA,
    )
    op.create_table(
        "packet",
        sa.Column("tenant_id", sa.Uuid, primary_key=True),
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        _ts("created_at", False),
        schema=SCHEMA,
    )
    op.create_table(
        "sent_document",
        sa.Column("tenant_id", sa.Uuid, primary_key=True),
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("seq", sa.BigInteger, sa.Identity(always=True), nullable=False),
        sa.Column("outgoing_id", sa.Uuid, nullable=False),
        sa.Column("business", sa.String(8), nullable=False),
        sa.Column("request", JSONB, nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("edxml_document_id", sa.String(100), nullable=True),
        sa.Column("target_document_id", sa.String(100), nullable=True),
        sa.Column("packet_id", sa.Uuid, nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        _ts("next_attempt_at", False),
        sa.Column("last_error", sa.Text, nullable=True),
        _ts("created_at", False),
        _ts("built_at"),
        sa.CheckConstraint("business IN ('new', 'revoke', 'update', 'replace')", name="business"),
        sa.CheckConstraint("state IN ('pending', 'built', 'failed')", name="state"),
        sa.ForeignKeyConstraint(
            ["tenant_id", "packet_id"], [f"{SCHEMA}.packet.tenant_id", f"{SCHEMA}.packet.id"]
        ),
        schema=SCHEMA,
    )
    # document.issued is applied once per outgoing document, even if docs publishes it twice.
    op.create_index(
        "uq_sent_document_outgoing",
        "sent_document",
        ["tenant_id", "outgoing_id"],
        unique=True,
        schema=SCHEMA,
    )
    # A DocumentId names one document of its sender (QCVN 102, 1.14).
    op.create_index(
        "uq_sent_document_edxml_document_id",
        "sent_document",
        ["tenant_id", "edxml_document_id"],
        unique=True,
        schema=SCHEMA,
        postgresql_where=sa.text("business IN ('new', 'replace')"),
    )
    op.create_index(
        "ix_sent_document_pending",
        "sent_document",
        ["tenant_id", "seq"],
        schema=SCHEMA,
        postgresql_where=sa.text("state = 'pending'"),
    )
    op.create_index(
        "ix_sent_document_due",
        "sent_document",
        ["next_attempt_at"],
        schema=SCHEMA,
        postgresql_where=sa.text("state = 'pending'"),
    )
    op.create_table(
        "outgoing",
        sa.Column("tenant_id", sa.Uuid, primary_key=True),
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("seq", sa.BigInteger, sa.Identity(always=True), nullable=False),
        sa.Column("kind", sa.String(6), nullable=False),
        sa.Column("dedupe_key", sa.String(400), nullable=False),
        sa.Column("sent_document_id", sa.Uuid, nullable=True),
        sa.Column("inbox_id", sa.Uuid, nullable=True),
        sa.Column("packet_id", sa.Uuid, nullable=False),
        sa.Column("edxml_document_id", sa.String(100), nullable=False),
        sa.Column("business", sa.String(8), nullable=True),
        sa.Column("status_code", sa.String(2), nullable=True),
        sa.Column("sender_code", sa.String(13), nullable=False),
        sa.Column("recipient_code", sa.String(35), nullable=False),
        sa.Column("recipient_name", sa.String(300), nullable=False, server_default=""),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("route", sa.String(6), nullable=True),
        sa.Column("recipient_tenant_id", sa.Uuid, nullable=True),
        sa.Column("axis_doc_id", sa.String(100), nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        _ts("next_attempt_at", False),
        sa.Column("last_error", sa.Text, nullable=True),
        _ts("created_at", False),
        _ts("sent_at"),
        sa.Column("receipt_code", sa.String(2), nullable=True),
        sa.Column("receipt_description", sa.Text, nullable=True),
        _ts("receipt_at"),
        sa.Column("change_code", sa.String(2), nullable=True),
        sa.CheckConstraint("kind IN ('edoc', 'status')", name="kind"),
        sa.CheckConstraint("state IN ('pending', 'sent', 'failed')", name="state"),
        sa.CheckConstraint("route IS NULL OR route IN ('local', 'axis')", name="route"),
        sa.ForeignKeyConstraint(
            ["tenant_id", "packet_id"], [f"{SCHEMA}.packet.tenant_id", f"{SCHEMA}.packet.id"]
        ),
        schema=SCHEMA,
    )
    # At least once: a message is queued once, however often its cause is replayed.
    op.create_index(
        "uq_outgoing_dedupe_key",
        "outgoing",
        ["tenant_id", "dedupe_key"],
        unique=True,
        schema=SCHEMA,
    )
    # The head of each recipient's queue.
    op.create_index(
        "ix_outgoing_pending",
        "outgoing",
        ["tenant_id", "recipient_code", "seq"],
        schema=SCHEMA,
        postgresql_where=sa.text("state = 'pending'"),
    )
    op.create_index(
        "ix_outgoing_due",
        "outgoing",
        ["next_attempt_at"],
        schema=SCHEMA,
        postgresql_where=sa.text("state = 'pending'"),
    )
    # Status packets that come back name the document and the recipient.
    op.create_index(
        "ix_outgoing_document_recipient",
        "outgoing",
        ["tenant_id", "edxml_document_id", "recipient_code"],
        schema=SCHEMA,
    )
    op.create_index(
        "ix_outgoing_sent_document", "outgoing", ["tenant_id", "sent_document_id"], schema=SCHEMA
    )
    op.create_table(
        "inbox",
        sa.Column("tenant_id", sa.Uuid, primary_key=True),
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("seq", sa.BigInteger, sa.Identity(always=True), nullable=False),
        sa.Column("kind", sa.String(6), nullable=False),
        sa.Column("business", sa.String(8), nullable=True),
        sa.Column("dedupe_key", sa.String(400), nullable=False),
        sa.Column("source", sa.String(6), nullable=False),
        sa.Column("axis_doc_id", sa.String(100), nullable=True),
        sa.Column("edxml_document_id", sa.String(100), nullable=False),
        sa.Column("sender_code", sa.String(13), nullable=False),
        sa.Column("sender_name", sa.String(300), nullable=False),
        sa.Column("recipient_code", sa.String(13), nullable=False),
        sa.Column("recipient_name", sa.String(300), nullable=False),
        sa.Column("code_text", sa.String(100), nullable=True),
        sa.Column("promulgation_date", sa.Date, nullable=True),
        sa.Column("target_id", sa.Uuid, nullable=True),
        sa.Column("status_code", sa.String(2), nullable=True),
        sa.Column("state", sa.String(8), nullable=False),
        _ts("received_at", False),
        sa.CheckConstraint("kind IN ('edoc', 'status')", name="kind"),
        sa.CheckConstraint("source IN ('axis', 'local')", name="source"),
        schema=SCHEMA,
    )
    # Exactly-once effect: the edXML DocumentId (with the business type) is taken once.
    op.create_index(
        "uq_inbox_dedupe_key", "inbox", ["tenant_id", "dedupe_key"], unique=True, schema=SCHEMA
    )
    op.create_index(
        "ix_inbox_edxml_document_id", "inbox", ["tenant_id", "edxml_document_id"], schema=SCHEMA
    )
    op.create_table(
        "axis_receipt",
        sa.Column("tenant_id", sa.Uuid, primary_key=True),
        sa.Column("axis_doc_id", sa.String(100), primary_key=True),
        sa.Column("message_type", sa.String(6), nullable=False),
        sa.Column("outcome", sa.String(10), nullable=False),
        sa.Column("inbox_id", sa.Uuid, nullable=True),
        sa.Column("dead_letter_id", sa.Uuid, nullable=True),
        _ts("received_at", False),
        schema=SCHEMA,
    )
    op.create_table(
        "dead_letter",
        sa.Column("tenant_id", sa.Uuid, primary_key=True),
        sa.Column("id", sa.Uuid, primary_key=True),
        _ts("created_at", False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("reason", sa.String(60), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("path", sa.String(300), nullable=True),
        sa.Column("source", sa.String(6), nullable=True),
        sa.Column("message_type", sa.String(6), nullable=True),
        sa.Column("axis_doc_id", sa.String(100), nullable=True),
        sa.Column("edxml_document_id", sa.String(100), nullable=True),
        sa.Column("sender_code", sa.String(35), nullable=True),
        sa.Column("recipient_code", sa.String(35), nullable=True),
        sa.Column("outgoing_id", sa.Uuid, nullable=True),
        sa.Column("sent_document_id", sa.Uuid, nullable=True),
        sa.Column("packet_id", sa.Uuid, nullable=True),
        sa.Column("event", JSONB, nullable=True),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("replays", sa.Integer, nullable=False, server_default="0"),
        _ts("replayed_at"),
        sa.Column("replay_error", sa.Text, nullable=True),
        sa.CheckConstraint("direction IN ('incoming', 'outgoing', 'event')", name="direction"),
        sa.CheckConstraint("state IN ('open', 'replayed')", name="state"),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_dead_letter_created", "dead_letter", ["tenant_id", "created_at"], schema=SCHEMA
    )
    op.create_index(
        "ix_dead_letter_open",
        "dead_letter",
        ["created_at"],
        schema=SCHEMA,
        postgresql_where=sa.text("state = 'open'"),
    )
    for table in TABLES:
        enable_tenant_rls(SCHEMA, table)
    # The scheduler finds the agencies with work, and operators list connectors and dead
    # letters across agencies: reads past RLS, as the relay role, of these tables only.
    op.execute(
        "GRANT SELECT ON interchange.connector, interchange.outgoing, "
        "interchange.sent_document, interchange.dead_letter TO qlvb_interchange_relay"
    )


def downgrade() -> None:
    op.execute(
        "REVOKE SELECT ON interchange.connector, interchange.outgoing, "
        "interchange.sent_document, interchange.dead_letter FROM qlvb_interchange_relay"
    )
    for table in reversed(TABLES):
        disable_tenant_rls(SCHEMA, table)
    for table in ("dead_letter", "axis_receipt", "inbox", "outgoing", "sent_document"):
        op.drop_table(table, schema=SCHEMA)
    op.drop_table("packet", schema=SCHEMA)
    op.drop_table("connector", schema=SCHEMA)
