"""Departments: the internal tree of one agency (tenant rows under row-level security)."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from sqlalchemy import Row, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.problems import Conflict, InvalidInput, NotFound
from services.identity.audit.service import Actor, record, snapshot
from services.identity.departments.schemas import DepartmentCreate, DepartmentUpdate, DepartmentView
from services.identity.tables import department, membership


def _view(row: Row[Any]) -> DepartmentView:
    return DepartmentView(
        id=row.id,
        name=row.name,
        short_name=row.short_name,
        parent_id=row.parent_id,
        active=row.active,
    )


async def _lock_tree(conn: AsyncConnection, tenant_id: uuid.UUID) -> None:
    """Moves in one agency wait for each other (two could otherwise close a cycle together)."""
    await conn.execute(
        text("SELECT pg_advisory_xact_lock(hashtext('identity.department-tree:' || :tenant))"),
        {"tenant": str(tenant_id)},
    )


async def _fetch(conn: AsyncConnection, department_id: uuid.UUID) -> Row[Any]:
    row = (
        await conn.execute(
            select(department).where(department.c.id == department_id).with_for_update()
        )
    ).first()
    if row is None:
        raise NotFound("Không tìm thấy phòng, ban.", "No such department.")
    return row


async def _require_parent(
    conn: AsyncConnection, parent_id: uuid.UUID, forbidden: set[uuid.UUID]
) -> None:
    if parent_id in forbidden:
        raise InvalidInput(
            "Không thể đặt phòng, ban dưới chính nó hoặc đơn vị cấp dưới của nó (vòng lặp).",
            "A department cannot be placed under itself or one of its sub-departments (a cycle).",
        )
    row = (
        await conn.execute(select(department.c.active).where(department.c.id == parent_id))
    ).first()
    if row is None or not row.active:
        raise InvalidInput(
            "Đơn vị cấp trên không tồn tại hoặc đã ngừng hoạt động.",
            "The parent department does not exist or is inactive.",
        )


async def _descendants(conn: AsyncConnection, department_id: uuid.UUID) -> set[uuid.UUID]:
    d = department
    below = select(d.c.id).where(d.c.parent_id == department_id).cte("below", recursive=True)
    below = below.union(select(d.c.id).join(below, d.c.parent_id == below.c.id))
    return set((await conn.execute(select(below.c.id))).scalars())


async def list_departments(
    conn: AsyncConnection, *, include_inactive: bool
) -> list[DepartmentView]:
    query = select(department).order_by(department.c.short_name, department.c.name)
    if not include_inactive:
        query = query.where(department.c.active)
    return [_view(row) for row in await conn.execute(query)]


async def create(
    conn: AsyncConnection, tenant_id: uuid.UUID, actor: Actor, data: DepartmentCreate
) -> DepartmentView:
    await _lock_tree(conn, tenant_id)
    if data.parent_id is not None:
        await _require_parent(conn, data.parent_id, set())
    department_id = uuid.uuid4()
    row = (
        await conn.execute(
            insert(department)
            .values(
                tenant_id=tenant_id,
                id=department_id,
                name=data.name.strip(),
                short_name=data.short_name.strip(),
                parent_id=data.parent_id,
            )
            .returning(*department.c)
        )
    ).one()
    await record(
        conn,
        tenant_id,
        actor,
        "department.created",
        "department",
        department_id,
        before=None,
        after=snapshot(row),
    )
    return _view(row)


async def change(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    actor: Actor,
    department_id: uuid.UUID,
    data: DepartmentUpdate,
) -> DepartmentView:
    await _lock_tree(conn, tenant_id)
    before = await _fetch(conn, department_id)
    if not before.active:
        raise InvalidInput("Phòng, ban đã ngừng hoạt động.", "The department is inactive.")
    values: dict[str, Any] = {
        name: value.strip() if isinstance(value, str) else value
        for name, value in msgspec.structs.asdict(data).items()
        if not isinstance(value, msgspec.UnsetType)
    }
    if not values:
        return _view(before)
    parent_id = values.get("parent_id")
    if parent_id is not None and parent_id != before.parent_id:
        forbidden = {department_id} | await _descendants(conn, department_id)
        await _require_parent(conn, parent_id, forbidden)
    after = (
        await conn.execute(
            update(department)
            .where(department.c.id == department_id)
            .values(**values, updated_at=func.now())
            .returning(*department.c)
        )
    ).one()
    action = "department.moved" if "parent_id" in values else "department.renamed"
    await record(
        conn,
        tenant_id,
        actor,
        action,
        "department",
        department_id,
        before=snapshot(before),
        after=snapshot(after),
    )
    return _view(after)


async def deactivate(
    conn: AsyncConnection, tenant_id: uuid.UUID, actor: Actor, department_id: uuid.UUID
) -> DepartmentView:
    await _lock_tree(conn, tenant_id)
    before = await _fetch(conn, department_id)
    if not before.active:
        return _view(before)
    child = (
        await conn.execute(
            select(department.c.id).where(
                department.c.parent_id == department_id, department.c.active
            )
        )
    ).first()
    if child is not None:
        raise Conflict(
            "Phòng, ban còn đơn vị cấp dưới đang hoạt động.",
            "The department still has active sub-departments.",
        )
    member = (
        await conn.execute(
            select(membership.c.id).where(
                membership.c.department_id == department_id, membership.c.active
            )
        )
    ).first()
    if member is not None:
        raise Conflict(
            "Phòng, ban còn cán bộ đang công tác; hãy chuyển họ trước.",
            "The department still has active members; move them first.",
        )
    after = (
        await conn.execute(
            update(department)
            .where(department.c.id == department_id)
            .values(active=False, updated_at=func.now())
            .returning(*department.c)
        )
    ).one()
    await record(
        conn,
        tenant_id,
        actor,
        "department.deactivated",
        "department",
        department_id,
        before=snapshot(before),
        after=snapshot(after),
    )
    return _view(after)
