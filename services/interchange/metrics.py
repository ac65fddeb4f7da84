"""What operators watch of the interchange: deliveries by outcome, dead letters, and per agency
the messages still waiting to go and the dead letters nobody looked at yet.

Counters are added where each step ends. The per-agency figures are gauges a worker job
(`report_backlog`, every minute) measures across agencies as the relay role; the gauges read
the latest measurement at export time."""

from __future__ import annotations

import uuid

from opentelemetry import metrics
from sqlalchemy import func, select, union_all

from services.common.db import Database
from services.common.telemetry import Readings
from services.interchange.tables import dead_letter, outgoing, sent_document

_meter = metrics.get_meter("qlvb.interchange")

_deliveries = _meter.create_counter(
    "qlvb.interchange.deliveries",
    unit="{message}",
    description="Messages that left a queue or came in, by direction, status, route and kind. "
    "Outgoing: sent, retry (a dependency did not answer), failed. Incoming: accepted, "
    "duplicate, refused.",
)
_dead_letters = _meter.create_counter(
    "qlvb.interchange.dead_letters",
    unit="{letter}",
    description="Dead letters recorded, by agency and direction: incoming, outgoing or event.",
)
# Measured every minute by whichever worker pod runs the cron job; older figures are dropped.
_backlog = Readings(ttl_seconds=180)
_meter.create_observable_gauge(
    "qlvb.interchange.backlog",
    callbacks=[_backlog.observe],
    unit="{message}",
    description="Messages and documents of an agency waiting to be sent, by agency.",
)
_open_letters = Readings(ttl_seconds=180)
_meter.create_observable_gauge(
    "qlvb.interchange.dead_letters.open",
    callbacks=[_open_letters.observe],
    unit="{letter}",
    description="Dead letters of an agency not replayed yet, by agency.",
)


def delivered(direction: str, status: str, route: str, kind: str) -> None:
    _deliveries.add(
        1, {"direction": direction, "status": status, "route": route, "kind": kind or "edoc"}
    )


def dead_lettered(tenant_id: uuid.UUID, direction: str) -> None:
    _dead_letters.add(1, {"tenant_id": str(tenant_id), "direction": direction})


async def report_backlog(platform_db: Database) -> dict[str, dict[uuid.UUID, int]]:
    """Per agency: what waits to go (queued messages, documents not built yet) and the open
    dead letters. Read past RLS as the relay role, through the partial indexes of pending rows
    and open letters."""
    waiting = union_all(
        select(outgoing.c.tenant_id).where(outgoing.c.state == "pending"),
        select(sent_document.c.tenant_id).where(sent_document.c.state == "pending"),
    ).subquery()
    async with platform_db.transaction(None, read_only=True) as conn:
        backlog = {
            tenant_id: int(count)
            for tenant_id, count in await conn.execute(
                select(waiting.c.tenant_id, func.count()).group_by(waiting.c.tenant_id)
            )
        }
        letters = {
            tenant_id: int(count)
            for tenant_id, count in await conn.execute(
                select(dead_letter.c.tenant_id, func.count())
                .where(dead_letter.c.state == "open")
                .group_by(dead_letter.c.tenant_id)
            )
        }
    # An agency with nothing waiting drops out: its series goes stale and its alert resolves.
    _backlog.replace([({"tenant_id": str(t)}, n) for t, n in backlog.items()], where={})
    _open_letters.replace([({"tenant_id": str(t)}, n) for t, n in letters.items()], where={})
    return {"backlog": backlog, "dead_letters": letters}
