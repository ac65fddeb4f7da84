"""The demo province seed: agencies, departments, people and memberships, idempotently."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from services.common.db import Database
from services.identity.agencies.seed import seed_province
from services.identity.tables import agency_version, membership, person
from tests.identity.conftest import DEMO, PROVINCE


async def test_seeding_twice_changes_nothing(identity_db: Database) -> None:
    async def state() -> tuple[object, ...]:
        async with identity_db.transaction(PROVINCE, read_only=True) as conn:
            leader = (
                await conn.execute(
                    select(person.c.id, person.c.full_name, membership.c.roles)
                    .join(membership, membership.c.person_id == person.c.id)
                    .where(person.c.username == "chutich", membership.c.active)
                )
            ).one()
            versions = (
                await conn.execute(
                    select(func.count())
                    .select_from(agency_version)
                    .where(agency_version.c.agency_id == PROVINCE)
                )
            ).scalar_one()
        return leader.id, leader.full_name, tuple(leader.roles), versions

    await seed_province(identity_db, DEMO)
    first = await state()
    await seed_province(identity_db, DEMO)
    assert await state() == first
    leader_id, full_name, roles, versions = first
    assert isinstance(leader_id, uuid.UUID)
    assert (full_name, roles, versions) == ("Đỗ Văn Quốc", ("leader",), 1)
