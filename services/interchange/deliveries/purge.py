"""The retention purge of packet bytes: a packet's edXML is kept while something may still need
it, and for `packet_retention_days` after every delivery of it became final; then its bytes go
and its row stays (id, hash, size, when), as do the delivery rows that name it.

Final, per use of a packet:
* a queued message (`outgoing`): sent (at `sent_at`); a pending one keeps its packet whatever
  its age; a failed one is a dead letter, below;
* a dead letter (`dead_letter`, refused packets in, failed messages out): replayed (at
  `replayed_at`); an open one keeps its packet, since an operator may still replay it.
A packet nothing refers to any more (an answer whose message was queued already) is final
once old. The agencies with old packets are found as the relay role (a column grant without
the bytes); each agency's packets are purged in its own transactions, under its RLS."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Collection

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, update

from services.interchange.context import Context
from services.interchange.tables import dead_letter, outgoing, packet

logger = logging.getLogger("qlvb.interchange.purge")


def _purgeable(cutoff: dt.datetime) -> list[ColumnElement[bool]]:
    still_needed_by_message = exists().where(
        outgoing.c.tenant_id == packet.c.tenant_id,
        outgoing.c.packet_id == packet.c.id,
        or_(
            outgoing.c.state == "pending",
            func.coalesce(outgoing.c.sent_at, outgoing.c.created_at) >= cutoff,
        ),
    )
    still_needed_by_letter = exists().where(
        dead_letter.c.tenant_id == packet.c.tenant_id,
        dead_letter.c.packet_id == packet.c.id,
        or_(
            dead_letter.c.state == "open",
            func.coalesce(dead_letter.c.replayed_at, dead_letter.c.created_at) >= cutoff,
        ),
    )
    return [
        packet.c.purged_at.is_(None),
        packet.c.created_at < cutoff,
        ~still_needed_by_message,
        ~still_needed_by_letter,
    ]


async def purge_packets(ctx: Context, tenants: Collection[uuid.UUID] | None = None) -> int:
    """Purge what is past retention; how many packets lost their bytes. `tenants` narrows the
    run to some agencies (tests)."""
    if ctx.platform_db is None:
        raise RuntimeError("the purge needs the platform (relay) database")
    now = ctx.now()
    cutoff = now - dt.timedelta(days=ctx.settings.packet_retention_days)
    # A packet made after the cutoff cannot have been final before it: the cheap first cut.
    query = select(packet.c.tenant_id).where(
        packet.c.purged_at.is_(None), packet.c.created_at < cutoff
    )
    if tenants is not None:
        query = query.where(packet.c.tenant_id.in_(list(tenants)))
    async with ctx.platform_db.transaction(None, read_only=True) as conn:
        candidates = list((await conn.execute(query.distinct())).scalars())
    purged = 0
    for tenant_id in candidates:
        while True:
            async with ctx.db.transaction(tenant_id) as conn:
                batch = (
                    select(packet.c.id)
                    .where(and_(*_purgeable(cutoff)))
                    .order_by(packet.c.created_at)
                    .limit(ctx.settings.purge_batch)
                    .with_for_update(skip_locked=True)
                    # Its own FROM packet, not correlated to the UPDATE's.
                    .correlate(None)
                )
                done = await conn.execute(
                    update(packet)
                    .where(packet.c.id.in_(batch.scalar_subquery()))
                    .values(data=None, purged_at=now)
                    .returning(packet.c.id)
                )
                count = len(done.all())
            purged += count
            if count:
                logger.info("packets_purged", extra={"tenant_id": str(tenant_id), "count": count})
            if count < ctx.settings.purge_batch:
                break
    return purged
