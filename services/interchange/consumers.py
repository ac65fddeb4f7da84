"""Events the interchange service consumes, run by `qlvb consume interchange`:
`document.issued` and `document.status_changed` from the docs service."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.db import Database
from services.common.outbox import Event
from services.common.worker import make_queue
from services.interchange.jobs import SaqJobs
from services.interchange.runtime import TOPICS, Interchange, build_context
from services.interchange.settings import load

_runtime: list[Interchange] = []


def _interchange() -> Interchange:
    # Built on first use, once per consumer process: the handlers need only the database
    # transaction they are given, the clock and the job queue.
    if not _runtime:
        settings = load()
        context = build_context(
            settings,
            db=Database.from_url(settings.database_url, pool_size=1),
            http=httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=5.0)),
            jobs=SaqJobs(make_queue(settings), settings),
        )
        _runtime.append(Interchange(context))
    return _runtime[0]


async def on_event(conn: AsyncConnection, event: Event) -> None:
    await _interchange().handle_event(conn, event)


# (consumer group, topics, handler)
CONSUMERS = [("interchange", TOPICS, on_event)]
