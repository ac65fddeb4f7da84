"""Reorganisations of the agency tree: merge, split, rename, move, dissolve.

Each has an effective date and the decision it executes. Nothing is deleted and no code is
reused: predecessors become inactive from the effective date, with a link to their successor;
every agency's history is kept as dated versions (`agency_version`), so the tree can be read
as it stood on any day. History is appended in order: an effective date must come after the
start of the version it ends. Subordinate agencies of a merged, split or dissolved agency move
under its (first) successor, and memberships in it end on the effective date.

Each affected agency gets an audit record in its own trail, and the successors (or, without
one, the agency itself) an `agency.reorganised` event: other services learn from it, for
instance, that a successor's people may now read its predecessors' documents."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from sqlalchemy import Row, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.outbox import publish
from services.common.problems import InvalidInput
from services.identity.agencies.schemas import (
    DissolveRequest,
    MergeRequest,
    MoveRequest,
    NewAgency,
    RenameRequest,
    ReorganisationView,
    SplitRequest,
)
from services.identity.agencies.service import (
    ACTIVE,
    INACTIVE,
    audit_agency,
    check_codes,
    descendants,
    ensure_codes_unused,
    fetch_named,
    insert_agency,
    lock_tree,
    require_parent,
)
from services.identity.audit.service import Actor, snapshot
from services.identity.tables import (
    agency,
    agency_change,
    agency_succession,
    agency_version,
    membership,
    outbox,
)
from services.identity.tenancy import enter_tenant

AGENCY_REORGANISED = "agency.reorganised"

Decision = MergeRequest | SplitRequest | RenameRequest | MoveRequest | DissolveRequest


class _Change:
    """One reorganisation being recorded: its row, and the audit records it owes."""

    def __init__(self, kind: str, decision: Decision, actor: Actor) -> None:
        self.id = uuid.uuid4()
        self.kind = kind
        self.decision = decision
        self.actor = actor
        self.effective_date = decision.effective_date

    async def record(
        self, conn: AsyncConnection, predecessors: list[uuid.UUID], successors: list[uuid.UUID]
    ) -> ReorganisationView:
        row = (
            await conn.execute(
                insert(agency_change)
                .values(
                    id=self.id,
                    kind=self.kind,
                    effective_date=self.effective_date,
                    reference=self.decision.reference.strip(),
                    reason=self.decision.reason.strip(),
                    predecessors=predecessors,
                    successors=successors,
                    recorded_by=self.actor.username or self.actor.subject,
                )
                .returning(*agency_change.c)
            )
        ).one()
        return ReorganisationView(
            id=row.id,
            kind=row.kind,
            effective_date=row.effective_date,
            reference=row.reference,
            reason=row.reason,
            predecessors=list(row.predecessors),
            successors=list(row.successors),
            recorded_at=row.recorded_at,
        )

    async def advance(
        self, conn: AsyncConnection, current: Row[Any], changes: dict[str, Any]
    ) -> Row[Any]:
        """Closes the agency's open version at the effective date (periods are half-open: the
        old state holds until the day before) and opens one from that date with `changes`
        applied; the registry row follows."""
        day = self.effective_date
        v = agency_version
        open_version = (
            await conn.execute(
                select(v)
                .where(v.c.agency_id == current.id, v.c.valid_to.is_(None))
                .with_for_update()
            )
        ).one()
        if open_version.valid_from is not None and open_version.valid_from >= day:
            raise InvalidInput(
                f"Ngày hiệu lực {day:%d/%m/%Y} phải sau lần thay đổi gần nhất của «{current.name}» "
                f"({open_version.valid_from:%d/%m/%Y}).",
                f"The effective date {day.isoformat()} must come after the latest recorded change "
                f"of “{current.name}” ({open_version.valid_from.isoformat()}).",
            )
        await conn.execute(update(v).where(v.c.id == open_version.id).values(valid_to=day))
        state = {
            column: changes.get(column, getattr(current, column))
            for column in ("name", "short_name", "level", "parent_id", "status")
        }
        await conn.execute(
            insert(v).values(
                id=uuid.uuid4(), agency_id=current.id, valid_from=day, change_id=self.id, **state
            )
        )
        return (
            await conn.execute(
                update(agency)
                .where(agency.c.id == current.id)
                .values(**changes, updated_at=func.now())
                .returning(*agency.c)
            )
        ).one()

    async def retire(
        self, conn: AsyncConnection, current: Row[Any], successor_id: uuid.UUID | None
    ) -> Row[Any]:
        after = await self.advance(
            conn,
            current,
            {"status": INACTIVE, "valid_to": self.effective_date, "successor_id": successor_id},
        )
        await self.audit(conn, f"agency.{self.past_tense}", current, after)
        return after

    async def create(
        self,
        conn: AsyncConnection,
        agency_id: uuid.UUID,
        data: NewAgency,
        parent_id: uuid.UUID | None,
    ) -> None:
        """A new agency, from the effective date (the change must be recorded first: the
        agency's first version refers to it)."""
        row = await insert_agency(
            conn, agency_id, data, parent_id=parent_id, valid_from=self.effective_date
        )
        v = agency_version
        await conn.execute(
            update(v)
            .where(v.c.agency_id == agency_id, v.c.valid_to.is_(None))
            .values(change_id=self.id)
        )
        await self.audit(conn, f"agency.{self.past_tense}", None, row)

    @property
    def past_tense(self) -> str:
        return {"merge": "merged", "split": "split", "rename": "renamed", "move": "moved"}.get(
            self.kind, "dissolved"
        )

    async def audit(
        self, conn: AsyncConnection, action: str, before: Row[Any] | None, after: Row[Any]
    ) -> None:
        await audit_agency(
            conn,
            self.actor,
            action,
            after.id,
            before=snapshot(before),
            after={**(snapshot(after) or {}), "change_id": str(self.id)},
        )

    async def succession(
        self, conn: AsyncConnection, predecessors: list[uuid.UUID], successors: list[uuid.UUID]
    ) -> None:
        await conn.execute(
            insert(agency_succession),
            [
                {"change_id": self.id, "predecessor_id": p, "successor_id": s}
                for p in predecessors
                for s in successors
            ],
        )

    async def rehome_children(
        self, conn: AsyncConnection, parents: set[uuid.UUID], new_parent: uuid.UUID
    ) -> None:
        """Active subordinates of retiring agencies move under the successor."""
        children = (
            await conn.execute(
                select(agency)
                .where(
                    agency.c.parent_id.in_(parents),
                    agency.c.status == ACTIVE,
                    agency.c.id != new_parent,
                )
                .order_by(agency.c.code102)
                .with_for_update()
            )
        ).all()
        for child in children:
            after = await self.advance(conn, child, {"parent_id": new_parent})
            await self.audit(conn, "agency.moved", child, after)

    async def end_memberships(self, conn: AsyncConnection, agency_id: uuid.UUID) -> None:
        day = self.effective_date
        m = membership.c
        await enter_tenant(conn, agency_id)
        await conn.execute(
            update(membership)
            .where(
                m.tenant_id == agency_id,
                m.active,
                or_(m.valid_to.is_(None), m.valid_to > day),
                or_(m.valid_from.is_(None), m.valid_from < day),
            )
            .values(valid_to=day, updated_at=func.now())
        )

    async def announce(
        self,
        conn: AsyncConnection,
        predecessors: list[uuid.UUID],
        successors: list[uuid.UUID],
        tenants: list[uuid.UUID],
    ) -> None:
        payload = {
            "kind": self.kind,
            "change_id": str(self.id),
            "effective_date": self.effective_date.isoformat(),
            "predecessors": [str(p) for p in predecessors],
            "successors": [str(s) for s in successors],
            "reference": self.decision.reference.strip(),
        }
        for tenant in tenants:
            await enter_tenant(conn, tenant)
            await publish(conn, outbox, tenant, AGENCY_REORGANISED, payload)


def _distinct(ids: list[uuid.UUID]) -> None:
    if len(set(ids)) != len(ids):
        raise InvalidInput("Một cơ quan được nêu nhiều lần.", "An agency is listed more than once.")


def _parent_of(data: NewAgency, default: uuid.UUID | None) -> uuid.UUID | None:
    return default if isinstance(data.parent_id, msgspec.UnsetType) else data.parent_id


async def _check_new(conn: AsyncConnection, agencies: list[NewAgency]) -> None:
    for data in agencies:
        check_codes(data.code, data.code_qd20)
    await ensure_codes_unused(
        conn, [a.code for a in agencies], [a.code_qd20 for a in agencies if a.code_qd20]
    )


async def merge(conn: AsyncConnection, actor: Actor, data: MergeRequest) -> ReorganisationView:
    if (data.successor_id is None) == (data.new_successor is None):
        raise InvalidInput(
            "Hãy nêu đúng một trong hai: cơ quan kế thừa có sẵn (successor_id) hoặc cơ quan mới "
            "(new_successor).",
            "Give exactly one of successor_id (an existing agency) and new_successor.",
        )
    _distinct(data.agency_ids)
    change = _Change("merge", data, actor)
    await lock_tree(conn)
    merged = [await fetch_named(conn, agency_id) for agency_id in data.agency_ids]
    merged_ids = {row.id for row in merged}
    below = await descendants(conn, merged_ids) - merged_ids
    predecessors = [row.id for row in merged]
    if data.successor_id is not None:
        if data.successor_id in merged_ids:
            raise InvalidInput(
                "Cơ quan kế thừa không thể nằm trong số cơ quan bị sáp nhập.",
                "The successor cannot be one of the merged agencies.",
            )
        # Merging into an inactive agency is refused here (400), as is naming any inactive one.
        successor = await fetch_named(conn, data.successor_id)
        if successor.id in below:
            raise InvalidInput(
                "Cơ quan kế thừa không thể là cấp dưới của cơ quan bị sáp nhập.",
                "The successor cannot be subordinate to a merged agency.",
            )
        successor_id = successor.id
        view = await change.record(conn, predecessors, [successor_id])
        await change.audit(conn, "agency.merged", successor, successor)
    else:
        new = data.new_successor
        assert new is not None
        await _check_new(conn, [new])
        parent_id = _parent_of(new, merged[0].parent_id)
        if parent_id is not None:
            await require_parent(conn, parent_id, forbidden=merged_ids | below)
        successor_id = uuid.uuid4()
        view = await change.record(conn, predecessors, [successor_id])
        await change.create(conn, successor_id, new, parent_id)
    for row in merged:
        await change.retire(conn, row, successor_id)
        await change.end_memberships(conn, row.id)
    await change.succession(conn, predecessors, [successor_id])
    await change.rehome_children(conn, merged_ids, successor_id)
    await change.announce(conn, predecessors, [successor_id], [successor_id])
    return view


async def split(conn: AsyncConnection, actor: Actor, data: SplitRequest) -> ReorganisationView:
    change = _Change("split", data, actor)
    await lock_tree(conn)
    current = await fetch_named(conn, data.agency_id)
    await _check_new(conn, data.successors)
    forbidden = {current.id} | await descendants(conn, [current.id])
    parents = [_parent_of(new, current.parent_id) for new in data.successors]
    for named in {p for p in parents if p is not None}:
        await require_parent(conn, named, forbidden=forbidden)
    successors = [uuid.uuid4() for _ in data.successors]
    view = await change.record(conn, [current.id], successors)
    for agency_id, new, parent_id in zip(successors, data.successors, parents, strict=True):
        await change.create(conn, agency_id, new, parent_id)
    await change.retire(conn, current, successors[0])
    await change.end_memberships(conn, current.id)
    await change.succession(conn, [current.id], successors)
    await change.rehome_children(conn, {current.id}, successors[0])
    await change.announce(conn, [current.id], successors, successors)
    return view


async def rename(conn: AsyncConnection, actor: Actor, data: RenameRequest) -> ReorganisationView:
    changes: dict[str, Any] = {}
    if not isinstance(data.name, msgspec.UnsetType):
        changes["name"] = data.name.strip()
    if not isinstance(data.short_name, msgspec.UnsetType):
        changes["short_name"] = data.short_name.strip()
    change = _Change("rename", data, actor)
    await lock_tree(conn)
    current = await fetch_named(conn, data.agency_id)
    if not changes or all(getattr(current, k) == value for k, value in changes.items()):
        raise InvalidInput(
            "Tên mới phải khác tên hiện tại.", "The new name must differ from the current one."
        )
    view = await change.record(conn, [current.id], [current.id])
    after = await change.advance(conn, current, changes)
    await change.audit(conn, "agency.renamed", current, after)
    await change.announce(conn, [current.id], [current.id], [current.id])
    return view


async def move(conn: AsyncConnection, actor: Actor, data: MoveRequest) -> ReorganisationView:
    change = _Change("move", data, actor)
    await lock_tree(conn)
    current = await fetch_named(conn, data.agency_id)
    if data.parent_id == current.parent_id:
        raise InvalidInput(
            "Cơ quan đã trực thuộc cơ quan cấp trên này.",
            "The agency is already under that parent.",
        )
    if data.parent_id is not None:
        forbidden = {current.id} | await descendants(conn, [current.id])
        await require_parent(conn, data.parent_id, forbidden=forbidden)
    view = await change.record(conn, [current.id], [current.id])
    after = await change.advance(conn, current, {"parent_id": data.parent_id})
    await change.audit(conn, "agency.moved", current, after)
    await change.announce(conn, [current.id], [current.id], [current.id])
    return view


async def dissolve(
    conn: AsyncConnection, actor: Actor, data: DissolveRequest
) -> ReorganisationView:
    change = _Change("dissolve", data, actor)
    await lock_tree(conn)
    current = await fetch_named(conn, data.agency_id)
    below = await descendants(conn, [current.id])
    successors: list[uuid.UUID] = []
    if data.successor_id is not None:
        if data.successor_id == current.id or data.successor_id in below:
            raise InvalidInput(
                "Cơ quan kế thừa không thể là chính cơ quan bị giải thể hoặc cấp dưới của nó.",
                "The successor cannot be the dissolved agency or one of its subordinates.",
            )
        successors = [(await fetch_named(conn, data.successor_id)).id]
    else:
        active_children = (
            await conn.execute(
                select(agency.c.id).where(
                    agency.c.parent_id == current.id, agency.c.status == ACTIVE
                )
            )
        ).first()
        if active_children is not None:
            raise InvalidInput(
                "Cơ quan còn cơ quan cấp dưới đang hoạt động: hãy nêu cơ quan kế thừa, hoặc "
                "chuyển, giải thể các cơ quan cấp dưới trước.",
                "The agency still has active subordinates: name a successor, or move or dissolve "
                "them first.",
            )
    view = await change.record(conn, [current.id], successors)
    await change.retire(conn, current, successors[0] if successors else None)
    await change.end_memberships(conn, current.id)
    if successors:
        await change.succession(conn, [current.id], successors)
        await change.rehome_children(conn, {current.id}, successors[0])
    await change.announce(conn, [current.id], successors, successors or [current.id])
    return view
