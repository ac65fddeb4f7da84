"""Signatures in the outgoing flow and changes after issue (ADR 0019): the signatures made on
each draft version, the signing credentials (server-held PKCS#12 or a certificate only), the
prepared signatures waiting for an external signer, per-agency trust anchors, and the
revocations and updates of issued documents with each recipient's answer.

Revision ID: docs_0009
Revises: docs_0008
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from services.common.migration_ops import enable_tenant_rls

revision = "docs_0009"
down_revision = "docs_0008"
branch_labels = None
depends_on = None

S = "docs"


def _at(name: str) -> sa.Column[dt.datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def _of_outgoing(table: str, column: str = "outgoing_id") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id", column],
        ["docs.outgoing.tenant_id", "docs.outgoing.id"],
        name=f"fk_{table}_outgoing",
    )


def upgrade() -> None:
    op.create_table(
        "outgoing_signature",
        sa.Column("tenant_id", sa.Uuid, primary_key=True),
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("outgoing_id", sa.Uuid, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("field_name", sa.String(40), nullable=False),
        sa.Column("signer", sa.String(64), nullable=False),
        sa.Column("signer_name", sa.String(200), nullable=False),
        sa.Column("acting_for", sa.String(64), nullable=True),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("certificate_subject", sa.Text, nullable=False),
        sa.Column("certificate_serial", sa.String(80), nullable=False),
        sa.Column("certificate_issuer", sa.Text, nullable=False),
        sa.Column("certificate_sha256", sa.String(64), nullable=False),
        sa.Column("level", sa.String(5), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("object_id", sa.Uuid, nullable=False),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("placement", JSONB, nullable=False),
        sa.Column("number_symbol", sa.String(100), nullable=True),
        sa.Column("dated", sa.Date, nullable=True),
        _at("created_at"),
        _of_outgoing("outgoing_signature"),
        sa.CheckConstraint("kind IN ('initials', 'leader', 'seal')", name="kind"),
        sa.CheckConstraint("method IN ('pkcs12', 'remote')", name="method"),
        sa.CheckConstraint(
            "(kind = 'seal') = (number_symbol IS NOT NULL AND dated IS NOT NULL)",
            name="seal_stamps_the_number",
        ),
        # A field of a version is signed once; so one leader's and one agency's signature.
        sa.UniqueConstraint(
            "tenant_id", "outgoing_id", "version", "field_name", name="uq_outgoing_signature_field"
        ),
        schema=S,
    )
    enable_tenant_rls(S, "outgoing_signature")

    op.create_table(
        "signing_credential",
        sa.Column("tenant_id", sa.Uuid, primary_key=True),
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("owner_kind", sa.String(8), nullable=False),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("position", sa.String(200), nullable=False, server_default=""),
        sa.Column("certificate", sa.LargeBinary, nullable=False),
        sa.Column("chain", sa.LargeBinary, nullable=False),
        sa.Column("certificate_sha256", sa.String(64), nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("serial", sa.String(80), nullable=False),
        sa.Column("issuer", sa.Text, nullable=False),
        sa.Column("not_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sealed_key", sa.LargeBinary, nullable=True),
        sa.Column("image_png", sa.LargeBinary, nullable=False),
        sa.Column("initials_png", sa.LargeBinary, nullable=True),
        sa.Column("failed_attempts", sa.SmallInteger, nullable=False, server_default="0"),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_by", sa.String(64), nullable=False),
        _at("created_at"),
        sa.CheckConstraint("owner_kind IN ('person', 'agency')", name="owner_kind"),
        sa.CheckConstraint("(owner_kind = 'agency') = (owner = '')", name="agency_has_no_owner"),
        sa.CheckConstraint(
            "(method = 'pkcs12') = (sealed_key IS NOT NULL)", name="server_key_when_pkcs12"
        ),
        schema=S,
    )
    # One credential in use per person, and one seal per agency.
    op.create_index(
        "uq_signing_credential_active",
        "signing_credential",
        ["tenant_id", "owner_kind", "owner"],
        unique=True,
        schema=S,
        postgresql_where=sa.text("active"),
    )
    enable_tenant_rls(S, "signing_credential")

    op.create_table(
        "signing_session",
        sa.Column("tenant_id", sa.Uuid, primary_key=True),
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("outgoing_id", sa.Uuid, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("signer", sa.String(64), nullable=False),
        sa.Column("signer_name", sa.String(200), nullable=False),
        sa.Column("acting_for", sa.String(64), nullable=True),
        sa.Column("credential_id", sa.Uuid, nullable=False),
        sa.Column("base_sha256", sa.String(64), nullable=False),
        sa.Column("prepared", sa.LargeBinary, nullable=False),
        sa.Column("placement", JSONB, nullable=False),
        sa.Column("number_symbol", sa.String(100), nullable=True),
        sa.Column("dated", sa.Date, nullable=True),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        _at("created_at"),
        _of_outgoing("signing_session"),
        sa.CheckConstraint("kind IN ('initials', 'leader', 'seal')", name="kind"),
        sa.CheckConstraint("state IN ('open', 'completed', 'superseded')", name="state"),
        schema=S,
    )
    op.create_index(
        "ix_signing_session_outgoing",
        "signing_session",
        ["tenant_id", "outgoing_id"],
        schema=S,
        postgresql_where=sa.text("state = 'open'"),
    )
    enable_tenant_rls(S, "signing_session")

    op.create_table(
        "signing_trust_anchor",
        sa.Column("tenant_id", sa.Uuid, primary_key=True),
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("certificate", sa.LargeBinary, nullable=False),
        sa.Column("added_by", sa.String(64), nullable=False),
        _at("added_at"),
        schema=S,
    )
    enable_tenant_rls(S, "signing_trust_anchor")

    op.create_table(
        "outgoing_change",
        sa.Column("tenant_id", sa.Uuid, primary_key=True),
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("outgoing_id", sa.Uuid, nullable=False),
        sa.Column("business", sa.String(8), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=True),
        sa.Column("reply_due_on", sa.Date, nullable=True),
        sa.Column("requested_by", sa.String(64), nullable=False),
        sa.Column("requested_name", sa.String(200), nullable=False),
        _at("requested_at"),
        _of_outgoing("outgoing_change"),
        sa.CheckConstraint("business IN ('revoke', 'update')", name="business"),
        schema=S,
    )
    # A document is revoked once.
    op.create_index(
        "uq_outgoing_change_revoke",
        "outgoing_change",
        ["tenant_id", "outgoing_id"],
        unique=True,
        schema=S,
        postgresql_where=sa.text("business = 'revoke'"),
    )
    enable_tenant_rls(S, "outgoing_change")

    op.create_table(
        "outgoing_change_recipient",
        sa.Column("tenant_id", sa.Uuid, primary_key=True),
        sa.Column("change_id", sa.Uuid, primary_key=True),
        sa.Column("code", sa.String(35), primary_key=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("status", sa.String(20), nullable=False, server_default="sending"),
        sa.Column("reason", sa.Text, nullable=True),
        _at("updated_at"),
        sa.ForeignKeyConstraint(
            ["tenant_id", "change_id"],
            ["docs.outgoing_change.tenant_id", "docs.outgoing_change.id"],
            name="fk_outgoing_change_recipient_change",
        ),
        schema=S,
    )
    enable_tenant_rls(S, "outgoing_change_recipient")


def downgrade() -> None:
    for table in (
        "outgoing_change_recipient",
        "outgoing_change",
        "signing_trust_anchor",
        "signing_session",
        "signing_credential",
        "outgoing_signature",
    ):
        op.drop_table(table, schema=S)
