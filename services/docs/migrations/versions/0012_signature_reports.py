"""Signature validation reports stored with the document (issue 6, validation): one report per
file content, for the files of incoming documents and the signed files of our own outgoing ones.

Revision ID: docs_0012
Revises: docs_0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from services.common.migration_ops import enable_tenant_rls

revision = "docs_0012"
down_revision = "docs_0011"
branch_labels = None
depends_on = None

S = "docs"


def upgrade() -> None:
    op.create_table(
        "signature_report",
        sa.Column("tenant_id", sa.Uuid, primary_key=True),
        sa.Column("object_id", sa.Uuid, primary_key=True),
        # The report describes these bytes; an object never changes, the hash says so anyway.
        sa.Column("sha256", sa.String(64), primary_key=True),
        # The document the file was checked for: an incoming document or an outgoing one.
        sa.Column("document_id", sa.Uuid, nullable=True),
        sa.Column("outgoing_id", sa.Uuid, nullable=True),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column(
            "checked_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("checked_by", sa.String(64), nullable=False),
        sa.Column("verdict", sa.String(13), nullable=False),
        sa.Column("signatures", sa.SmallInteger, nullable=False),
        sa.Column("report", JSONB, nullable=False),
        sa.Column("summary_vi", sa.Text, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "document_id"],
            ["docs.document.tenant_id", "docs.document.id"],
            name="fk_signature_report_document",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "outgoing_id"],
            ["docs.outgoing.tenant_id", "docs.outgoing.id"],
            name="fk_signature_report_outgoing",
        ),
        sa.CheckConstraint("verdict IN ('valid', 'invalid', 'indeterminate')", name="verdict"),
        sa.CheckConstraint("(document_id IS NULL) <> (outgoing_id IS NULL)", name="one_document"),
        schema=S,
    )
    op.create_index(
        "ix_signature_report_document",
        "signature_report",
        ["tenant_id", "document_id"],
        schema=S,
        postgresql_where=sa.text("document_id IS NOT NULL"),
    )
    op.create_index(
        "ix_signature_report_outgoing",
        "signature_report",
        ["tenant_id", "outgoing_id"],
        schema=S,
        postgresql_where=sa.text("outgoing_id IS NOT NULL"),
    )
    enable_tenant_rls(S, "signature_report")
    # The sweep looks only at what was written in its window, across agencies: by time alone.
    op.create_index("ix_document_created_at", "document", ["created_at"], schema=S)
    op.create_index(
        "ix_outgoing_signature_created_at", "outgoing_signature", ["created_at"], schema=S
    )
    # The worker's sweep finds, across agencies, recent files nobody checked yet (a job lost
    # between the commit and the queue): it runs as the relay role, granted only what it reads.
    op.execute(
        "GRANT SELECT ON docs.document_file, docs.outgoing_signature, docs.signature_report "
        "TO qlvb_docs_relay"
    )


def downgrade() -> None:
    op.execute("REVOKE SELECT ON docs.document_file, docs.outgoing_signature FROM qlvb_docs_relay")
    op.drop_index("ix_outgoing_signature_created_at", "outgoing_signature", schema=S)
    op.drop_index("ix_document_created_at", "document", schema=S)
    op.drop_table("signature_report", schema=S)
