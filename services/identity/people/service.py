"""People (one global account each) and their memberships in agencies (tenant rows).

A person is global because one official may hold positions in several agencies (kiêm nhiệm);
what they may do in an agency comes from their membership there. Memberships are under
row-level security, so an agency admin sees, and lists people through, their own agency's
memberships only."""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

import msgspec
from sqlalchemy import ColumnElement, Row, Select, and_, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.auth.principal import Principal, Role
from services.common.outbox import publish
from services.common.problems import Conflict, InvalidInput, NotFound
from services.identity.audit.service import Actor, record, snapshot
from services.identity.contacts import normalise_email, normalise_phone
from services.identity.people.schemas import (
    MembershipCreate,
    MembershipUpdate,
    MembershipView,
    PeoplePage,
    PersonCreate,
    PersonUpdate,
    PersonView,
)
from services.identity.tables import agency, department, membership, outbox, person

PERSON_DISABLED = "person.disabled"
PERSON_ENABLED = "person.enabled"


def _role_values(roles: Iterable[Role]) -> list[str]:
    return sorted({role.value for role in roles})


def _check_dates(valid_from: dt.date | None, valid_to: dt.date | None) -> None:
    if valid_from is not None and valid_to is not None and valid_to <= valid_from:
        raise InvalidInput(
            "Ngày kết thúc phải sau ngày bắt đầu.", "The end date must be after the start date."
        )


# --- people ----------------------------------------------------------------------------------


async def person_for_principal(conn: AsyncConnection, principal: Principal) -> Row[Any] | None:
    """The person record of the caller: by Keycloak id once the account is linked, until then
    by username (both are unique in the realm)."""
    by_username = and_(person.c.keycloak_id.is_(None), person.c.username == principal.username)
    condition: ColumnElement[bool] = by_username
    with contextlib.suppress(ValueError):
        condition = or_(person.c.keycloak_id == uuid.UUID(principal.subject), by_username)
    query = select(person).where(condition).order_by(person.c.keycloak_id.nulls_last()).limit(1)
    return (await conn.execute(query)).first()


async def _person(conn: AsyncConnection, where: ColumnElement[bool]) -> Row[Any] | None:
    return (await conn.execute(select(person).where(where))).first()


def _person_view(row: Row[Any], member: MembershipView | None) -> PersonView:
    return PersonView(
        id=row.id,
        username=row.username,
        full_name=row.full_name,
        email=row.email,
        phone=row.phone,
        title=row.title,
        enabled=row.enabled,
        keycloak_id=row.keycloak_id,
        membership=member,
    )


async def create_person(
    conn: AsyncConnection, tenant_id: uuid.UUID, actor: Actor, data: PersonCreate
) -> PersonView:
    """Registers the person, or finds them when they already work elsewhere, and adds their
    membership in `tenant_id`."""
    await require_active_agency(conn, tenant_id)
    email = normalise_email(data.email)
    found = await _person(conn, person.c.username == data.username)
    email_owner = await _person(conn, person.c.email == email)
    if email_owner is not None and (found is None or email_owner.id != found.id):
        raise Conflict(
            "Địa chỉ thư điện tử đã được dùng cho người khác.",
            "The email address is already used by another person.",
        )
    if found is None:
        person_id = uuid.uuid4()
        found = (
            await conn.execute(
                insert(person)
                .values(
                    id=person_id,
                    username=data.username,
                    full_name=data.full_name.strip(),
                    email=email,
                    phone=normalise_phone(data.phone),
                    title=data.title.strip(),
                )
                .returning(*person.c)
            )
        ).one()
        await record(
            conn,
            tenant_id,
            actor,
            "person.created",
            "person",
            person_id,
            before=None,
            after=snapshot(found),
        )
    member = await _insert_membership(
        conn,
        tenant_id,
        actor,
        found.id,
        MembershipCreate(
            person_id=found.id,
            department_id=data.department_id,
            position=data.position,
            roles=data.roles,
            valid_from=data.valid_from,
            valid_to=data.valid_to,
        ),
    )
    return _person_view(found, member)


async def get_person(conn: AsyncConnection, person_id: uuid.UUID) -> PersonView:
    """A person as the current agency sees them: only through a membership there."""
    row = (
        await conn.execute(
            _memberships_query()
            .where(membership.c.person_id == person_id)
            .order_by(membership.c.active.desc(), membership.c.created_at.desc())
            .limit(1)
        )
    ).first()
    if row is None:
        raise _person_not_found()
    found = await _person(conn, person.c.id == person_id)
    assert found is not None  # the membership's foreign key
    return _person_view(found, _membership_view(row))


