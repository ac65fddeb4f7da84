"""Reminders before and after deadlines, escalation, and overdue figures from the history."""

from __future__ import annotations

import datetime as dt
import os
import uuid

from sqlalchemy import select

from services.common.db import Database
from services.docs.calendar.holidays import SEED
from services.docs.calendar.workdays import WorkCalendar
from services.docs.deadlines.reminders import TOPIC, due_kinds, send_reminders
from services.docs.incoming.service import today
from services.docs.tables import outbox
from tests.docs.conftest import UBND_TINH, Docs
from tests.docs.test_incoming_workflow import paper

D = dt.date


def test_which_reminders_are_due() -> None:
    exceptions = {day: kind for entries in SEED.values() for day, kind, _ in entries}
    calendar = WorkCalendar(exceptions, frozenset(SEED))
    deadline = D(2026, 2, 23)  # the Monday after Tết
    assert due_kinds(calendar, deadline, D(2026, 2, 12)) == []
    assert due_kinds(calendar, deadline, D(2026, 2, 13)) == ["due_soon"]  # next working day
    assert due_kinds(calendar, deadline, D(2026, 2, 23)) == ["due_soon"]
    assert due_kinds(calendar, deadline, D(2026, 2, 24)) == ["overdue"]
    assert due_kinds(calendar, deadline, D(2026, 2, 25)) == ["overdue", "escalated"]


async def test_overdue_work_is_reminded_once_escalated_and_counted(docs: Docs) -> None:
    arrived = dt.datetime.now(dt.UTC) - dt.timedelta(days=20)
    created = await docs.call(
        "POST",
        "/api/v1/incoming",
        "vanthu",
        json=paper(
            f"Báo cáo tình hình thực hiện {uuid.uuid4().hex[:6]}",
            issued_on=(arrived.date() - dt.timedelta(days=1)).isoformat(),
            arrived_at=arrived.isoformat(),
        ),
    )
    assert created.status_code == 201, created.text
    document_id = created.json()["id"]
    deadline = (arrived.date() + dt.timedelta(days=3)).isoformat()
    assigned = await docs.call(
        "POST",
        f"/api/v1/incoming/{document_id}/assignments",
        "chutich",
        json={"assignments": [{"assignee": "chuyenvien", "role": "lead", "deadline": deadline}]},
    )
    assert assigned.status_code == 200, assigned.text
    assignment_id = assigned.json()["assignments"][0]["id"]

    maintenance = Database.from_url(os.environ["QLVB_DOCS_RELAY_DATABASE_URL"], pool_size=1)
    try:
        await send_reminders(maintenance, today())
        await send_reminders(maintenance, today())  # a second run sends nothing new
    finally:
        await maintenance.dispose()

    app_db = Database.from_url(os.environ["QLVB_DOCS_DATABASE_URL"], pool_size=1)
    try:
        async with app_db.transaction(uuid.UUID(UBND_TINH), read_only=True) as conn:
            payloads = (
                (await conn.execute(select(outbox.c.payload).where(outbox.c.topic == TOPIC)))
                .scalars()
                .all()
            )
    finally:
        await app_db.dispose()
    mine = sorted(
        (p["kind"], p["recipient"]) for p in payloads if p["assignment_id"] == assignment_id
    )
    assert mine == [("escalated", "chutich"), ("overdue", "chuyenvien")]

    figures = await docs.call("GET", "/api/v1/incoming/figures/overdue", "chutich")
    assert figures.status_code == 200, figures.text
    row = next(f for f in figures.json() if f["assignee"] == "chuyenvien")
    assert row["overdue"] >= 1
    # As of the day before the deadline, the same work was not yet overdue.
    before = await docs.call(
        "GET", "/api/v1/incoming/figures/overdue", "chutich", params={"as_of": deadline}
    )
    earlier = next((f for f in before.json() if f["assignee"] == "chuyenvien"), None)
    assert earlier is None or earlier["overdue"] < row["overdue"]

    specialist = await docs.call("GET", "/api/v1/incoming/figures/overdue", "chuyenvien")
    assert specialist.status_code == 403
