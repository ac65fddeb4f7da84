"""The actor of a request: the principal, their person record, and the person they act for.

`X-Acting-For: <person id>` says the caller acts for that person (a leader who delegated to
them). It is checked against a delegation in force in the active agency, inside the request's
own transaction; a header that no delegation backs is refused (403). The identity service
records both people in the audit trail; the header grants no roles here (the delegate manages
people only with their own roles)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from litestar.params import HeaderParameter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.auth.principal import Principal
from services.common.db import Database
from services.common.problems import Forbidden
from services.identity.audit.service import Actor
from services.identity.delegations.service import acting_for
from services.identity.people.service import person_for_principal
from services.identity.tables import person
from services.identity.transactions import writing

ACTING_FOR_HEADER = "X-Acting-For"

ActingFor = Annotated[
    uuid.UUID | None,
    HeaderParameter(
        name=ACTING_FOR_HEADER,
        required=False,
        description="Người ủy quyền mà người gọi đang thay mặt (the delegator acted for)",
    ),
]


async def provide_acting_for(acting_for: ActingFor = None) -> uuid.UUID | None:
    return acting_for


def _refused() -> Forbidden:
    return Forbidden(
        "Không có ủy quyền đang hiệu lực cho người được nêu trong X-Acting-For.",
        "No delegation in force lets you act for the person named in X-Acting-For.",
    )


async def resolve_actor(
    conn: AsyncConnection,
    tenant_id: uuid.UUID | None,
    principal: Principal,
    acting_for_id: uuid.UUID | None,
) -> Actor:
    me = await person_for_principal(conn, principal)
    actor = Actor(
        subject=principal.subject,
        username=principal.username,
        person_id=me.id if me is not None else None,
    )
    if acting_for_id is None:
        return actor
    now = dt.datetime.now(dt.UTC)
    if (
        tenant_id is None
        or me is None
        or not await acting_for(conn, tenant_id, me.id, acting_for_id, now)
    ):
        raise _refused()
    principal_username = (
        await conn.execute(select(person.c.username).where(person.c.id == acting_for_id))
    ).scalar_one()
    return Actor(
        subject=actor.subject,
        username=actor.username,
        person_id=actor.person_id,
        acting_for_person_id=acting_for_id,
        acting_for_username=principal_username,
    )


@asynccontextmanager
async def acting(
    db: Database,
    tenant_id: uuid.UUID | None,
    principal: Principal,
    acting_for_id: uuid.UUID | None,
) -> AsyncIterator[tuple[AsyncConnection, Actor]]:
    """One write transaction as `tenant_id` (None: platform) and the actor who writes."""
    async with writing(db, tenant_id) as conn:
        yield conn, await resolve_actor(conn, tenant_id, principal, acting_for_id)
