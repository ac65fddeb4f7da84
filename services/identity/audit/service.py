"""The audit trail: who changed what, when, acting for whom, with the entity before and after.

Every change the identity service makes writes one record per affected agency, in the same
transaction as the change, so a change without its record cannot commit. Records are tenant rows:
an agency admin reads their own agency's trail, and a platform operator's change to the agency
tree is recorded under each agency it affects."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from sqlalchemy import Row, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.identity.audit.schemas import AuditEventView, AuditPage
from services.identity.tables import audit_event


class Actor(msgspec.Struct, frozen=True, kw_only=True):
    """Who makes a change: the authenticated principal, their person record when they have one,
    and the person they act for under a delegation (X-Acting-For), if any."""

    subject: str
    username: str
    person_id: uuid.UUID | None = None
    acting_for_person_id: uuid.UUID | None = None
    acting_for_username: str | None = None


def snapshot(row: Row[Any] | None) -> dict[str, Any] | None:
    """A row as JSON-ready values (ids and dates as strings), for `before` and `after`."""
    if row is None:
        return None
    values: dict[str, Any] = msgspec.to_builtins(dict(row._mapping))
    return values


async def record(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: uuid.UUID,
    *,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    """Record a change in the transaction's current tenant, which must be `tenant_id`."""
    await conn.execute(
        insert(audit_event).values(
            tenant_id=tenant_id,
            id=uuid.uuid4(),
            actor_subject=actor.subject,
            actor_username=actor.username,
            actor_person_id=actor.person_id,
            acting_for_person_id=actor.acting_for_person_id,
            acting_for_username=actor.acting_for_username,
            action=action,
            entity=entity,
            entity_id=entity_id,
            before=before,
            after=after,
        )
    )


async def list_events(
    conn: AsyncConnection,
    *,
    entity: str | None,
    entity_id: uuid.UUID | None,
    action: str | None,
    limit: int,
    offset: int,
) -> AuditPage:
    """The current tenant's records, newest first (row-level security picks the tenant)."""
    a = audit_event
    query = select(a).order_by(a.c.seq.desc()).limit(limit + 1).offset(offset)
    if entity is not None:
        query = query.where(a.c.entity == entity)
    if entity_id is not None:
        query = query.where(a.c.entity_id == entity_id)
    if action is not None:
        query = query.where(a.c.action == action)
    rows = (await conn.execute(query)).all()
    items = [
        AuditEventView(
            id=r.id,
            at=r.at,
            actor_subject=r.actor_subject,
            actor_username=r.actor_username,
            actor_person_id=r.actor_person_id,
            acting_for_person_id=r.acting_for_person_id,
            acting_for_username=r.acting_for_username,
            action=r.action,
            entity=r.entity,
            entity_id=r.entity_id,
            before=r.before,
            after=r.after,
        )
        for r in rows[:limit]
    ]
    more = len(rows) > limit
    return AuditPage(
        items=items, limit=limit, offset=offset, next_offset=offset + limit if more else None
    )
