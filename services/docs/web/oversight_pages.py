"""Pages of those who follow the agency's work: the register books a clerk keeps (and prints),
and the overdue work of the units for leaders."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Template

from services.common.auth.principal import Role
from services.common.db import Database
from services.common.problems import Forbidden
from services.docs.deadlines.figures import overdue_figures
from services.docs.incoming.service import today
from services.docs.registers.book import read_book
from services.docs.registers.service import ensure_defaults, list_registers
from services.docs.web.auth import Viewer
from services.docs.web.forms import day
from services.docs.web.frame import page

BOOK_KEEPERS = (Role.CLERK, Role.LEADER, Role.DEPUTY_LEADER)
FOLLOWERS = (Role.LEADER, Role.DEPUTY_LEADER, Role.DEPARTMENT_HEAD, Role.CLERK)


def _require(viewer: Viewer, roles: tuple[Role, ...]) -> None:
    if not viewer.principal.has_role(*roles):
        raise Forbidden(
            "Trang này dành cho văn thư và lãnh đạo cơ quan.",
            "This page is for clerks and the agency's leaders.",
        )


class OversightPages(Controller):
    path = "/"

    @get("/registers", name="web.registers")
    async def registers(
        self,
        request: Request[Any, Any, Any],
        viewer: NamedDependency[Viewer],
        db: NamedDependency[Database],
    ) -> Template:
        _require(viewer, BOOK_KEEPERS)
        async with db.transaction(viewer.tenant_id) as conn:
            await ensure_defaults(conn, viewer.tenant_id)
            found = await list_registers(conn, viewer.tenant_id)
        return await page(request, viewer, "registers.html.j2", registers=found, year=today().year)

    @get("/registers/{register_id:uuid}", name="web.register.book")
    async def book(
        self,
        request: Request[Any, Any, Any],
        viewer: NamedDependency[Viewer],
        db: NamedDependency[Database],
        register_id: FromPath[uuid.UUID],
        year: Annotated[int | None, QueryParameter(ge=2000, le=2100)] = None,
        after: Annotated[int, QueryParameter(ge=0)] = 0,
    ) -> Template:
        _require(viewer, BOOK_KEEPERS)
        async with db.transaction(viewer.tenant_id, read_only=True) as conn:
            book = await read_book(
                conn, viewer.tenant_id, viewer.principal, register_id, year or today().year, after
            )
        return await page(request, viewer, "register_book.html.j2", book=book)

    @get("/overdue", name="web.overdue")
    async def overdue(
        self,
        request: Request[Any, Any, Any],
        viewer: NamedDependency[Viewer],
        db: NamedDependency[Database],
        # Typed as text: the filter's date is read day first (`forms.day`).
        as_of: Annotated[str | None, QueryParameter(max_length=20)] = None,
    ) -> Template:
        _require(viewer, FOLLOWERS)
        on = day(as_of or "") or today()
        async with db.transaction(viewer.tenant_id, read_only=True) as conn:
            figures = await overdue_figures(conn, viewer.tenant_id, on)
        departments: dict[str, dict[str, int]] = {}
        for figure in figures:
            unit = departments.setdefault(
                figure.department, {"open": 0, "overdue": 0, "completed_late": 0}
            )
            unit["open"] += figure.open
            unit["overdue"] += figure.overdue
            unit["completed_late"] += figure.completed_late
        return await page(
            request,
            viewer,
            "overdue.html.j2",
            figures=sorted(figures, key=lambda f: (-f.overdue, f.department, f.assignee_name)),
            departments=sorted(departments.items(), key=lambda d: -d[1]["overdue"]),
            as_of=on,
        )
