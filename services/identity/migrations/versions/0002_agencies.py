"""Agency registry (tenants) and departments.

Revision ID: identity_0002
Revises: identity_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from services.common.migration_ops import enable_tenant_rls

revision = "identity_0002"
down_revision = "identity_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agency",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("code102", sa.String(13), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("short_name", sa.String(30), nullable=False),
        sa.Column("level", sa.String(30), nullable=False),
        sa.Column(
            "parent_id",
            sa.Uuid,
            sa.ForeignKey("identity.agency.id", name="fk_agency_parent_id_agency"),
            nullable=True,
        ),
        sa.Column("status", sa.String(20), nullable=False, server_default="active"),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.UniqueConstraint("code102", name="uq_agency_code102"),
        sa.CheckConstraint(
            r"code102 ~ '^\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}$'", name="ck_agency_code102_format"
        ),
        schema="identity",
    )
    op.create_table(
        "department",
        sa.Column(
            "tenant_id",
            sa.Uuid,
            sa.ForeignKey("identity.agency.id", name="fk_department_tenant_id_agency"),
            primary_key=True,
        ),
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("short_name", sa.String(30), nullable=False),
        sa.Column("parent_id", sa.Uuid, nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "parent_id"],
            ["identity.department.tenant_id", "identity.department.id"],
            name="fk_department_parent",
        ),
        schema="identity",
    )
    enable_tenant_rls("identity", "department")


def downgrade() -> None:
    op.drop_table("department", schema="identity")
    op.drop_table("agency", schema="identity")
