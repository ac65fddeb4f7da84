"""A person's saved searches over incoming documents: private to them in one agency.

A saved search holds the list's conditions, never its results: running it asks the incoming
list again, so it always shows what the person may see now (confidential documents included
or not by the same rule)."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from services.common.auth.principal import Principal
from services.common.db import Database
from services.common.problems import Conflict, InvalidInput, NotFound
from services.docs.audit import chain
from services.docs.incoming.schemas import Page
from services.docs.incoming.service import IncomingService
from services.docs.saved_searches.schemas import SavedSearchCreate, SavedSearchView, SearchParams
from services.docs.tables import saved_search

LIMIT_PER_PERSON = 200


def _not_found(search_id: uuid.UUID) -> NotFound:
    return NotFound(f"Không tìm thấy tìm kiếm đã lưu {search_id}.", f"No saved search {search_id}.")


def _duplicate(name: str) -> Conflict:
    return Conflict(
        f"Bạn đã có tìm kiếm đã lưu tên “{name}”.", f"You already have a saved search {name!r}."
    )


def _view(row: Any) -> SavedSearchView:
    try:
        params = msgspec.convert(row.params, SearchParams)
    except msgspec.ValidationError as exc:  # saved under conditions the list no longer has
        raise Conflict(
            f"Tìm kiếm đã lưu “{row.name}” có điều kiện không còn dùng được; hãy lưu lại.",
            f"Saved search {row.name!r} has conditions the list no longer accepts.",
        ) from exc
    return SavedSearchView(id=row.id, name=row.name, params=params, created_at=row.created_at)


class SavedSearchService:
    def __init__(self, db: Database, incoming: IncomingService) -> None:
        self.db = db
        self.incoming = incoming

    async def create(
        self, tenant_id: uuid.UUID, principal: Principal, body: SavedSearchCreate
    ) -> SavedSearchView:
        name = body.name.strip()
        if not name:
            raise InvalidInput("Hãy đặt tên cho tìm kiếm.", "The search needs a name.")
        search_id = uuid.uuid4()
        params = msgspec.to_builtins(body.params)
        async with self.db.transaction(tenant_id) as conn:
            mine = (
                await conn.execute(
                    select(saved_search.c.name).where(
                        saved_search.c.tenant_id == tenant_id,
                        saved_search.c.owner == principal.username,
                    )
                )
            ).scalars()
            names = set(mine)
            if name in names:
                raise _duplicate(name)
            if len(names) >= LIMIT_PER_PERSON:
                raise Conflict(
                    f"Mỗi người lưu tối đa {LIMIT_PER_PERSON} tìm kiếm; hãy xóa bớt.",
                    f"At most {LIMIT_PER_PERSON} saved searches per person.",
                )
            try:
                row = (
                    await conn.execute(
                        insert(saved_search)
                        .values(
                            tenant_id=tenant_id,
                            id=search_id,
                            owner=principal.username,
                            name=name,
                            params=params,
                        )
                        .returning(*saved_search.c)
                    )
                ).one()
            except IntegrityError as exc:  # the same name, saved a moment ago
                raise _duplicate(name) from exc
            await chain.append(
                conn,
                tenant_id,
                principal,
                "saved_search.created",
                "saved_search",
                search_id,
                {"name": name, "params": params},
            )
        return _view(row)

    async def list(self, tenant_id: uuid.UUID, principal: Principal) -> list[SavedSearchView]:
        async with self.db.transaction(tenant_id, read_only=True) as conn:
            rows = (
                await conn.execute(
                    select(saved_search)
                    .where(
                        saved_search.c.tenant_id == tenant_id,
                        saved_search.c.owner == principal.username,
                    )
                    .order_by(saved_search.c.name)
                )
            ).all()
        return [_view(r) for r in rows]

    async def get(
        self, tenant_id: uuid.UUID, principal: Principal, search_id: uuid.UUID
    ) -> SavedSearchView:
        async with self.db.transaction(tenant_id, read_only=True) as conn:
            row = (
                await conn.execute(
                    select(saved_search).where(
                        saved_search.c.tenant_id == tenant_id,
                        saved_search.c.id == search_id,
                        # Private: someone else's search is as absent as a missing one.
                        saved_search.c.owner == principal.username,
                    )
                )
            ).one_or_none()
        if row is None:
            raise _not_found(search_id)
        return _view(row)

    async def delete(
        self, tenant_id: uuid.UUID, principal: Principal, search_id: uuid.UUID
    ) -> None:
        async with self.db.transaction(tenant_id) as conn:
            removed = (
                await conn.execute(
                    delete(saved_search)
                    .where(
                        saved_search.c.tenant_id == tenant_id,
                        saved_search.c.id == search_id,
                        saved_search.c.owner == principal.username,
                    )
                    .returning(saved_search.c.name)
                )
            ).one_or_none()
            if removed is None:
                raise _not_found(search_id)
            await chain.append(
                conn,
                tenant_id,
                principal,
                "saved_search.deleted",
                "saved_search",
                search_id,
                {"name": removed.name},
            )

    async def run(
        self,
        tenant_id: uuid.UUID,
        principal: Principal,
        search_id: uuid.UUID,
        *,
        cursor: str | None,
        limit: int,
    ) -> Page:
        params = (await self.get(tenant_id, principal, search_id)).params
        return await self.incoming.list(
            tenant_id,
            principal,
            state=params.state,
            query=params.q,
            assigned_to_me=params.mine,
            overdue=params.overdue,
            cursor=cursor,
            limit=limit,
        )
