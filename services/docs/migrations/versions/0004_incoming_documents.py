"""Documents, their files and assignments; diacritics-insensitive search.

Revision ID: docs_0004
Revises: docs_0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from services.common.migration_ops import enable_tenant_rls

revision = "docs_0004"
down_revision = "docs_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # unaccent() is only STABLE (its dictionary could change); pinning the dictionary makes a
    # fold usable in indexes. lower() after unaccent: "Công Văn" and "cong van" fold alike.
    op.execute(
        "CREATE FUNCTION docs.fold(text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT "
        "AS $$ SELECT lower(public.unaccent('public.unaccent'::regdictionary, $1)) $$"
    )
    op.create_table(
        "document",
        sa.Column("tenant_id", sa.Uuid, primary_key=True),
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("source", sa.String(12), nullable=False),
        sa.Column("delivery_id", sa.Uuid, nullable=True),
        sa.Column("edxml_document_id", sa.String(100), nullable=True),
        sa.Column("register_id", sa.Uuid, nullable=True),
        sa.Column("arrival_year", sa.SmallInteger, nullable=True),
        sa.Column("arrival_number", sa.Integer, nullable=True),
        sa.Column("arrived_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("registered_by", sa.String(64), nullable=True),
        sa.Column("sender_code", sa.String(35), nullable=True),
        sa.Column("sender_name", sa.String(300), nullable=False),
        sa.Column("number_symbol", sa.String(100), nullable=False),
        sa.Column("doc_type", sa.String(10), nullable=False),
        sa.Column("issued_on", sa.Date, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("signer", sa.String(200), nullable=False, server_default=""),
        sa.Column("urgency", sa.String(16), nullable=False),
        sa.Column("confidentiality", sa.String(12), nullable=False),
        sa.Column("pages", sa.Integer, nullable=True),
        sa.Column("due_on", sa.Date, nullable=True),
        sa.Column("ocr_text", sa.Text, nullable=True),
        sa.Column("result", sa.Text, nullable=True),
        sa.Column("reply_document_id", sa.Uuid, nullable=True),
        sa.Column("return_reason", sa.Text, nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.CheckConstraint("direction IN ('incoming', 'outgoing')", name="direction"),
        sa.CheckConstraint(
            "state IN ('waiting', 'registered', 'assigned', 'processing', 'completed', 'returned')",
            name="state",
        ),
        sa.CheckConstraint(
            "(register_id IS NULL) = (arrival_number IS NULL) "
            "AND (arrival_number IS NULL) = (arrival_year IS NULL)",
            name="numbered",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "register_id"],
            ["docs.register.tenant_id", "docs.register.id"],
            name="fk_document_register",
        ),
        sa.UniqueConstraint(
            "tenant_id", "register_id", "arrival_year", "arrival_number", name="uq_document_arrival"
        ),
        schema="docs",
    )
    # The same delivery never lands twice in one agency.
    op.create_index(
        "uq_document_delivery",
        "document",
        ["tenant_id", "delivery_id"],
        unique=True,
        schema="docs",
        postgresql_where=sa.text("delivery_id IS NOT NULL"),
    )
    # Lists: newest first within a tenant and state.
    op.create_index(
        "ix_document_list",
        "document",
        ["tenant_id", "direction", "state", sa.text("arrived_at DESC"), sa.text("id DESC")],
        schema="docs",
    )
    op.create_index(
        "ix_document_received",
        "document",
        ["tenant_id", "direction", sa.text("arrived_at DESC"), sa.text("id DESC")],
        schema="docs",
    )
    op.create_index(
        "ix_document_duplicate",
        "document",
        ["tenant_id", "number_symbol", "sender_code", "issued_on"],
        schema="docs",
    )
    op.execute(
        "CREATE INDEX ix_document_subject_fold ON docs.document "
        "USING gin (docs.fold(subject) public.gin_trgm_ops)"
    )
    op.execute(
        "CREATE INDEX ix_document_ocr_fold ON docs.document "
        "USING gin (docs.fold(ocr_text) public.gin_trgm_ops) WHERE ocr_text IS NOT NULL"
    )
    enable_tenant_rls("docs", "document")
    op.create_table(
        "document_file",
        sa.Column("tenant_id", sa.Uuid, primary_key=True),
        sa.Column("document_id", sa.Uuid, primary_key=True),
        sa.Column("object_id", sa.Uuid, primary_key=True),
        sa.Column("role", sa.String(12), nullable=False),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "document_id"],
            ["docs.document.tenant_id", "docs.document.id"],
            name="fk_document_file_document",
        ),
        sa.CheckConstraint("role IN ('main', 'attachment', 'ocr')", name="role"),
        schema="docs",
    )
    enable_tenant_rls("docs", "document_file")
    op.create_table(
        "assignment",
        sa.Column("tenant_id", sa.Uuid, primary_key=True),
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("document_id", sa.Uuid, nullable=False),
        sa.Column("parent_id", sa.Uuid, nullable=True),
        sa.Column("role", sa.String(10), nullable=False),
        sa.Column("assignee", sa.String(64), nullable=False),
        sa.Column("assignee_name", sa.String(200), nullable=False),
        sa.Column("department", sa.String(200), nullable=False, server_default=""),
        sa.Column("deadline", sa.Date, nullable=True),
        sa.Column("direction", sa.Text, nullable=False, server_default=""),
        sa.Column("assigned_by", sa.String(64), nullable=False),
        sa.Column(
            "assigned_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("requested_deadline", sa.Date, nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "document_id"],
            ["docs.document.tenant_id", "docs.document.id"],
            name="fk_assignment_document",
        ),
        sa.CheckConstraint("role IN ('lead', 'cooperate', 'inform')", name="role"),
        sa.CheckConstraint(
            "state IN ('open', 'completed', 'returned', 'reassigned')", name="state"
        ),
        schema="docs",
    )
    # At most one open lead per document (chủ trì is one unit or person).
    op.create_index(
        "uq_assignment_one_lead",
        "assignment",
        ["tenant_id", "document_id"],
        unique=True,
        schema="docs",
        postgresql_where=sa.text("role = 'lead' AND state = 'open'"),
    )
    op.create_index(
        "ix_assignment_assignee", "assignment", ["tenant_id", "assignee", "state"], schema="docs"
    )
    op.create_index(
        "ix_assignment_document", "assignment", ["tenant_id", "document_id"], schema="docs"
    )
    enable_tenant_rls("docs", "assignment")


def downgrade() -> None:
    op.drop_table("assignment", schema="docs")
    op.drop_table("document_file", schema="docs")
    op.drop_table("document", schema="docs")
    op.execute("DROP FUNCTION docs.fold(text)")
