"""The receiving side of a revocation, update or replacement (edXML business 1-3): the requests
an incoming document's sender made, each answered by the clerk or a leader; incoming documents
can end revoked or replaced, and the assignments still open on them cancelled.

Revision ID: docs_0011
Revises: docs_0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from services.common.migration_ops import enable_tenant_rls

revision = "docs_0011"
down_revision = "docs_0010"
branch_labels = None
depends_on = None

S = "docs"

_DOCUMENT_STATES = ("waiting", "registered", "assigned", "processing", "completed", "returned")
_ASSIGNMENT_STATES = ("open", "completed", "returned", "reassigned")


def _state_check(table: str, states: tuple[str, ...]) -> None:
    # The constraints were created by name through the naming convention (ck_<table>_state);
    # they are replaced in one statement so no moment exists without one.
    listed = ", ".join(f"'{state}'" for state in states)
    op.execute(
        f"ALTER TABLE {S}.{table} DROP CONSTRAINT ck_{table}_state, "
        f"ADD CONSTRAINT ck_{table}_state CHECK (state IN ({listed}))"
    )


def upgrade() -> None:
    op.create_table(
        "incoming_change",
        sa.Column("tenant_id", sa.Uuid, primary_key=True),
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("business", sa.String(8), nullable=False),
        sa.Column("delivery_id", sa.Uuid, nullable=False),
        sa.Column("target_delivery_id", sa.Uuid, nullable=True),
        sa.Column("document_id", sa.Uuid, nullable=True),
        sa.Column("replacement_id", sa.Uuid, nullable=True),
        sa.Column("edxml_document_id", sa.String(100), nullable=True),
        sa.Column("sender_code", sa.String(35), nullable=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("fields", JSONB, nullable=True),
        sa.Column("files", JSONB, nullable=True),
        sa.Column("previous", JSONB, nullable=True),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("answer_reason", sa.Text, nullable=True),
        sa.Column("answered_by", sa.String(64), nullable=True),
        sa.Column("answered_name", sa.String(200), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.func.now(),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "document_id"],
            ["docs.document.tenant_id", "docs.document.id"],
            name="fk_incoming_change_document",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "replacement_id"],
            ["docs.document.tenant_id", "docs.document.id"],
            name="fk_incoming_change_replacement",
        ),
        sa.CheckConstraint("business IN ('revoke', 'update', 'replace')", name="business"),
        sa.CheckConstraint("state IN ('pending', 'accepted', 'refused')", name="state"),
        sa.CheckConstraint("(state = 'pending') = (answered_at IS NULL)", name="answered"),
        # A refusal always says why: the sender reads it in the status packet.
        sa.CheckConstraint(
            "state <> 'refused' OR answer_reason IS NOT NULL", name="refusal_reason"
        ),
        # Nothing to accept about a document that never arrived.
        sa.CheckConstraint("document_id IS NOT NULL OR state = 'refused'", name="known_document"),
        sa.CheckConstraint("(business = 'replace') = (replacement_id IS NOT NULL)", name="replace"),
        schema=S,
    )
    # The same request arriving again (a replayed event, a resent packet) is recorded once.
    op.create_index(
        "uq_incoming_change_delivery",
        "incoming_change",
        ["tenant_id", "delivery_id"],
        unique=True,
        schema=S,
    )
    op.create_index(
        "ix_incoming_change_document",
        "incoming_change",
        ["tenant_id", "document_id", "received_at"],
        schema=S,
    )
    op.create_index(
        "ix_incoming_change_replacement",
        "incoming_change",
        ["tenant_id", "replacement_id"],
        schema=S,
        postgresql_where=sa.text("replacement_id IS NOT NULL"),
    )
    enable_tenant_rls(S, "incoming_change")
    _state_check("document", (*_DOCUMENT_STATES, "revoked", "replaced"))
    # An assignment on a revoked or replaced document is closed as cancelled.
    _state_check("assignment", (*_ASSIGNMENT_STATES, "cancelled"))


def downgrade() -> None:
    # Documents revoked or replaced meanwhile (and their cancelled assignments) must be dealt
    # with by hand first: the older constraints cannot hold them.
    _state_check("assignment", _ASSIGNMENT_STATES)
    _state_check("document", _DOCUMENT_STATES)
    op.drop_table("incoming_change", schema=S)
