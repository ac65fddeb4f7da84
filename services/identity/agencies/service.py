"""The agency registry: creating and correcting agencies, and reading the tree as it is or as it
was on a date, with each agency's history and lineage.

The registry is global (no row-level security); changes to it are made by platform operators,
and each is recorded in the audit trail of the agency it affects (see tenancy.py)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

import msgspec
from sqlalchemy import Row, func, insert, literal, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.problems import Conflict, InvalidInput, NotFound
from services.identity.agencies.codes import is_valid_code102, is_valid_code_qd20
from services.identity.agencies.schemas import (
    AgencyCreate,
    AgencyNode,
    AgencyTree,
    AgencyUpdate,
    AgencyVersionView,
    AgencyView,
    Lineage,
    NewAgency,
    Predecessor,
)
from services.identity.audit.service import Actor, record, snapshot
from services.identity.contacts import normalise_email, normalise_phone
from services.identity.tables import agency, agency_change, agency_succession, agency_version
from services.identity.tenancy import enter_tenant, today

ACTIVE = "active"
INACTIVE = "inactive"
# The lineage of a real province is a few steps deep; this only bounds a corrupted graph.
MAX_LINEAGE_DEPTH = 64


def view(row: Row[Any]) -> AgencyView:
    return AgencyView(
        id=row.id,
        code=row.code102,
        code_qd20=row.code_qd20,
        name=row.name,
        short_name=row.short_name,
        level=row.level,
        parent_id=row.parent_id,
        status=row.status,
        address=row.address,
        phone=row.phone,
        email=row.email,
        website=row.website,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        successor_id=row.successor_id,
    )


async def lock_tree(conn: AsyncConnection) -> None:
    """Changes of the tree's shape wait for each other: two concurrent moves could otherwise
    each pass the cycle check and together make a cycle."""
    await conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('identity.agency-tree'))"))


async def fetch(conn: AsyncConnection, agency_id: uuid.UUID, *, lock: bool = False) -> Row[Any]:
    query = select(agency).where(agency.c.id == agency_id)
    if lock:
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    if row is None:
        raise NotFound("Không tìm thấy cơ quan.", "No such agency.", agency_id=str(agency_id))
    return row


async def fetch_named(
    conn: AsyncConnection, agency_id: uuid.UUID, *, active: bool = True
) -> Row[Any]:
    """An agency named in a request body, locked: an unknown one is bad input (400), and so
    is an inactive one when `active` is asked for."""
    row = (
        await conn.execute(select(agency).where(agency.c.id == agency_id).with_for_update())
    ).first()
    if row is None:
        raise InvalidInput(
            f"Cơ quan {agency_id} không tồn tại.", f"Agency {agency_id} does not exist."
        )
    if active and row.status != ACTIVE:
        raise InvalidInput(
            f"Cơ quan «{row.name}» ({row.code102}) đã ngừng hoạt động.",
            f"The agency “{row.name}” ({row.code102}) is inactive.",
        )
    return row


def check_codes(code102: str, code_qd20: str | None) -> None:
    if not is_valid_code102(code102):
        raise InvalidInput(
            f"Mã định danh «{code102}» không đúng dạng AAA.BB.CC.XNN (QCVN 102:2016).",
            f"The agency code “{code102}” is not of the form AAA.BB.CC.XNN (QCVN 102:2016).",
        )
    if code_qd20 is not None and not is_valid_code_qd20(code_qd20):
        raise InvalidInput(
            f"Mã định danh «{code_qd20}» không đúng dạng QĐ 20/2020/QĐ-TTg.",
            f"The agency code “{code_qd20}” is not of the QĐ 20/2020/QĐ-TTg form.",
        )


async def ensure_codes_unused(
    conn: AsyncConnection, codes102: list[str], codes_qd20: list[str]
) -> None:
    """Codes are never reused: not by two new agencies, nor by one new agency and any agency
    ever recorded (the registry deletes nothing, so it holds every code ever given)."""
    for codes in (codes102, codes_qd20):
        repeated = sorted({c for c in codes if codes.count(c) > 1})
        if repeated:
            raise Conflict(
                f"Mã định danh bị trùng trong yêu cầu: {', '.join(repeated)}.",
                f"Agency codes repeated in the request: {', '.join(repeated)}.",
            )
    used = (
        await conn.execute(
            select(agency.c.code102, agency.c.code_qd20).where(
                or_(agency.c.code102.in_(codes102), agency.c.code_qd20.in_(codes_qd20))
            )
        )
    ).all()
    if used:
        taken = sorted(
            {r.code102 for r in used if r.code102 in codes102}
            | {r.code_qd20 for r in used if r.code_qd20 in codes_qd20}
        )
        raise Conflict(
            f"Mã định danh đã được dùng (mã không bao giờ được dùng lại): {', '.join(taken)}.",
            f"Agency codes already used (codes are never reused): {', '.join(taken)}.",
            codes=taken,
        )


async def descendants(conn: AsyncConnection, roots: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    """Every agency below `roots` in the current tree (not the roots themselves)."""
    ids = list(roots)
    below = select(agency.c.id).where(agency.c.parent_id.in_(ids)).cte("below", recursive=True)
    below = below.union(select(agency.c.id).join(below, agency.c.parent_id == below.c.id))
    return set((await conn.execute(select(below.c.id))).scalars())


async def require_parent(
    conn: AsyncConnection, parent_id: uuid.UUID, *, forbidden: set[uuid.UUID]
) -> Row[Any]:
    """A parent named in a request: it exists, is active, and is not in `forbidden` (the agency
    being moved and what lies below it, which would close a cycle)."""
    if parent_id in forbidden:
        raise InvalidInput(
            "Không thể đặt cơ quan dưới chính nó hoặc một cơ quan cấp dưới của nó (vòng lặp).",
            "An agency cannot be placed under itself or one of its subordinates (a cycle).",
        )
    return await fetch_named(conn, parent_id)


async def audit_agency(
    conn: AsyncConnection,
    actor: Actor,
    action: str,
    agency_id: uuid.UUID,
    *,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    """A change to the global tree, recorded in the trail of the agency it affects."""
    await enter_tenant(conn, agency_id)
    await record(conn, agency_id, actor, action, "agency", agency_id, before=before, after=after)


async def insert_agency(
    conn: AsyncConnection,
    agency_id: uuid.UUID,
    data: AgencyCreate | NewAgency,
    *,
    parent_id: uuid.UUID | None,
    valid_from: dt.date | None,
) -> Row[Any]:
    """The row; its first version is written by the trigger (see migration 0003)."""
    return (
        await conn.execute(
            insert(agency)
            .values(
                id=agency_id,
                code102=data.code,
                code_qd20=data.code_qd20,
                name=data.name.strip(),
                short_name=data.short_name.strip(),
                level=data.level.strip(),
                parent_id=parent_id,
                address=data.address.strip(),
                phone=normalise_phone(data.phone),
                email=normalise_email(data.email),
                website=data.website.strip(),
                valid_from=valid_from,
            )
            .returning(*agency.c)
        )
    ).one()


async def create(conn: AsyncConnection, actor: Actor, data: AgencyCreate) -> AgencyView:
    check_codes(data.code, data.code_qd20)
    await lock_tree(conn)
    if data.parent_id is not None:
        await require_parent(conn, data.parent_id, forbidden=set())
    await ensure_codes_unused(conn, [data.code], [data.code_qd20] if data.code_qd20 else [])
    agency_id = uuid.uuid4()
    row = await insert_agency(
        conn,
        agency_id,
        data,
        parent_id=data.parent_id,
        valid_from=data.valid_from or today(),
    )
    await audit_agency(conn, actor, "agency.created", agency_id, before=None, after=snapshot(row))
    return view(row)


async def correct(
    conn: AsyncConnection, actor: Actor, agency_id: uuid.UUID, data: AgencyUpdate
) -> AgencyView:
    """Corrects the current record (and so the open version of its history)."""
    await lock_tree(conn)
    before = await fetch(conn, agency_id, lock=True)
    if before.status != ACTIVE:
        raise InvalidInput(
            "Cơ quan đã ngừng hoạt động; hồ sơ của nó không còn được sửa.",
            "The agency is inactive; its record is closed.",
        )
    values: dict[str, Any] = {
        name: value
        for name, value in msgspec.structs.asdict(data).items()
        if not isinstance(value, msgspec.UnsetType)
    }
    if not values:
        return view(before)
    for name in ("name", "short_name", "level", "address", "website"):
        if name in values:
            values[name] = values[name].strip()
    if "phone" in values:
        values["phone"] = normalise_phone(values["phone"])
    if "email" in values:
        values["email"] = normalise_email(values["email"])
    if values.get("code_qd20") is not None and values["code_qd20"] != before.code_qd20:
        check_codes(before.code102, values["code_qd20"])
        await ensure_codes_unused(conn, [], [values["code_qd20"]])
    if values.get("parent_id") is not None and values["parent_id"] != before.parent_id:
        below = await descendants(conn, [agency_id])
        await require_parent(conn, values["parent_id"], forbidden={agency_id} | below)
    after = (
        await conn.execute(
            update(agency)
            .where(agency.c.id == agency_id)
            .values(**values, updated_at=func.now())
            .returning(*agency.c)
        )
    ).one()
    await audit_agency(
        conn, actor, "agency.updated", agency_id, before=snapshot(before), after=snapshot(after)
    )
    return view(after)


async def list_all(conn: AsyncConnection, *, status: str | None) -> list[AgencyView]:
    query = select(agency).order_by(agency.c.code102)
    if status is not None:
        query = query.where(agency.c.status == status)
    return [view(row) for row in await conn.execute(query)]


async def tree(
    conn: AsyncConnection,
    as_of: dt.date,
    *,
    include_inactive: bool,
    root: uuid.UUID | None = None,
) -> AgencyTree:
    """The tree as it stood on `as_of`: each agency's version in force that day; with `root`,
    only the part under that agency (nothing if it did not exist then)."""
    v = agency_version
    query = (
        select(v, agency.c.code102)
        .join(agency, agency.c.id == v.c.agency_id)
        .where(
            or_(v.c.valid_from.is_(None), v.c.valid_from <= as_of),
            or_(v.c.valid_to.is_(None), v.c.valid_to > as_of),
        )
        .order_by(agency.c.code102)
    )
    if not include_inactive:
        query = query.where(v.c.status == ACTIVE)
    nodes = {
        row.agency_id: AgencyNode(
            id=row.agency_id,
            code=row.code102,
            name=row.name,
            short_name=row.short_name,
            level=row.level,
            status=row.status,
            parent_id=row.parent_id,
            children=[],
        )
        for row in await conn.execute(query)
    }
    roots: list[AgencyNode] = []
    for node in nodes.values():  # in code order, so children come out sorted too
        parent = nodes.get(node.parent_id) if node.parent_id is not None else None
        (parent.children if parent is not None else roots).append(node)
    if root is not None:
        roots = [nodes[root]] if root in nodes else []
    return AgencyTree(as_of=as_of, roots=roots)


async def history(conn: AsyncConnection, agency_id: uuid.UUID) -> list[AgencyVersionView]:
    await fetch(conn, agency_id)
    v = agency_version
    rows = await conn.execute(
        select(v)
        .where(v.c.agency_id == agency_id)
        .order_by(v.c.valid_from.asc().nulls_first(), v.c.recorded_at)
    )
    return [
        AgencyVersionView(
            valid_from=r.valid_from,
            valid_to=r.valid_to,
            name=r.name,
            short_name=r.short_name,
            level=r.level,
            parent_id=r.parent_id,
            status=r.status,
            change_id=r.change_id,
        )
        for r in rows
    ]


async def lineage(conn: AsyncConnection, agency_id: uuid.UUID) -> Lineage:
    """The agencies this one succeeded, directly or through earlier successions."""
    await fetch(conn, agency_id)
    s = agency_succession
    steps = (
        select(s.c.predecessor_id, s.c.successor_id, s.c.change_id, literal(1).label("depth"))
        .where(s.c.successor_id == agency_id)
        .cte("steps", recursive=True)
    )
    steps = steps.union(
        select(s.c.predecessor_id, s.c.successor_id, s.c.change_id, steps.c.depth + 1)
        .join(steps, s.c.successor_id == steps.c.predecessor_id)
        .where(steps.c.depth < MAX_LINEAGE_DEPTH)
    )
    rows = await conn.execute(
        select(
            steps,
            agency.c.code102,
            agency.c.name,
            agency_change.c.kind,
            agency_change.c.effective_date,
            agency_change.c.reference,
        )
        .join(agency, agency.c.id == steps.c.predecessor_id)
        .join(agency_change, agency_change.c.id == steps.c.change_id)
        .order_by(steps.c.depth, agency_change.c.effective_date, agency.c.code102)
    )
    predecessors = [
        Predecessor(
            id=r.predecessor_id,
            code=r.code102,
            name=r.name,
            successor_id=r.successor_id,
            kind=r.kind,
            effective_date=r.effective_date,
            reference=r.reference,
            depth=r.depth,
        )
        for r in rows
    ]
    ids = [agency_id]
    for p in predecessors:
        if p.id not in ids:
            ids.append(p.id)
    return Lineage(agency_id=agency_id, predecessors=predecessors, agency_ids=ids)