async def list_people(
    conn: AsyncConnection, *, limit: int, offset: int, include_inactive: bool
) -> PeoplePage:
    """The people with a membership in the current agency (row-level security picks it)."""
    query = (
        select(person, *[c.label(f"m_{c.name}") for c in membership.c])
        .join(membership, membership.c.person_id == person.c.id)
        .order_by(person.c.username, membership.c.created_at)
        .limit(limit + 1)
        .offset(offset)
    )
    if not include_inactive:
        query = query.where(membership.c.active)
    rows = (await conn.execute(query)).all()
    items = [
        _person_view(
            row,
            MembershipView(
                id=row.m_id,
                agency_id=row.m_tenant_id,
                person_id=row.id,
                username=row.username,
                full_name=row.full_name,
                department_id=row.m_department_id,
                position=row.m_position,
                roles=[Role(r) for r in row.m_roles],
                active=row.m_active,
                valid_from=row.m_valid_from,
                valid_to=row.m_valid_to,
            ),
        )
        for row in rows[:limit]
    ]
    more = len(rows) > limit
    return PeoplePage(
        items=items, limit=limit, offset=offset, next_offset=offset + limit if more else None
    )


async def lock_person(
    conn: AsyncConnection, person_id: uuid.UUID, member_of: uuid.UUID | None
) -> Row[Any]:
    """The person, locked; when `member_of` is set they must hold an active membership there
    (an agency admin manages only the people of their agency)."""
    if member_of is not None:
        held = (
            await conn.execute(
                select(membership.c.id).where(
                    membership.c.tenant_id == member_of,
                    membership.c.person_id == person_id,
                    membership.c.active,
                )
            )
        ).first()
        if held is None:
            raise _person_not_found()
    row = (
        await conn.execute(select(person).where(person.c.id == person_id).with_for_update())
    ).first()
    if row is None:
        raise _person_not_found()
    return row


async def update_person(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    actor: Actor,
    person_id: uuid.UUID,
    data: PersonUpdate,
    *,
    member_of: uuid.UUID | None,
) -> PersonView:
    before = await lock_person(conn, person_id, member_of)
    values: dict[str, Any] = {}
    if not isinstance(data.full_name, msgspec.UnsetType):
        values["full_name"] = data.full_name.strip()
    if not isinstance(data.email, msgspec.UnsetType):
        values["email"] = normalise_email(data.email)
    if not isinstance(data.phone, msgspec.UnsetType):
        values["phone"] = normalise_phone(data.phone)
    if not isinstance(data.title, msgspec.UnsetType):
        values["title"] = data.title.strip()
    if not values:
        return _person_view(before, None)
    after = (
        await conn.execute(
            update(person)
            .where(person.c.id == person_id)
            .values(**values, updated_at=func.now())
            .returning(*person.c)
        )
    ).one()
    await record(
        conn,
        tenant_id,
        actor,
        "person.updated",
        "person",
        person_id,
        before=snapshot(before),
        after=snapshot(after),
    )
    return _person_view(after, None)


async def set_enabled(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    actor: Actor,
    person_id: uuid.UUID,
    enabled: bool,
    *,
    member_of: uuid.UUID | None,
) -> PersonView:
    """Disables (or enables again) the account everywhere. The event lets the Keycloak sync
    disable the account and end the person's sessions."""
    before = await lock_person(conn, person_id, member_of)
    if before.enabled == enabled:
        return _person_view(before, None)
    after = (
        await conn.execute(
            update(person)
            .where(person.c.id == person_id)
            .values(enabled=enabled, updated_at=func.now())
            .returning(*person.c)
        )
    ).one()
    action = PERSON_ENABLED if enabled else PERSON_DISABLED
    await record(
        conn,
        tenant_id,
        actor,
        action,
        "person",
        person_id,
        before=snapshot(before),
        after=snapshot(after),
    )
    await publish(
        conn,
        outbox,
        tenant_id,
        action,
        {
            "person_id": str(person_id),
            "username": after.username,
            "keycloak_id": str(after.keycloak_id) if after.keycloak_id else None,
        },
    )
    return _person_view(after, None)


def _person_not_found() -> NotFound:
    return NotFound("Không tìm thấy cán bộ trong cơ quan.", "No such person in this agency.")


# --- memberships -----------------------------------------------------------------------------


async def require_active_agency(conn: AsyncConnection, tenant_id: uuid.UUID) -> None:
    """Memberships are only added in an active agency. The row lock (shared) makes a
    concurrent merge or dissolution wait for this transaction, or this one for it."""
    row = (
        await conn.execute(
            select(agency.c.status, agency.c.name)
            .where(agency.c.id == tenant_id)
            .with_for_update(read=True)
        )
    ).first()
    if row is None:
        raise InvalidInput("Cơ quan không tồn tại.", "The agency does not exist.")
    if row.status != "active":
        raise InvalidInput(
            f"Cơ quan «{row.name}» đã ngừng hoạt động (sáp nhập, chia tách hoặc giải thể).",
            f"The agency “{row.name}” is no longer active (merged, split or dissolved).",
        )


