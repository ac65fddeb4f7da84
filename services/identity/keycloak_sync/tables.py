"""The tables of the Keycloak push: people's platform roles (what the realm role mirrors), the
state the push last left each account in, and the log of its runs. They join the service's one
MetaData (migration 0004)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from services.identity.tables import metadata

# A global role of a person (no agency); today only the platform operator.
person_platform_role = sa.Table(
    "person_platform_role",
    metadata,
    sa.Column("person_id", sa.Uuid, sa.ForeignKey("identity.person.id"), primary_key=True),
    sa.Column("role", sa.String(60), primary_key=True),
    sa.Column(
        "granted_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
)

# Each account as the push last left (or verified) it: a fingerprint of the state it sent, and
# the realm it sent it to. A person whose fingerprint still matches needs no request.
keycloak_account = sa.Table(
    "keycloak_account",
    metadata,
    sa.Column("person_id", sa.Uuid, sa.ForeignKey("identity.person.id"), primary_key=True),
    sa.Column("realm_id", sa.String(64), nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
)

# One reconciliation: what it found different (drift) and what it sent (counts).
keycloak_sync_run = sa.Table(
    "keycloak_sync_run",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("dry_run", sa.Boolean, nullable=False),
    sa.Column("deep", sa.Boolean, nullable=False),
    sa.Column("scope", JSONB, nullable=False),
    sa.Column("counts", JSONB, nullable=False),
    sa.Column("drift", JSONB, nullable=False),
    sa.Column("errors", JSONB, nullable=False),
)
