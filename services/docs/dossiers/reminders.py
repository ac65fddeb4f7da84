"""The warning 30 days before a closed dossier is due for transfer to the agency archive
(Phụ lục VI, III.5.b; standards.md §8.1).

Run daily by the docs worker across all agencies (the relay role reads past RLS, granted only
what this needs). Each dossier is reminded once per due date, recorded in `docs.dossier_reminder`
in the same transaction as its `dossier.transfer_due` event; a dossier first seen already late
(closed long after the work ended) is reminded too. A dossier reopened and closed again gets a
new due date, and so one new reminder."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.dialects.postgresql import insert

from services.common.db import Database
from services.common.outbox import publish
from services.docs.dossiers.retention import REMIND_DAYS_BEFORE
from services.docs.tables import dossier, dossier_reminder, outbox

logger = logging.getLogger("qlvb.docs.dossiers")

TOPIC = "dossier.transfer_due"


async def send_transfer_reminders(maintenance: Database, on: dt.date) -> int:
    """Reminders due on day `on`; returns how many were sent."""
    horizon = on + dt.timedelta(days=REMIND_DAYS_BEFORE)
    sent_before = select(dossier_reminder.c.dossier_id).where(
        and_(
            dossier_reminder.c.tenant_id == dossier.c.tenant_id,
            dossier_reminder.c.dossier_id == dossier.c.id,
            dossier_reminder.c.due_on == dossier.c.transfer_due_on,
        )
    )
    async with maintenance.transaction(None, read_only=True) as conn:
        rows = (
            await conn.execute(
                select(
                    dossier.c.tenant_id,
                    dossier.c.id,
                    dossier.c.year,
                    dossier.c.code,
                    dossier.c.title,
                    dossier.c.responsible,
                    dossier.c.transfer_due_on,
                ).where(
                    dossier.c.state == "closed",
                    dossier.c.transfer_due_on <= horizon,
                    ~sent_before.exists(),
                )
            )
        ).all()
    sent = 0
    for row in rows:
        sent += await _send(maintenance, row, on)
    if sent:
        logger.info("dossier transfer reminders sent", extra={"count": sent})
    return sent


async def _send(maintenance: Database, row: Any, on: dt.date) -> int:
    async with maintenance.transaction(None) as conn:
        claimed = await conn.execute(
            insert(dossier_reminder)
            .values(tenant_id=row.tenant_id, dossier_id=row.id, due_on=row.transfer_due_on)
            .on_conflict_do_nothing()
            .returning(dossier_reminder.c.due_on)
        )
        if claimed.first() is None:
            return 0  # another worker sent it meanwhile
        await publish(
            conn,
            outbox,
            row.tenant_id,
            TOPIC,
            {
                "dossier_id": str(row.id),
                "year": row.year,
                "code": row.code,
                "title": row.title,
                "recipient": row.responsible,
                "due_on": row.transfer_due_on.isoformat(),
                "late": row.transfer_due_on < on,
            },
        )
    return 1
