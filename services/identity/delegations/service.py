"""Delegation (ủy quyền): a leader lets another person of the same agency act for them over a
period. Whatever the delegate then does for the leader records both people (X-Acting-For)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    exists,
    func,
    insert,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.problems import Conflict, Forbidden, InvalidInput, NotFound
from services.identity.audit.service import Actor, record, snapshot
from services.identity.delegations.schemas import DelegationCreate, DelegationView
from services.identity.tables import delegation, membership, person


def _in_force(at: dt.datetime) -> ColumnElement[bool]:
    d = delegation.c
    return (d.revoked_at.is_(None)) & (d.starts_at <= at) & (d.ends_at > at)


async def acting_for(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    actor_person_id: uuid.UUID,
    principal_person_id: uuid.UUID,
    at: dt.datetime,
) -> bool:
    """Whether `actor_person_id` may act for `principal_person_id` in the agency at `at`: a
    delegation between them is in force and the delegator's account is enabled.

    Runs in the caller's transaction, which must be scoped to `tenant_id`."""
    d = delegation.c
    query = select(
        exists().where(
            d.tenant_id == tenant_id,
            d.delegator_id == principal_person_id,
            d.delegate_id == actor_person_id,
            _in_force(at),
            exists().where(person.c.id == d.delegator_id, person.c.enabled),
        )
    )
    return bool((await conn.execute(query)).scalar())


def _query() -> Select[Any]:
    delegator = person.alias("delegator")
    delegate = person.alias("delegate")
    today = func.current_date()
    # PostgreSQL treats a function in FROM as LATERAL: it unnests each membership's roles.
    role = func.unnest(membership.c.roles).table_valued("name").render_derived(name="role")
    roles = (
        select(func.array_agg(func.distinct(role.c.name)))
        .select_from(membership.join(role, true()))
        .where(
            membership.c.tenant_id == delegation.c.tenant_id,
            membership.c.person_id == delegation.c.delegator_id,
            membership.c.active,
            or_(membership.c.valid_from.is_(None), membership.c.valid_from <= today),
            or_(membership.c.valid_to.is_(None), membership.c.valid_to >= today),
        )
        .scalar_subquery()
    )
    return (
        select(
            delegation,
            delegator.c.username.label("delegator_username"),
            roles.label("delegator_roles"),
            delegate.c.username.label("delegate_username"),
        )
        .join(delegator, delegator.c.id == delegation.c.delegator_id)
        .join(delegate, delegate.c.id == delegation.c.delegate_id)
    )


def _view(row: Row[Any]) -> DelegationView:
    return DelegationView(
        id=row.id,
        agency_id=row.tenant_id,
        delegator_id=row.delegator_id,
        delegator_username=row.delegator_username,
        delegator_roles=sorted(row.delegator_roles or ()),
        delegate_id=row.delegate_id,
        delegate_username=row.delegate_username,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        scope=row.scope,
        revoked_at=row.revoked_at,
    )


async def _get(conn: AsyncConnection, delegation_id: uuid.UUID) -> DelegationView:
    row = (await conn.execute(_query().where(delegation.c.id == delegation_id))).first()
    if row is None:
        raise NotFound("Không tìm thấy ủy quyền.", "No such delegation.")
    return _view(row)


async def _active_membership(
    conn: AsyncConnection, tenant_id: uuid.UUID, person_id: uuid.UUID, *, lock: bool = False
) -> Row[Any] | None:
    query = select(membership.c.id).where(
        membership.c.tenant_id == tenant_id,
        membership.c.person_id == person_id,
        membership.c.active,
    )
    if lock:
        query = query.with_for_update()
    return (await conn.execute(query)).first()


