"""The retention purge: packet bytes go `packet_retention_days` after every delivery of the packet
became final; packets still pending or held by an open dead letter stay whatever their age;
the delivery rows always stay. Timestamps are moved back in the database itself."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import update

from services.interchange.tables import dead_letter, inbox, outgoing, packet, sent_document
from tests.interchange.conftest import ServedSimulator
from tests.interchange.platforms import Instance, Tenant, rounds
from tests.interchange.provinces import inject, one_province

LONG_AGO = dt.timedelta(days=100)  # past the default 90 days


async def move_back(
    instance: Instance, tenant: Tenant, table: Any, row_id: uuid.UUID, **columns: dt.datetime
) -> None:
    async with instance.runtime.ctx.db.transaction(tenant.id) as conn:
        await conn.execute(update(table).where(table.c.id == row_id).values(**columns))


async def test_old_final_packets_lose_their_bytes_and_recent_or_unfinished_ones_keep_them(
    served: ServedSimulator,
) -> None:
    async with one_province(served.url) as province:
        a = province.a
        (ubnd,) = await province.agencies(a, "UBND huyện Thử")
        foreign = await province.foreign()
        await a.issue(ubnd, [foreign.code], number=1)
        await a.issue(ubnd, [foreign.code], number=2)
        inject(served, sender=foreign.code, recipient=ubnd.code, data=b"<edXML><unclosed>")
        await province.settle()
        await province.faults(error_rate=1.0)  # the axis is down: number 3 stays queued
        await a.issue(ubnd, [foreign.code], number=3)
        await rounds(province.bus, 3)
        old_sent, recent_sent, pending = await a.rows(ubnd, outgoing)
        assert (old_sent.state, recent_sent.state, pending.state) == ("sent", "sent", "pending")
        (letter,) = await a.rows(ubnd, dead_letter)
        assert letter.state == "open"
        then = a.clock.now - LONG_AGO
        for message in (old_sent, pending):
            await move_back(a, ubnd, outgoing, message.id, created_at=then)
            await move_back(a, ubnd, packet, message.packet_id, created_at=then)
        await move_back(a, ubnd, outgoing, old_sent.id, sent_at=then)
        await move_back(a, ubnd, dead_letter, letter.id, created_at=then)
        await move_back(a, ubnd, packet, letter.packet_id, created_at=then)

        purged = await a.runtime.purge([ubnd.id])

        assert purged == 1
        kept = {row.id: row for row in await a.rows(ubnd, packet)}
        assert kept[old_sent.packet_id].data is None
        assert kept[old_sent.packet_id].purged_at == a.clock.now
        assert kept[old_sent.packet_id].sha256  # the row says what was there
        for still_needed in (recent_sent, pending, letter):
            assert kept[still_needed.packet_id].data is not None
        assert len(await a.rows(ubnd, outgoing)) == 3  # every delivery row stays
        assert len(await a.rows(ubnd, sent_document)) == 3
        assert await a.runtime.purge([ubnd.id]) == 0  # nothing twice


async def test_a_document_whose_packet_was_purged_can_still_be_revoked(
    served: ServedSimulator,
) -> None:
    async with one_province(served.url) as province:
        a = province.a
        ubnd, so_tc = await province.agencies(a, "UBND tỉnh A", "Sở Tài chính tỉnh A")
        original = await a.issue(ubnd, [so_tc], number=40)
        await province.settle()
        (message,) = await a.rows(ubnd, outgoing)
        then = a.clock.now - LONG_AGO
        await move_back(a, ubnd, outgoing, message.id, created_at=then, sent_at=then)
        await move_back(a, ubnd, packet, message.packet_id, created_at=then)
        assert await a.runtime.purge([ubnd.id]) == 1

        await a.issue(
            ubnd,
            [so_tc],
            number=41,
            business="revoke",
            target_id=str(original),
            reason="Văn bản ban hành sai thẩm quyền",
        )
        await province.settle()

        (received,) = await a.rows(so_tc, inbox, inbox.c.business == "new")
        assert received.state == "revoked"
        revoke = [row for row in await a.rows(ubnd, outgoing) if row.business == "revoke"]
        assert [row.state for row in revoke] == ["sent"]
