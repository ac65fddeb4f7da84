"""Agency details and history (reorganisations), people, memberships, delegations and audit.

Revision ID: identity_0003
Revises: identity_0002
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from services.common.migration_ops import enable_tenant_rls

revision = "identity_0003"
down_revision = "identity_0002"
branch_labels = None
depends_on = None

S = "identity"
ROLES = "ARRAY['clerk','specialist','department_head','deputy_leader','leader','agency_admin']"
REORGANISATION_KINDS = "('merge','split','rename','move','dissolve')"


def _now() -> sa.Column[Any]:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    )


def _updated() -> sa.Column[Any]:
    return sa.Column(
        "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    )


MIRROR_FUNCTION = """
CREATE FUNCTION identity.agency_mirror_open_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO identity.agency_version
            (id, agency_id, valid_from, name, short_name, level, parent_id, status)
        VALUES (gen_random_uuid(), NEW.id, NEW.valid_from, NEW.name, NEW.short_name, NEW.level,
                NEW.parent_id, NEW.status);
    ELSE
        UPDATE identity.agency_version
        SET name = NEW.name, short_name = NEW.short_name, level = NEW.level,
            parent_id = NEW.parent_id, status = NEW.status
        WHERE agency_id = NEW.id AND valid_to IS NULL;
    END IF;
    RETURN NULL;
