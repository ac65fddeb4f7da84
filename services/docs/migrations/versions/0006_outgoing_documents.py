"""Outgoing documents: drafts and their versions, review steps, recipients, number reservations.

Revision ID: docs_0006
Revises: docs_0005
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

from services.common.migration_ops import enable_tenant_rls

revision = "docs_0006"
down_revision = "docs_0005"
branch_labels = None
depends_on = None

S = "docs"


def _now() -> sa.Column[dt.datetime]:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    )


def upgrade() -> None:
    op.create_table(
        "outgoing",
        sa.Column("tenant_id", sa.Uuid, primary_key=True),
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("internal", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("business", sa.String(8), nullable=False, server_default="new"),
        sa.Column("target_id", sa.Uuid, nullable=True),
        sa.Column("doc_type", sa.String(10), nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("drafter", sa.String(64), nullable=False),
        sa.Column("drafter_name", sa.String(200), nullable=False),
        sa.Column("signer", sa.String(64), nullable=False),
        sa.Column("signer_name", sa.String(200), nullable=False),
        sa.Column("authority", sa.String(5), nullable=False, server_default=""),
        sa.Column("urgency", sa.String(16), nullable=False),
        sa.Column("confidentiality", sa.String(12), nullable=False),
        sa.Column("reply_due_on", sa.Date, nullable=True),
        sa.Column("answers_id", sa.Uuid, nullable=True),
        sa.Column("issuer_abbr", sa.String(20), nullable=False),
        sa.Column("unit_abbr", sa.String(20), nullable=False, server_default=""),
        sa.Column("legal", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("register_id", sa.Uuid, nullable=True),
        sa.Column("number_year", sa.SmallInteger, nullable=True),
        sa.Column("number", sa.Integer, nullable=True),
        sa.Column("number_symbol", sa.String(100), nullable=True),
        sa.Column("issued_on", sa.Date, nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("issued_by", sa.String(64), nullable=True),
        _now(),
        sa.CheckConstraint(
            "state IN ('draft', 'in_review', 'approved', 'issued', 'revoked')", name="state"
        ),
        sa.CheckConstraint("business IN ('new', 'revoke', 'update', 'replace')", name="business"),
        sa.CheckConstraint(
            "authority IN ('', 'TM.', 'KT.', 'TL.', 'Q.', 'TUQ.')", name="authority"
        ),
        sa.CheckConstraint(
            "(state IN ('issued', 'revoked')) = (number IS NOT NULL)", name="numbered_when_issued"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "register_id"],
            ["docs.register.tenant_id", "docs.register.id"],
            name="fk_outgoing_register",
        ),
        sa.UniqueConstraint(
            "tenant_id", "register_id", "number_year", "number", name="uq_outgoing_number"
        ),
        schema=S,
    )
    op.create_index(
        "ix_outgoing_list",
        "outgoing",
        ["tenant_id", "state", sa.text("created_at DESC")],
        schema=S,
    )
    enable_tenant_rls(S, "outgoing")
    op.create_table(
        "outgoing_version",
        sa.Column("tenant_id", sa.Uuid, primary_key=True),
        sa.Column("outgoing_id", sa.Uuid, primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("object_id", sa.Uuid, nullable=False),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("created_by", sa.String(64), nullable=False),
        _now(),
        sa.ForeignKeyConstraint(
            ["tenant_id", "outgoing_id"],
            ["docs.outgoing.tenant_id", "docs.outgoing.id"],
            name="fk_outgoing_version_outgoing",
        ),
        schema=S,
    )
    enable_tenant_rls(S, "outgoing_version")
    op.create_table(
        "outgoing_recipient",
        sa.Column("tenant_id", sa.Uuid, primary_key=True),
        sa.Column("outgoing_id", sa.Uuid, primary_key=True),
        sa.Column("code", sa.String(35), primary_key=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("electronic", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(12), nullable=False, server_default="pending"),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "outgoing_id"],
            ["docs.outgoing.tenant_id", "docs.outgoing.id"],
            name="fk_outgoing_recipient_outgoing",
        ),
        schema=S,
    )
    enable_tenant_rls(S, "outgoing_recipient")
    op.create_table(
        "outgoing_step",
        sa.Column("tenant_id", sa.Uuid, primary_key=True),
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("outgoing_id", sa.Uuid, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("assignee", sa.String(64), nullable=False),
        sa.Column("assignee_name", sa.String(200), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("comment", sa.Text, nullable=False, server_default=""),
        sa.Column("due_on", sa.Date, nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "outgoing_id"],
            ["docs.outgoing.tenant_id", "docs.outgoing.id"],
            name="fk_outgoing_step_outgoing",
        ),
        sa.CheckConstraint(
            "kind IN ('content_review', 'form_review', 'approval', 'opinion')", name="kind"
        ),
        sa.CheckConstraint(
            "state IN ('waiting', 'pending', 'approved', 'returned', 'cancelled', "
            "'agree', 'disagree', 'other')",
            name="state",
        ),
        schema=S,
    )
    op.create_index(
        "ix_outgoing_step_outgoing", "outgoing_step", ["tenant_id", "outgoing_id"], schema=S
    )
    enable_tenant_rls(S, "outgoing_step")
    op.create_table(
        "number_reservation",
        sa.Column("tenant_id", sa.Uuid, primary_key=True),
        sa.Column("register_id", sa.Uuid, primary_key=True),
        sa.Column("year", sa.SmallInteger, primary_key=True),
        sa.Column("number", sa.Integer, primary_key=True),
        sa.Column("reserved_by", sa.String(64), nullable=False),
        sa.Column(
            "reserved_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("outgoing_id", sa.Uuid, nullable=True),
        schema=S,
    )
    enable_tenant_rls(S, "number_reservation")


def downgrade() -> None:
    for table in (
        "number_reservation",
        "outgoing_step",
        "outgoing_recipient",
        "outgoing_version",
        "outgoing",
    ):
        op.drop_table(table, schema=S)
