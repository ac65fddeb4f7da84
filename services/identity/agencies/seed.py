"""Loads a province's agencies, departments and people (with their memberships) from a JSON
file (the demo province of `make run`), idempotently: existing rows are updated, nothing is
deleted. People are matched by username, memberships by person and agency."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.dialects.postgresql import insert

from services.common.db import Database
from services.identity.agencies.codes import is_valid_code102
from services.identity.keycloak_sync.tables import person_platform_role
from services.identity.tables import agency, department, membership, person


class SeedError(ValueError):
    pass


def _ordered(agencies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Parents before children, so foreign keys hold at every insert."""
    by_code = {a["code"]: a for a in agencies}
    done: list[dict[str, Any]] = []
    seen: set[str] = set()

    def visit(code: str, path: tuple[str, ...]) -> None:
        if code in seen:
            return
        if code in path:
            raise SeedError(f"cycle in the agency tree at {code}")
        parent = by_code[code].get("parent")
        if parent:
            if parent not in by_code:
                raise SeedError(f"agency {code}: unknown parent {parent}")
            visit(parent, (*path, code))
        seen.add(code)
        done.append(by_code[code])

    for code in by_code:
        visit(code, ())
    return done


async def seed_province(db: Database, data: dict[str, Any]) -> int:
    agencies = _ordered(data["agencies"])
    ids = {a["code"]: uuid.UUID(a["id"]) for a in agencies}
    for a in agencies:
        if not is_valid_code102(a["code"]):
            raise SeedError(f"invalid agency code {a['code']!r}")
    async with db.transaction(None) as conn:
        for a in agencies:
            values = {
                "id": ids[a["code"]],
                "code102": a["code"],
                "name": a["name"],
                "short_name": a["short_name"],
                "level": a["level"],
                "parent_id": ids[a["parent"]] if a.get("parent") else None,
            }
            stmt = insert(agency).values(values)
            await conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[agency.c.id],
                    set_={k: stmt.excluded[k] for k in values if k != "id"},
                )
            )
    for a in agencies:
        tenant = ids[a["code"]]
        async with db.transaction(tenant) as conn:
            for d in a.get("departments", []):
                values = {
                    "tenant_id": tenant,
                    "id": uuid.UUID(d["id"]),
                    "name": d["name"],
                    "short_name": d["short_name"],
                }
                stmt = insert(department).values(values)
                await conn.execute(
                    stmt.on_conflict_do_update(
                        index_elements=[department.c.tenant_id, department.c.id],
                        set_={"name": stmt.excluded.name, "short_name": stmt.excluded.short_name},
                    )
                )
    await seed_people(db, data.get("users", []), ids)
    return len(agencies)


def _full_name(user: dict[str, Any]) -> str:
    # Vietnamese order: family and middle names first ("Đỗ Văn" + "Quốc").
    return " ".join(p for p in (user.get("last_name", ""), user.get("first_name", "")) if p)


async def seed_people(
    db: Database, users: list[dict[str, Any]], agency_ids: dict[str, uuid.UUID]
) -> None:
    """The demo people: one person each, and an active membership per agency they work in."""
    person_ids: dict[str, uuid.UUID] = {}
    async with db.transaction(None) as conn:
        for user in users:
            values = {
                "id": uuid.uuid4(),
                "username": user["username"],
                "full_name": _full_name(user),
                # The same address as the demo Keycloak account (devstack/bootstrap_keycloak.py).
                "email": user.get("email") or f"{user['username']}@demo.qlvb.vn",
                "title": user.get("title", ""),
            }
            stmt = insert(person).values(values)
            person_ids[user["username"]] = (
                await conn.execute(
                    stmt.on_conflict_do_update(
                        index_elements=[person.c.username],
                        set_={k: stmt.excluded[k] for k in ("full_name", "email", "title")},
                    ).returning(person.c.id)
                )
            ).scalar_one()
        # Global roles (the platform operator), which the Keycloak push mirrors as realm roles.
        grants = [
            {"person_id": person_ids[user["username"]], "role": role}
            for user in users
            for role in user.get("platform_roles", [])
        ]
        if grants:
            await conn.execute(insert(person_platform_role).values(grants).on_conflict_do_nothing())
    by_agency: dict[uuid.UUID, list[tuple[uuid.UUID, dict[str, Any], str]]] = {}
    for user in users:
        for m in user.get("memberships", []):
            if m["agency_code"] not in agency_ids:
                raise SeedError(f"user {user['username']}: unknown agency {m['agency_code']}")
            by_agency.setdefault(agency_ids[m["agency_code"]], []).append(
                (person_ids[user["username"]], m, user.get("title", ""))
            )
    for tenant, members in by_agency.items():
        async with db.transaction(tenant) as conn:
            for person_id, m, title in members:
                stmt = insert(membership).values(
                    tenant_id=tenant,
                    id=uuid.uuid4(),
                    person_id=person_id,
                    position=m.get("position", title),
                    roles=sorted(set(m["roles"])),
                )
                await conn.execute(
                    stmt.on_conflict_do_update(
                        index_elements=[membership.c.tenant_id, membership.c.person_id],
                        index_where=membership.c.active,
                        set_={"roles": stmt.excluded.roles, "position": stmt.excluded.position},
                    )
                )