async def create(
    conn: AsyncConnection, tenant_id: uuid.UUID, actor: Actor, data: DelegationCreate
) -> DelegationView:
    delegator_id = actor.person_id
    if delegator_id is None:
        raise Forbidden(
            "Tài khoản của bạn chưa có hồ sơ cán bộ.", "Your account has no person record."
        )
    if actor.acting_for_person_id is not None:
        raise Forbidden(
            "Người được ủy quyền không được ủy quyền lại.", "A delegate cannot delegate further."
        )
    if data.delegate_id == delegator_id:
        raise InvalidInput("Không thể ủy quyền cho chính mình.", "You cannot delegate to yourself.")
    if data.ends_at <= data.starts_at:
        raise InvalidInput(
            "Thời điểm kết thúc ủy quyền phải sau thời điểm bắt đầu.",
            "The delegation must end after it starts.",
        )
    # The delegator's membership row is locked so that two requests of theirs cannot both pass
    # the overlap check below.
    if await _active_membership(conn, tenant_id, delegator_id, lock=True) is None:
        raise Forbidden(
            "Bạn không có chức vụ đang hiệu lực tại cơ quan.",
            "You hold no active membership in this agency.",
        )
    delegate = (
        await conn.execute(select(person.c.enabled).where(person.c.id == data.delegate_id))
    ).first()
    if (
        delegate is None
        or not delegate.enabled
        or await _active_membership(conn, tenant_id, data.delegate_id) is None
    ):
        raise InvalidInput(
            "Người được ủy quyền phải có chức vụ đang hiệu lực tại cơ quan.",
            "The delegate must hold an active membership in this agency.",
        )
    d = delegation.c
    overlapping = (
        await conn.execute(
            select(d.id, d.starts_at, d.ends_at).where(
                d.tenant_id == tenant_id,
                d.delegator_id == delegator_id,
                d.revoked_at.is_(None),
                d.starts_at < data.ends_at,
                d.ends_at > data.starts_at,
            )
        )
    ).first()
    if overlapping is not None:
        raise Conflict(
            "Đã có ủy quyền khác trong khoảng thời gian này.",
            "Another delegation of yours overlaps this period.",
            delegation_id=str(overlapping.id),
        )
    delegation_id = uuid.uuid4()
    row = (
        await conn.execute(
            insert(delegation)
            .values(
                tenant_id=tenant_id,
                id=delegation_id,
                delegator_id=delegator_id,
                delegate_id=data.delegate_id,
                starts_at=data.starts_at,
                ends_at=data.ends_at,
                scope=data.scope.strip(),
            )
            .returning(*delegation.c)
        )
    ).one()
    await record(
        conn,
        tenant_id,
        actor,
        "delegation.created",
        "delegation",
        delegation_id,
        before=None,
        after=snapshot(row),
    )
    return await _get(conn, delegation_id)


async def revoke(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    actor: Actor,
    delegation_id: uuid.UUID,
    *,
    is_admin: bool,
) -> DelegationView:
    """The delegator (or the agency admin) ends a delegation now; revoking twice is a no-op."""
    before = (
        await conn.execute(
            select(delegation).where(delegation.c.id == delegation_id).with_for_update()
        )
    ).first()
    if before is None:
        raise NotFound("Không tìm thấy ủy quyền.", "No such delegation.")
    if not is_admin and actor.person_id != before.delegator_id:
        raise Forbidden(
            "Chỉ người ủy quyền hoặc quản trị cơ quan được thu hồi.",
            "Only the delegator or the agency admin may revoke a delegation.",
        )
    if before.revoked_at is None:
        after = (
            await conn.execute(
                update(delegation)
                .where(delegation.c.id == delegation_id)
                .values(revoked_at=func.now())
                .returning(*delegation.c)
            )
        ).one()
        await record(
            conn,
            tenant_id,
            actor,
            "delegation.revoked",
            "delegation",
            delegation_id,
            before=snapshot(before),
            after=snapshot(after),
        )
    return await _get(conn, delegation_id)


async def involving(
    conn: AsyncConnection, person_id: uuid.UUID, *, at: dt.datetime | None
) -> list[DelegationView]:
    """The delegations the person gave or received in the current agency; with `at`, only
    those in force then."""
    d = delegation.c
    query = _query().where(or_(d.delegator_id == person_id, d.delegate_id == person_id))
    if at is not None:
        query = query.where(_in_force(at))
    return [_view(row) for row in await conn.execute(query.order_by(d.starts_at))]
