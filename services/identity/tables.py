"""The identity service's schema: its one MetaData, the agency registry and its history, the
people and their memberships, delegations, the audit trail and the event tables.

The migrations create these tables (nothing calls `create_all`); the definitions here are what
the code queries, and they must agree with the migrations."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from services.common.db import service_metadata
from services.common.outbox import outbox_table, processed_event_table

SCHEMA = "identity"
metadata = service_metadata(SCHEMA)
outbox = outbox_table(metadata)
processed_event = processed_event_table(metadata)


def _timestamps() -> list[sa.Column[Any]]:
    return [
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    ]


# The registry of tenants. An agency *is* a tenant, so this table has no tenant_id and is
# readable by every agency (names and codes are public: they appear on every document). A row
# holds the agency's latest recorded state; `agency_version` holds its history by date.
agency = sa.Table(
    "agency",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("code102", sa.String(13), nullable=False, unique=True),
    sa.Column("code_qd20", sa.String(35), nullable=True, unique=True),
    sa.Column("name", sa.String(300), nullable=False),
    sa.Column("short_name", sa.String(30), nullable=False),
    sa.Column("level", sa.String(30), nullable=False),
    sa.Column("parent_id", sa.Uuid, sa.ForeignKey("identity.agency.id"), nullable=True),
    sa.Column("status", sa.String(20), nullable=False, server_default="active"),
    sa.Column("address", sa.String(500), nullable=False, server_default=""),
    sa.Column("phone", sa.String(30), nullable=False, server_default=""),
    sa.Column("email", sa.String(254), nullable=False, server_default=""),
    sa.Column("website", sa.String(300), nullable=False, server_default=""),
    sa.Column("valid_from", sa.Date, nullable=True),
    sa.Column("valid_to", sa.Date, nullable=True),
    sa.Column("successor_id", sa.Uuid, sa.ForeignKey("identity.agency.id"), nullable=True),
    *_timestamps(),
)

# One reorganisation (merge, split, rename, move, dissolve) as decided, with its legal basis.
agency_change = sa.Table(
    "agency_change",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("effective_date", sa.Date, nullable=False),
    sa.Column("reference", sa.String(300), nullable=False),
    sa.Column("reason", sa.Text, nullable=False, server_default=""),
    sa.Column("predecessors", ARRAY(sa.Uuid), nullable=False),
    sa.Column("successors", ARRAY(sa.Uuid), nullable=False),
    sa.Column("recorded_by", sa.String(255), nullable=False),
    sa.Column(
        "recorded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
)

# Who took over from whom: the edges that the lineage (and document access after a merge)
# follows. Rename and move keep the agency itself and add no edge.
agency_succession = sa.Table(
    "agency_succession",
    metadata,
    sa.Column("change_id", sa.Uuid, sa.ForeignKey("identity.agency_change.id"), primary_key=True),
    sa.Column("predecessor_id", sa.Uuid, sa.ForeignKey("identity.agency.id"), primary_key=True),
    sa.Column("successor_id", sa.Uuid, sa.ForeignKey("identity.agency.id"), primary_key=True),
)

# The agency as it was over [valid_from, valid_to) (NULL: unbounded). Append-only apart from
# closing the open version and corrections of it.
agency_version = sa.Table(
    "agency_version",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("agency_id", sa.Uuid, sa.ForeignKey("identity.agency.id"), nullable=False),
    sa.Column("valid_from", sa.Date, nullable=True),
    sa.Column("valid_to", sa.Date, nullable=True),
    sa.Column("name", sa.String(300), nullable=False),
    sa.Column("short_name", sa.String(30), nullable=False),
    sa.Column("level", sa.String(30), nullable=False),
    sa.Column("parent_id", sa.Uuid, sa.ForeignKey("identity.agency.id"), nullable=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("change_id", sa.Uuid, sa.ForeignKey("identity.agency_change.id"), nullable=True),
    sa.Column(
        "recorded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
)

# Internal units of an agency; tenant rows under row-level security.
department = sa.Table(
    "department",
    metadata,
    sa.Column("tenant_id", sa.Uuid, primary_key=True),
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("name", sa.String(300), nullable=False),
    sa.Column("short_name", sa.String(30), nullable=False),
    sa.Column("parent_id", sa.Uuid, nullable=True),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column(
        "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
)

# A person is global (one account, however many agencies they work in); what they may do in
# an agency comes from their membership there, a tenant row.
person = sa.Table(
    "person",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("full_name", sa.String(200), nullable=False),
    sa.Column("email", sa.String(254), nullable=False, unique=True),
    sa.Column("phone", sa.String(30), nullable=False, server_default=""),
    sa.Column("title", sa.String(300), nullable=False, server_default=""),
    sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("keycloak_id", sa.Uuid, nullable=True, unique=True),
    *_timestamps(),
)

membership = sa.Table(
    "membership",
    metadata,
    sa.Column("tenant_id", sa.Uuid, primary_key=True),
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("person_id", sa.Uuid, sa.ForeignKey("identity.person.id"), nullable=False),
    sa.Column("department_id", sa.Uuid, nullable=True),
    sa.Column("position", sa.String(300), nullable=False, server_default=""),
    sa.Column("roles", ARRAY(sa.String(30)), nullable=False, server_default="{}"),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("valid_from", sa.Date, nullable=True),
    sa.Column("valid_to", sa.Date, nullable=True),
    *_timestamps(),
)

# Ủy quyền: the delegate may act for the delegator in this agency over [starts_at, ends_at).
delegation = sa.Table(
    "delegation",
    metadata,
    sa.Column("tenant_id", sa.Uuid, primary_key=True),
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("delegator_id", sa.Uuid, sa.ForeignKey("identity.person.id"), nullable=False),
    sa.Column("delegate_id", sa.Uuid, sa.ForeignKey("identity.person.id"), nullable=False),
    sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("scope", sa.Text, nullable=False, server_default=""),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
)

# Who changed what, when, acting for whom, with the entity before and after.
audit_event = sa.Table(
    "audit_event",
    metadata,
    sa.Column("tenant_id", sa.Uuid, primary_key=True),
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("seq", sa.BigInteger, sa.Identity(always=True), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("actor_subject", sa.String(255), nullable=False),
    sa.Column("actor_username", sa.String(255), nullable=False),
    sa.Column("actor_person_id", sa.Uuid, nullable=True),
    sa.Column("acting_for_person_id", sa.Uuid, nullable=True),
    sa.Column("acting_for_username", sa.String(255), nullable=True),
    sa.Column("action", sa.String(60), nullable=False),
    sa.Column("entity", sa.String(40), nullable=False),
    sa.Column("entity_id", sa.Uuid, nullable=False),
    sa.Column("before", JSONB, nullable=True),
    sa.Column("after", JSONB, nullable=True),
)