END
$$
"""


def _agency_columns() -> None:
    add = op.add_column
    add("agency", sa.Column("code_qd20", sa.String(35), nullable=True), schema=S)
    add("agency", sa.Column("address", sa.String(500), nullable=False, server_default=""), schema=S)
    add("agency", sa.Column("phone", sa.String(30), nullable=False, server_default=""), schema=S)
    add("agency", sa.Column("email", sa.String(254), nullable=False, server_default=""), schema=S)
    add("agency", sa.Column("website", sa.String(300), nullable=False, server_default=""), schema=S)
    add("agency", sa.Column("valid_from", sa.Date, nullable=True), schema=S)
    add("agency", sa.Column("valid_to", sa.Date, nullable=True), schema=S)
    add("agency", sa.Column("successor_id", sa.Uuid, nullable=True), schema=S)
    add("agency", _updated(), schema=S)
    op.create_foreign_key(
        "fk_agency_successor_id_agency",
        "agency",
        "agency",
        ["successor_id"],
        ["id"],
        source_schema=S,
        referent_schema=S,
    )
    op.create_unique_constraint("uq_agency_code_qd20", "agency", ["code_qd20"], schema=S)
    # PostgreSQL's \d follows the locale and may match non-ASCII digits: ASCII only (codes.py).
    op.drop_constraint("ck_agency_code102_format", "agency", schema=S, type_="check")
    op.create_check_constraint(
        "ck_agency_code102_format",
        "agency",
        r"code102 ~ '^[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-Z][0-9]{2}$'",
        schema=S,
    )
    op.create_check_constraint(
        "ck_agency_code_qd20_format",
        "agency",
        r"char_length(code_qd20) <= 35 AND code_qd20 ~ '^[A-K][0-9]{2}(\.[0-9A-Z]{1,4}){0,4}$'",
        schema=S,
    )
    op.create_check_constraint(
        "ck_agency_status", "agency", "status IN ('active', 'inactive')", schema=S
    )
    op.create_check_constraint(
        "ck_agency_valid_dates",
        "agency",
        "valid_from IS NULL OR valid_to IS NULL OR valid_to > valid_from",
        schema=S,
    )
    op.create_check_constraint(
        "ck_agency_not_own_successor", "agency", "successor_id <> id", schema=S
    )
    op.create_check_constraint("ck_agency_not_own_parent", "agency", "parent_id <> id", schema=S)
    op.create_index("ix_agency_parent_id", "agency", ["parent_id"], schema=S)


def _agency_history() -> None:
    op.create_table(
        "agency_change",
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
        sa.CheckConstraint(f"kind IN {REORGANISATION_KINDS}", name="ck_agency_change_kind"),
        sa.CheckConstraint("reference <> ''", name="ck_agency_change_reference"),
        schema=S,
    )
    op.create_table(
        "agency_succession",
        sa.Column("change_id", sa.Uuid, sa.ForeignKey(f"{S}.agency_change.id"), primary_key=True),
        sa.Column("predecessor_id", sa.Uuid, sa.ForeignKey(f"{S}.agency.id"), primary_key=True),
        sa.Column("successor_id", sa.Uuid, sa.ForeignKey(f"{S}.agency.id"), primary_key=True),
        sa.CheckConstraint("predecessor_id <> successor_id", name="ck_agency_succession_distinct"),
        schema=S,
    )
    op.create_index(
        "ix_agency_succession_successor_id", "agency_succession", ["successor_id"], schema=S
    )
    op.create_table(
        "agency_version",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("agency_id", sa.Uuid, sa.ForeignKey(f"{S}.agency.id"), nullable=False),
        sa.Column("valid_from", sa.Date, nullable=True),
        sa.Column("valid_to", sa.Date, nullable=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("short_name", sa.String(30), nullable=False),
        sa.Column("level", sa.String(30), nullable=False),
        sa.Column("parent_id", sa.Uuid, sa.ForeignKey(f"{S}.agency.id"), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("change_id", sa.Uuid, sa.ForeignKey(f"{S}.agency_change.id"), nullable=True),
        sa.Column(
            "recorded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.CheckConstraint(
            "valid_from IS NULL OR valid_to IS NULL OR valid_to > valid_from",
            name="ck_agency_version_valid_dates",
        ),
        sa.CheckConstraint("status IN ('active', 'inactive')", name="ck_agency_version_status"),
        schema=S,
    )
    op.create_index(
        "ix_agency_version_agency_id_valid_from",
        "agency_version",
        ["agency_id", "valid_from"],
        schema=S,
    )
    # At most one open version per agency: the one the registry row mirrors.
    op.create_index(
        "uq_agency_version_open",
        "agency_version",
        ["agency_id"],
        unique=True,
        schema=S,
        postgresql_where=sa.text("valid_to IS NULL"),
    )
    # The agencies already registered (the seeded province) start their history unbounded.
    op.execute(
        "INSERT INTO identity.agency_version "
        "(id, agency_id, valid_from, valid_to, name, short_name, level, parent_id, status) "
        "SELECT gen_random_uuid(), id, valid_from, valid_to, name, short_name, level, parent_id, "
        "status FROM identity.agency"
    )
    # The open version always mirrors the registry row, whoever writes the row (the API, the
    # seed, an import, a test fixture): a reorganisation closes the open version and opens a
    # new one before it updates the row, so the trigger then only confirms what it finds.
    op.execute(MIRROR_FUNCTION)
    op.execute(
        "CREATE TRIGGER agency_open_version "
        "AFTER INSERT OR UPDATE OF name, short_name, level, parent_id, status "
        "ON identity.agency FOR EACH ROW EXECUTE FUNCTION identity.agency_mirror_open_version()"
    )


def _departments() -> None:
    op.add_column(
        "department",
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        schema=S,
    )
    op.add_column("department", _updated(), schema=S)
    op.create_check_constraint(
        "ck_department_not_own_parent", "department", "parent_id <> id", schema=S
    )


def _people() -> None:
    op.create_table(
        "person",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("full_name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("phone", sa.String(30), nullable=False, server_default=""),
        sa.Column("title", sa.String(300), nullable=False, server_default=""),
        sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("keycloak_id", sa.Uuid, nullable=True),
        _now(),
        _updated(),
        sa.UniqueConstraint("username", name="uq_person_username"),
        sa.UniqueConstraint("email", name="uq_person_email"),
        sa.UniqueConstraint("keycloak_id", name="uq_person_keycloak_id"),
        # The same rules as the import files (imports/parsing.py): lower case, 3 to 64 chars.
        sa.CheckConstraint("username ~ '^[a-z0-9._-]{3,64}$'", name="ck_person_username"),
        sa.CheckConstraint("email = lower(email)", name="ck_person_email_lower"),
        sa.CheckConstraint("btrim(full_name) <> ''", name="ck_person_full_name"),
        schema=S,
    )
    op.create_table(
        "membership",
        sa.Column(
            "tenant_id",
            sa.Uuid,
            sa.ForeignKey(f"{S}.agency.id", name="fk_membership_tenant_id_agency"),
            primary_key=True,
        ),
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("person_id", sa.Uuid, sa.ForeignKey(f"{S}.person.id"), nullable=False),
        sa.Column("department_id", sa.Uuid, nullable=True),
        sa.Column("position", sa.String(300), nullable=False, server_default=""),
        sa.Column("roles", ARRAY(sa.String(30)), nullable=False, server_default="{}"),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("valid_from", sa.Date, nullable=True),
        sa.Column("valid_to", sa.Date, nullable=True),
        _now(),
        _updated(),
        sa.ForeignKeyConstraint(
            ["tenant_id", "department_id"],
            [f"{S}.department.tenant_id", f"{S}.department.id"],
            name="fk_membership_department",
        ),
        sa.CheckConstraint(f"roles <@ {ROLES}::varchar[]", name="ck_membership_roles"),
        sa.CheckConstraint(
            "valid_from IS NULL OR valid_to IS NULL OR valid_to > valid_from",
            name="ck_membership_valid_dates",
        ),
        schema=S,
    )
    # One active membership per person and agency; concurrent positions are in other agencies.
    op.create_index(
        "uq_membership_active_person",
        "membership",
        ["tenant_id", "person_id"],
        unique=True,
        schema=S,
        postgresql_where=sa.text("active"),
    )
    op.create_index("ix_membership_person_id", "membership", ["person_id"], schema=S)
    enable_tenant_rls(S, "membership")


def _delegations() -> None:
    op.create_table(
        "delegation",
        sa.Column(
            "tenant_id",
            sa.Uuid,
            sa.ForeignKey(f"{S}.agency.id", name="fk_delegation_tenant_id_agency"),
            primary_key=True,
        ),
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("delegator_id", sa.Uuid, sa.ForeignKey(f"{S}.person.id"), nullable=False),
        sa.Column("delegate_id", sa.Uuid, sa.ForeignKey(f"{S}.person.id"), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("scope", sa.Text, nullable=False, server_default=""),
        _now(),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("ends_at > starts_at", name="ck_delegation_period"),
        sa.CheckConstraint("delegator_id <> delegate_id", name="ck_delegation_not_to_self"),
        schema=S,
    )
    op.create_index(
        "ix_delegation_delegator", "delegation", ["tenant_id", "delegator_id"], schema=S
    )
    op.create_index("ix_delegation_delegate", "delegation", ["tenant_id", "delegate_id"], schema=S)
    enable_tenant_rls(S, "delegation")


def _audit() -> None:
    op.create_table(
        "audit_event",
        # No foreign key to agency: platform actions on people without any membership are
        # recorded under the nil tenant (see audit/service.py), and audit outlives everything.
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
        schema=S,
    )
    op.create_index("ix_audit_event_seq", "audit_event", ["tenant_id", "seq"], schema=S)
    op.create_index(
        "ix_audit_event_entity",
        "audit_event",
        ["tenant_id", "entity", "entity_id", "seq"],
        schema=S,
    )
    enable_tenant_rls(S, "audit_event")


def upgrade() -> None:
    _agency_columns()
    _agency_history()
    _departments()
    _people()
    _delegations()
    _audit()


def downgrade() -> None:
    op.drop_table("audit_event", schema=S)
    op.drop_table("delegation", schema=S)
    op.drop_table("membership", schema=S)
    op.drop_table("person", schema=S)
    op.drop_constraint("ck_department_not_own_parent", "department", schema=S, type_="check")
    op.drop_column("department", "updated_at", schema=S)
    op.drop_column("department", "active", schema=S)
    op.execute("DROP TRIGGER agency_open_version ON identity.agency")
    op.execute("DROP FUNCTION identity.agency_mirror_open_version()")
    op.drop_table("agency_version", schema=S)
    op.drop_table("agency_succession", schema=S)
    op.drop_table("agency_change", schema=S)
    op.drop_index("ix_agency_parent_id", "agency", schema=S)
    for name in (
        "ck_agency_not_own_parent",
        "ck_agency_not_own_successor",
        "ck_agency_valid_dates",
        "ck_agency_status",
        "ck_agency_code_qd20_format",
    ):
        op.drop_constraint(name, "agency", schema=S, type_="check")
    op.drop_constraint("uq_agency_code_qd20", "agency", schema=S, type_="unique")
    op.drop_constraint("fk_agency_successor_id_agency", "agency", schema=S, type_="foreignkey")
    for column in (
        "updated_at",
        "successor_id",
        "valid_to",
        "valid_from",
        "website",
        "email",
        "phone",
        "address",
        "code_qd20",
    ):
        op.drop_column("agency", column, schema=S)
    # The ASCII-only form of the code check stays: it is what 0002 meant.
