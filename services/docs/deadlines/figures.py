"""Overdue figures per department and person, as of any date, from the assignments' own
records (deadline, state, closing time): nothing is counted incrementally, so the figures can
always be rebuilt and never drift from the history."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec
import sqlalchemy as sa
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.docs.tables import assignment

VIETNAM = dt.timezone(dt.timedelta(hours=7))


class OverdueFigure(msgspec.Struct, kw_only=True):
    department: str
    assignee: str
    assignee_name: str
    open: int
    overdue: int
    completed_late: int


async def overdue_figures(
    conn: AsyncConnection, tenant_id: uuid.UUID, as_of: dt.date
) -> list[OverdueFigure]:
    end_of_day = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(), tzinfo=VIETNAM)
    assigned_by_then = assignment.c.assigned_at < end_of_day
    open_then = or_(assignment.c.closed_at.is_(None), assignment.c.closed_at >= end_of_day)
    counted = and_(assigned_by_then, assignment.c.role != "inform")
    # The deadline day ends at midnight, Vietnam time.
    deadline_end = func.timezone(
        "Asia/Ho_Chi_Minh", sa.cast(assignment.c.deadline + 1, sa.DateTime)
    )
    rows = await conn.execute(
        select(
            assignment.c.department,
            assignment.c.assignee,
            func.max(assignment.c.assignee_name).label("assignee_name"),
            func.count().filter(and_(counted, open_then)).label("open"),
            func.count()
            .filter(and_(counted, open_then, assignment.c.deadline < as_of))
            .label("overdue"),
            func.count()
            .filter(
                and_(
                    counted,
                    assignment.c.state == "completed",
                    assignment.c.closed_at < end_of_day,
                    assignment.c.closed_at > deadline_end,
                )
            )
            .label("completed_late"),
        )
        .where(assignment.c.tenant_id == tenant_id)
        .group_by(assignment.c.department, assignment.c.assignee)
        .order_by(
            case((assignment.c.department == "", 1), else_=0),
            assignment.c.department,
            assignment.c.assignee,
        )
    )
    return [
        OverdueFigure(
            department=r.department,
            assignee=r.assignee,
            assignee_name=r.assignee_name,
            open=r.open,
            overdue=r.overdue,
            completed_late=r.completed_late,
        )
        for r in rows
        if r.open or r.overdue or r.completed_late
    ]
