"""Which agencies a caller's statistics cover: their agency, or it and every agency under it in
the identity service's registry. The request names at most one agency of that subtree; the set
passed to the database is always computed here."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Protocol

from services.common.auth.principal import Principal, Role
from services.common.problems import Forbidden, InvalidInput
from services.docs.outgoing.agencies import Agency
from services.docs.statistics.schemas import AgencyRef, Group, Scope

# Anyone who follows the agency's handling may see its own figures (as the overdue figures);
# the figures of subordinate agencies are for the agency's leadership and its office (văn thư
# prepares the monthly report a provincial office sends out).
READERS = (Role.LEADER, Role.DEPUTY_LEADER, Role.DEPARTMENT_HEAD, Role.CLERK)
TREE_READERS = (Role.LEADER, Role.DEPUTY_LEADER, Role.CLERK)


class AgencyRegistry(Protocol):
    """The agency registry of the identity service (`IdentityAgencies`)."""

    async def all(self) -> list[Agency]: ...


def _ref(agency: Agency, depth: int) -> AgencyRef:
    return AgencyRef(
        id=agency.id,
        code=agency.code,
        name=agency.name,
        short_name=agency.short_name,
        level=agency.level,
        status=agency.status,
        parent_id=agency.parent_id,
        depth=depth,
    )


def _unknown(agency_id: uuid.UUID) -> AgencyRef:
    # An agency missing from the registry (a test tenant, a registry lagging behind) still has
    # its own figures; it just has no name to show and nothing under it.
    return AgencyRef(
        id=agency_id,
        code="",
        name=str(agency_id),
        short_name="",
        level="",
        status="",
        parent_id=None,
        depth=0,
    )


def subtree(agencies: Sequence[Agency], root: uuid.UUID) -> list[AgencyRef]:
    """`root` and everything under it, depth first, children in code order. A cycle in the
    parent links (which the registry forbids) cannot loop: each agency is visited once."""
    by_id = {a.id: a for a in agencies}
    if root not in by_id:
        return [_unknown(root)]
    children: dict[uuid.UUID, list[Agency]] = {}
    for agency in agencies:
        if agency.parent_id is not None and agency.id != root:
            children.setdefault(agency.parent_id, []).append(agency)
    for siblings in children.values():
        siblings.sort(key=lambda a: a.code)
    found: list[AgencyRef] = []
    seen: set[uuid.UUID] = set()
    stack: list[tuple[Agency, int]] = [(by_id[root], 0)]
    while stack:
        agency, depth = stack.pop()
        if agency.id in seen:
            continue
        seen.add(agency.id)
        found.append(_ref(agency, depth))
        stack.extend((child, depth + 1) for child in reversed(children.get(agency.id, [])))
    return found


def agencies_in_scope(
    principal: Principal,
    active: uuid.UUID,
    registry: Sequence[Agency],
    *,
    scope: Scope,
    group: Group,
    agency: uuid.UUID | None,
) -> list[AgencyRef]:
    """The agencies the statistics count, the first being the one they are about.

    Another agency than the active one must lie under it; counts of agencies elsewhere in the
    tree (a parent, a sibling) are never reachable, whatever ids a request carries."""
    target = agency or active
    if group != "agency" and (scope != "own" or target != active):
        raise InvalidInput(
            "Thống kê theo phòng, ban hoặc người xử lý chỉ có cho cơ quan mình.",
            "Figures by department or person are for your own agency only.",
        )
    if (scope == "tree" or target != active) and not principal.has_role(*TREE_READERS):
        raise Forbidden(
            "Số liệu của các đơn vị trực thuộc dành cho lãnh đạo và văn thư cơ quan.",
            "Subordinate agencies' figures are for the agency's leaders and clerks.",
        )
    mine = subtree(registry, active)
    if target != active:
        if target not in {a.id for a in mine}:
            raise Forbidden(
                "Chỉ xem được số liệu của cơ quan mình và các đơn vị trực thuộc.",
                "Only your agency's figures and those of agencies under it are available.",
            )
        mine = subtree(registry, target)
    if scope == "own":
        return [mine[0]]
    return mine
