"""Packet signing and packet purge: the agency's packet-signing identity with its connector, the
signer of every packet received, and packet bytes that can be purged (the row stays).

Revision ID: interchange_0003
Revises: interchange_0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "interchange_0003"
down_revision = "interchange_0002"
branch_labels = None
depends_on = None

SCHEMA = "interchange"


def upgrade() -> None:
    # The signing key is Fernet-encrypted by the service (like the axis secret); the chain is
    # public. Both or neither.
    op.add_column(
        "connector", sa.Column("signing_key", sa.LargeBinary, nullable=True), schema=SCHEMA
    )
    op.add_column("connector", sa.Column("signing_chain", sa.Text, nullable=True), schema=SCHEMA)
    op.add_column(
        "connector",
        sa.Column("signing_set_at", sa.DateTime(timezone=True), nullable=True),
        schema=SCHEMA,
    )
    op.create_check_constraint(
        op.f("ck_connector_signing_pair"),
        "connector",
        "(signing_key IS NULL) = (signing_chain IS NULL)",
        schema=SCHEMA,
    )

    op.add_column("inbox", sa.Column("signer_subject", sa.Text, nullable=True), schema=SCHEMA)
    op.add_column(
        "inbox", sa.Column("signer_fingerprint", sa.String(64), nullable=True), schema=SCHEMA
    )

    op.alter_column("packet", "data", nullable=True, schema=SCHEMA)
    op.add_column(
        "packet",
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True),
        schema=SCHEMA,
    )
    op.create_check_constraint(
        op.f("ck_packet_purged"),
        "packet",
        "(data IS NULL) = (purged_at IS NOT NULL)",
        schema=SCHEMA,
    )
    # The purge's scan: packets still holding their bytes, oldest first.
    op.create_index(
        "ix_packet_unpurged",
        "packet",
        ["created_at"],
        schema=SCHEMA,
        postgresql_where=sa.text("purged_at IS NULL"),
    )
    # ... and asks, per packet, whether a message or a dead letter still needs it.
    op.create_index("ix_outgoing_packet", "outgoing", ["tenant_id", "packet_id"], schema=SCHEMA)
    op.create_index(
        "ix_dead_letter_packet",
        "dead_letter",
        ["tenant_id", "packet_id"],
        schema=SCHEMA,
        postgresql_where=sa.text("packet_id IS NOT NULL"),
    )
    # The purge job finds the agencies with old packets as the relay role (like the scheduler),
    # then purges each agency's under its own RLS. The relay reads no packet bytes.
    op.execute(
        "GRANT SELECT (tenant_id, id, created_at, purged_at) ON interchange.packet "
        "TO qlvb_interchange_relay"
    )


def downgrade() -> None:
    # Purged bytes cannot come back: while a purged packet exists, this fails and the
    # downgrade stops here (one transaction: nothing changed).
    op.alter_column("packet", "data", nullable=False, schema=SCHEMA)
    op.execute(
        "REVOKE SELECT (tenant_id, id, created_at, purged_at) ON interchange.packet "
        "FROM qlvb_interchange_relay"
    )
    op.drop_index("ix_dead_letter_packet", "dead_letter", schema=SCHEMA)
    op.drop_index("ix_outgoing_packet", "outgoing", schema=SCHEMA)
    op.drop_index("ix_packet_unpurged", "packet", schema=SCHEMA)
    op.drop_constraint(op.f("ck_packet_purged"), "packet", schema=SCHEMA, type_="check")
    op.drop_column("packet", "purged_at", schema=SCHEMA)
    op.drop_column("inbox", "signer_fingerprint", schema=SCHEMA)
    op.drop_column("inbox", "signer_subject", schema=SCHEMA)
    op.drop_constraint(op.f("ck_connector_signing_pair"), "connector", schema=SCHEMA, type_="check")
    op.drop_column("connector", "signing_set_at", schema=SCHEMA)
    op.drop_column("connector", "signing_chain", schema=SCHEMA)
    op.drop_column("connector", "signing_key", schema=SCHEMA)
