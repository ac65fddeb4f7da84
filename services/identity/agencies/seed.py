"""Loads a province's agencies and departments from a JSON file (the demo province of
`make run`), idempotently: existing rows are updated, nothing is deleted."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.dialects.postgresql import insert

from services.common.db import Database
from services.identity.agencies.codes import is_valid_code102
from services.identity.tables import agency, department


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
    return len(agencies)
