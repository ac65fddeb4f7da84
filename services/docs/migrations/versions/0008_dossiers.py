"""Dossiers (hồ sơ công việc): the yearly catalogue, the documents they hold, transfer reminders,
the disposal list; and people's saved searches.

Revision ID: docs_0008
Revises: docs_0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from services.common.migration_ops import enable_tenant_rls

revision = "docs_0008"
down_revision = "docs_0007"
branch_labels = None
depends_on = None

S = "docs"


def _dossier_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id", "dossier_id"],
        ["docs.dossier.tenant_id", "docs.dossier.id"],
        name=f"fk_{table}_dossier",
    )


def upgrade() -> None:
    op.create_table(
        "dossier",
        sa.Column("tenant_id", sa.Uuid, primary_key=True),
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("year", sa.SmallInteger, nullable=False),
        sa.Column("code", sa.String(20), nullable=False),
        sa.Column("heading", sa.String(200), nullable=False, server_default=""),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("retention_years", sa.SmallInteger, nullable=True),
        sa.Column("responsible", sa.String(64), nullable=False),
        sa.Column("responsible_name", sa.String(200), nullable=False),
        sa.Column("department", sa.String(200), nullable=False, server_default=""),
        sa.Column("language", sa.String(50), nullable=False),
        sa.Column("access", sa.String(12), nullable=False),
        sa.Column("description", sa.String(500), nullable=False, server_default=""),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("start_on", sa.Date, nullable=True),
        sa.Column("end_on", sa.Date, nullable=True),
        sa.Column("last_ordinal", sa.Integer, nullable=False, server_default="0"),
        sa.Column("transfer_due_on", sa.Date, nullable=True),
        sa.Column("retention_ends_on", sa.Date, nullable=True),
        sa.Column("receipt_number", sa.String(50), nullable=True),
        sa.Column("accepted_on", sa.Date, nullable=True),
        sa.Column("accepted_by", sa.String(64), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.CheckConstraint(
            "state IN ('planned', 'open', 'closed', 'archived', 'disposed')", name="state"
        ),
        sa.CheckConstraint("access IN ('public', 'conditional', 'confidential')", name="access"),
        # NULL is "vĩnh viễn" (permanent).
        sa.CheckConstraint(
            "retention_years IS NULL OR retention_years BETWEEN 1 AND 99", name="retention"
        ),
        sa.CheckConstraint("(state = 'planned') = (start_on IS NULL)", name="started"),
        sa.CheckConstraint("(state IN ('planned', 'open')) = (end_on IS NULL)", name="ended"),
        sa.CheckConstraint("end_on IS NULL OR end_on >= start_on", name="dates"),
        sa.CheckConstraint("state <> 'archived' OR receipt_number IS NOT NULL", name="receipt"),
        sa.CheckConstraint("last_ordinal >= 0", name="ordinal"),
        sa.UniqueConstraint("tenant_id", "year", "code", name="uq_dossier_code"),
        schema=S,
    )
    op.create_index(
        "ix_dossier_transfer_due",
        "dossier",
        ["transfer_due_on"],
        schema=S,
        postgresql_where=sa.text("state = 'closed' AND transfer_due_on IS NOT NULL"),
    )
    op.create_index(
        "ix_dossier_retention_ends",
        "dossier",
        ["tenant_id", "retention_ends_on"],
        schema=S,
        postgresql_where=sa.text("retention_ends_on IS NOT NULL"),
    )
    enable_tenant_rls(S, "dossier")
    # Dossiers are never deleted, disposed ones included (the disposal is a recorded decision).
    op.execute("REVOKE DELETE ON docs.dossier FROM qlvb_docs_app")

    op.create_table(
        "dossier_item",
        sa.Column("tenant_id", sa.Uuid, nullable=False),
        sa.Column("dossier_id", sa.Uuid, nullable=False),
        sa.Column("ordinal", sa.Integer, nullable=False),
        sa.Column("document_id", sa.Uuid, nullable=True),
        sa.Column("outgoing_id", sa.Uuid, nullable=True),
        sa.Column("added_by", sa.String(64), nullable=False),
        sa.Column(
            "added_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        # Deferrable to the end of each statement: removing an item shifts the ordinals after
        # it down by one in a single UPDATE, which collides row by row but not as a whole.
        sa.PrimaryKeyConstraint(
            "tenant_id",
            "dossier_id",
            "ordinal",
            name="pk_dossier_item",
            deferrable=True,
            initially="IMMEDIATE",
        ),
        sa.CheckConstraint("(document_id IS NULL) <> (outgoing_id IS NULL)", name="one_document"),
        sa.CheckConstraint("ordinal >= 1", name="ordinal"),
        _dossier_fk("dossier_item"),
        sa.ForeignKeyConstraint(
            ["tenant_id", "document_id"],
            ["docs.document.tenant_id", "docs.document.id"],
            name="fk_dossier_item_document",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "outgoing_id"],
            ["docs.outgoing.tenant_id", "docs.outgoing.id"],
            name="fk_dossier_item_outgoing",
        ),
        # A document is linked once per dossier, and may be linked from many dossiers.
        sa.UniqueConstraint(
            "tenant_id", "dossier_id", "document_id", name="uq_dossier_item_document"
        ),
        sa.UniqueConstraint(
            "tenant_id", "dossier_id", "outgoing_id", name="uq_dossier_item_outgoing"
        ),
        schema=S,
    )
    op.create_index(
        "ix_dossier_item_document",
        "dossier_item",
        ["tenant_id", "document_id"],
        schema=S,
        postgresql_where=sa.text("document_id IS NOT NULL"),
    )
    op.create_index(
        "ix_dossier_item_outgoing",
        "dossier_item",
        ["tenant_id", "outgoing_id"],
        schema=S,
        postgresql_where=sa.text("outgoing_id IS NOT NULL"),
    )
    enable_tenant_rls(S, "dossier_item")

    op.create_table(
        "dossier_reminder",
        sa.Column("tenant_id", sa.Uuid, primary_key=True),
        sa.Column("dossier_id", sa.Uuid, primary_key=True),
        sa.Column("due_on", sa.Date, primary_key=True),
        sa.Column(
            "sent_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        _dossier_fk("dossier_reminder"),
        schema=S,
    )
    enable_tenant_rls(S, "dossier_reminder")

    op.create_table(
        "dossier_disposal",
        sa.Column("tenant_id", sa.Uuid, primary_key=True),
        sa.Column("dossier_id", sa.Uuid, primary_key=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("listed_by", sa.String(64), nullable=False),
        sa.Column(
            "listed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("decision_number", sa.String(50), nullable=True),
        sa.Column("decided_on", sa.Date, nullable=True),
        sa.Column("decided_by", sa.String(64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.CheckConstraint(
            "(decision_number IS NULL) = (decided_at IS NULL) "
            "AND (decided_at IS NULL) = (decided_on IS NULL)",
            name="decided",
        ),
        _dossier_fk("dossier_disposal"),
        schema=S,
    )
    enable_tenant_rls(S, "dossier_disposal")
    op.execute("REVOKE DELETE ON docs.dossier_disposal FROM qlvb_docs_app")

    op.create_table(
        "saved_search",
        sa.Column("tenant_id", sa.Uuid, primary_key=True),
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("params", JSONB, nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.UniqueConstraint("tenant_id", "owner", "name", name="uq_saved_search_name"),
        schema=S,
    )
    enable_tenant_rls(S, "saved_search")

    # The daily transfer reminder looks at every agency's closed dossiers: it runs as the relay
    # role (like the deadline reminders of docs_0005), granted only this.
    op.execute("GRANT SELECT ON docs.dossier TO qlvb_docs_relay")
    op.execute("GRANT SELECT, INSERT ON docs.dossier_reminder TO qlvb_docs_relay")


def downgrade() -> None:
    op.drop_table("saved_search", schema=S)
    op.drop_table("dossier_disposal", schema=S)
    op.drop_table("dossier_reminder", schema=S)
    op.drop_table("dossier_item", schema=S)
    op.drop_table("dossier", schema=S)
