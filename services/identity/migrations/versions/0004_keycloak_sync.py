"""Platform roles of people, what the Keycloak push last made of each account, and the log of
its runs.

Revision ID: identity_0004
Revises: identity_0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "identity_0004"
down_revision = "identity_0003"
branch_labels = None
depends_on = None

S = "identity"


def upgrade() -> None:
    # Global roles (not tied to an agency); Keycloak's realm role of the same name mirrors them.
    op.create_table(
        "person_platform_role",
        sa.Column("person_id", sa.Uuid, sa.ForeignKey(f"{S}.person.id"), primary_key=True),
        sa.Column("role", sa.String(60), primary_key=True),
        sa.Column(
            "granted_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.CheckConstraint("role IN ('platform-operator')", name="ck_person_platform_role_role"),
        schema=S,
    )
    # The state of each account as the push last left it (or verified it): a fingerprint of
    # what it sent, and the realm it sent it to (a re-imported realm has a new id).
    op.create_table(
        "keycloak_account",
        sa.Column("person_id", sa.Uuid, sa.ForeignKey(f"{S}.person.id"), primary_key=True),
        sa.Column("realm_id", sa.String(64), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
        schema=S,
    )
    op.create_table(
        "keycloak_sync_run",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dry_run", sa.Boolean, nullable=False),
        sa.Column("deep", sa.Boolean, nullable=False),
        sa.Column("scope", JSONB, nullable=False),
        sa.Column("counts", JSONB, nullable=False),
        sa.Column("drift", JSONB, nullable=False),
        sa.Column("errors", JSONB, nullable=False),
        schema=S,
    )
    op.create_index(
        "ix_keycloak_sync_run_started_at", "keycloak_sync_run", ["started_at"], schema=S
    )


def downgrade() -> None:
    op.drop_index("ix_keycloak_sync_run_started_at", "keycloak_sync_run", schema=S)
    op.drop_table("keycloak_sync_run", schema=S)
    op.drop_table("keycloak_account", schema=S)
    op.drop_table("person_platform_role", schema=S)