async def _require_active_department(conn: AsyncConnection, department_id: uuid.UUID) -> None:
    row = (
        await conn.execute(select(department.c.active).where(department.c.id == department_id))
    ).first()
    if row is None or not row.active:
        raise InvalidInput(
            "Phòng, ban không tồn tại hoặc đã ngừng hoạt động trong cơ quan.",
            "The department does not exist in this agency or is inactive.",
        )


def _memberships_query() -> Select[Any]:
    return select(membership, person.c.username, person.c.full_name).join(
        person, person.c.id == membership.c.person_id
    )


def _membership_view(row: Row[Any]) -> MembershipView:
    return MembershipView(
        id=row.id,
        agency_id=row.tenant_id,
        person_id=row.person_id,
        username=row.username,
        full_name=row.full_name,
        department_id=row.department_id,
        position=row.position,
        roles=[Role(r) for r in row.roles],
        active=row.active,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
    )


async def _membership(conn: AsyncConnection, membership_id: uuid.UUID) -> MembershipView:
    row = (await conn.execute(_memberships_query().where(membership.c.id == membership_id))).first()
    if row is None:
        raise NotFound("Không tìm thấy chức vụ.", "No such membership.")
    return _membership_view(row)


async def _insert_membership(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    actor: Actor,
    person_id: uuid.UUID,
    data: MembershipCreate,
) -> MembershipView:
    _check_dates(data.valid_from, data.valid_to)
    if data.department_id is not None:
        await _require_active_department(conn, data.department_id)
    membership_id = uuid.uuid4()
    row = (
        await conn.execute(
            insert(membership)
            .values(
                tenant_id=tenant_id,
                id=membership_id,
                person_id=person_id,
                department_id=data.department_id,
                position=data.position.strip(),
                roles=_role_values(data.roles),
                valid_from=data.valid_from,
                valid_to=data.valid_to,
            )
            .returning(*membership.c)
        )
    ).one()
    await record(
        conn,
        tenant_id,
        actor,
        "membership.created",
        "membership",
        membership_id,
        before=None,
        after=snapshot(row),
    )
    return await _membership(conn, membership_id)


async def add_membership(
    conn: AsyncConnection, tenant_id: uuid.UUID, actor: Actor, data: MembershipCreate
) -> MembershipView:
    await require_active_agency(conn, tenant_id)
    if await _person(conn, person.c.id == data.person_id) is None:
        raise InvalidInput("Cán bộ không tồn tại.", "The person does not exist.")
    return await _insert_membership(conn, tenant_id, actor, data.person_id, data)


async def _lock_membership(conn: AsyncConnection, membership_id: uuid.UUID) -> Row[Any]:
    row = (
        await conn.execute(
            select(membership).where(membership.c.id == membership_id).with_for_update()
        )
    ).first()
    if row is None:
        raise NotFound("Không tìm thấy chức vụ.", "No such membership.")
    return row


async def update_membership(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    actor: Actor,
    membership_id: uuid.UUID,
    data: MembershipUpdate,
) -> MembershipView:
    before = await _lock_membership(conn, membership_id)
    if not before.active:
        raise InvalidInput(
            "Chức vụ đã kết thúc, không sửa được.", "The membership has ended and cannot change."
        )
    values = {
        name: value
        for name, value in msgspec.structs.asdict(data).items()
        if not isinstance(value, msgspec.UnsetType)
    }
    if not values:
        return await _membership(conn, membership_id)
    if values.get("department_id") is not None:
        await _require_active_department(conn, values["department_id"])
    if "roles" in values:
        values["roles"] = _role_values(values["roles"])
    if "position" in values:
        values["position"] = values["position"].strip()
    _check_dates(
        values.get("valid_from", before.valid_from), values.get("valid_to", before.valid_to)
    )
    after = (
        await conn.execute(
            update(membership)
            .where(membership.c.id == membership_id)
            .values(**values, updated_at=func.now())
            .returning(*membership.c)
        )
    ).one()
    await record(
        conn,
        tenant_id,
        actor,
        "membership.updated",
        "membership",
        membership_id,
        before=snapshot(before),
        after=snapshot(after),
    )
    return await _membership(conn, membership_id)


async def end_membership(
    conn: AsyncConnection, tenant_id: uuid.UUID, actor: Actor, membership_id: uuid.UUID
) -> MembershipView:
    before = await _lock_membership(conn, membership_id)
    if before.active:
        after = (
            await conn.execute(
                update(membership)
                .where(membership.c.id == membership_id)
                .values(active=False, updated_at=func.now())
                .returning(*membership.c)
            )
        ).one()
        await record(
            conn,
            tenant_id,
            actor,
            "membership.ended",
            "membership",
            membership_id,
            before=snapshot(before),
            after=snapshot(after),
        )
    return await _membership(conn, membership_id)


async def list_memberships(
    conn: AsyncConnection, *, include_inactive: bool
) -> list[MembershipView]:
    query = _memberships_query().order_by(person.c.username, membership.c.created_at)
    if not include_inactive:
        query = query.where(membership.c.active)
    return [_membership_view(row) for row in await conn.execute(query)]
