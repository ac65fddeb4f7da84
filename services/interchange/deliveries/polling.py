"""An agency's poll job: take what waits in its axis mailbox (spec §3.4 receive loop).

Documents first, then statuses. For each item: if its axis docId was taken before (a receipt
exists), only the acknowledgement is repeated; otherwise it is fetched, taken through the
receive pipeline, its receipt written, and the axis told `done` (taken, or a duplicate) or
`fail` (refused, with the reason). The acknowledgement is a transport matter; the business
answer is a status packet (01/02) the pipeline queued.

A system id may be shared by several agencies (spec §3.4: one systemid for a whole platform):
the received list is then everyone's, and an agency takes only items addressed to its own code,
leaving the rest for their own jobs."""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.interchange.axis.client import (
    LIST_TIME_FORMAT,
    VIETNAM,
    AxisRefused,
    AxisUnavailable,
    MessageType,
    ReceivedItem,
    TransportStatus,
)
from services.interchange.axis.mailbox import Mailbox
from services.interchange.connectors import service as connectors
from services.interchange.connectors.secrets import SecretUnreadable
from services.interchange.context import Context
from services.interchange.dead_letters import service as dead_letters
from services.interchange.deliveries.inbound import Outcome, Receiver, Taken, write_receipt
from services.interchange.failures import Refusal, TemporaryFailure
from services.interchange.tables import axis_receipt

logger = logging.getLogger("qlvb.interchange.polling")


def _created(item: ReceivedItem) -> dt.datetime:
    try:
        return dt.datetime.strptime(item.created_time or "", LIST_TIME_FORMAT).replace(
            tzinfo=VIETNAM
        )
    except ValueError:
        return dt.datetime.max.replace(tzinfo=dt.UTC)


class Poller:
    def __init__(self, ctx: Context, receiver: Receiver) -> None:
        self.ctx = ctx
        self.receiver = receiver

    async def poll(self, tenant_id: uuid.UUID, *, force: bool = False) -> int:
        """One run for one agency; how many mailbox items were taken (or refused)."""
        now = self.ctx.now()
        async with self.ctx.db.transaction(tenant_id, read_only=True) as conn:
            row = await connectors.load(conn, tenant_id)
        if row is None or not row.enabled:
            return 0
        if not force and row.retry_at is not None and row.retry_at > now:
            return 0
        try:
            client = connectors.client(self.ctx, row)
        except SecretUnreadable as error:
            await self._failed(tenant_id, str(error))
            return 0
        taken = 0
        backlog = 0
        try:
            for message_type in (MessageType.EDOC, MessageType.STATUS):
                items = await client.get_received_edoc_list(message_type)
                mine = [item for item in items if item.to_code in (None, "", row.agency_code)]
                # Oldest first; the list's own order breaks ties (Python's sort is stable).
                mine.sort(key=_created)
                room = max(self.ctx.settings.poll_batch - taken, 0)
                batch = mine[:room]
                known = await self._receipts(tenant_id, [item.doc_id for item in batch])
                for item in batch:
                    await self._take(tenant_id, client, item, message_type, known.get(item.doc_id))
                    taken += 1
                backlog += max(len(mine) - room, 0)
        except (AxisUnavailable, AxisRefused) as error:
            await self._failed(tenant_id, error.detail_en or str(error), progressed=taken > 0)
            return taken
        except TemporaryFailure as failure:
            # Storage or identity, not the axis: try again soon, the items stay in the mailbox.
            await self._failed(tenant_id, failure.detail_en or str(failure), progressed=taken > 0)
            return taken
        async with self.ctx.db.transaction(tenant_id) as conn:
            done = self.ctx.now()
            await connectors.record_success(
                conn,
                tenant_id,
                done,
                # A full batch: more is waiting, so come back at once rather than in minutes.
                next_poll_at=done
                if backlog
                else done + dt.timedelta(seconds=int(row.poll_seconds)),
                axis_backlog=backlog,
            )
        return taken

    async def _failed(self, tenant_id: uuid.UUID, error: str, *, progressed: bool = False) -> None:
        logger.warning("poll_failed", extra={"tenant_id": str(tenant_id), "error": error})
        async with self.ctx.db.transaction(tenant_id) as conn:
            await connectors.record_failure(
                self.ctx, conn, tenant_id, error, polled=True, progressed=progressed
            )

    async def _receipts(self, tenant_id: uuid.UUID, doc_ids: list[str]) -> dict[str, str]:
        """Outcomes of the items already taken, among those listed (one query per listing)."""
        if not doc_ids:
            return {}
        async with self.ctx.db.transaction(tenant_id, read_only=True) as conn:
            rows = await conn.execute(
                select(axis_receipt.c.axis_doc_id, axis_receipt.c.outcome).where(
                    axis_receipt.c.axis_doc_id.in_(doc_ids)
                )
            )
            return {row.axis_doc_id: row.outcome for row in rows}

    async def _take(
        self,
        tenant_id: uuid.UUID,
        client: Mailbox,
        item: ReceivedItem,
        kind: MessageType,
        outcome: str | None,
    ) -> None:
        if outcome is not None:
            # Taken before, but the acknowledgement was lost: only say it again.
            await self._acknowledge(client, item.doc_id, outcome, None)
            return
        try:
            data = await client.get_edoc(item.doc_id)
        except AxisRefused as error:
            if error.error_code != "too-large":
                logger.warning(
                    "axis_item_unreadable",
                    extra={"doc_id": item.doc_id, "error": error.detail_en},
                )
                return  # gone meanwhile, or not ours to read: the next poll sees
            taken = await self._refuse_unread(
                tenant_id,
                item,
                kind,
                Refusal(
                    "too-large",
                    f"Gói tin vượt giới hạn {self.ctx.settings.max_packet_bytes} byte; không nhận.",
                    f"The packet exceeds {self.ctx.settings.max_packet_bytes} bytes; refused "
                    f"({error.description}).",
                ),
            )
        else:
            try:
                taken = await self.receiver.receive(
                    tenant_id,
                    data,
                    message_type="status" if kind is MessageType.STATUS else "edoc",
                    source="axis",
                    axis_doc_id=item.doc_id,
                )
            except Refusal as refusal:  # refused before the packet was looked at
                taken = await self._refuse_unread(tenant_id, item, kind, refusal)
        if taken.outcome is Outcome.DUPLICATE:
            # Taken under another axis id before: the receipt of this id is written here (the
            # pipeline wrote it with the effect in every other case).
            await self._receipt(tenant_id, item, kind, taken)
        reason = taken.refusal.detail_en if taken.refusal is not None else None
        await self._acknowledge(client, item.doc_id, taken.outcome.value, reason)

    async def _refuse_unread(
        self, tenant_id: uuid.UUID, item: ReceivedItem, kind: MessageType, refusal: Refusal
    ) -> Taken:
        """Refused before it was read (over the size limit): nothing is stored."""
        async with self.ctx.db.transaction(tenant_id) as conn:
            letter_id = await dead_letters.record(
                conn,
                tenant_id,
                refusal,
                direction="incoming",
                now=self.ctx.now(),
                source="axis",
                message_type=kind.value,
                axis_doc_id=item.doc_id,
                sender_code=item.from_code,
                recipient_code=item.to_code,
            )
            await write_receipt(
                conn,
                tenant_id,
                axis_doc_id=item.doc_id,
                kind="status" if kind is MessageType.STATUS else "edoc",
                outcome=Outcome.REFUSED,
                now=self.ctx.now(),
                dead_letter_id=letter_id,
            )
        return Taken(Outcome.REFUSED, refusal=refusal, dead_letter_id=letter_id)

    async def _receipt(
        self, tenant_id: uuid.UUID, item: ReceivedItem, kind: MessageType, taken: Taken
    ) -> None:
        async with self.ctx.db.transaction(tenant_id) as conn:
            await conn.execute(
                pg_insert(axis_receipt)
                .values(
                    tenant_id=tenant_id,
                    axis_doc_id=item.doc_id,
                    message_type=kind.value,
                    outcome=taken.outcome.value,
                    inbox_id=taken.inbox_id,
                    dead_letter_id=taken.dead_letter_id,
                    received_at=self.ctx.now(),
                )
                .on_conflict_do_nothing()
            )

    async def _acknowledge(
        self, client: Mailbox, doc_id: str, outcome: str, reason: str | None
    ) -> None:
        status = TransportStatus.FAIL if outcome == Outcome.REFUSED else TransportStatus.DONE
        # The description travels as a header: ASCII only (spec §3.2).
        description = _ascii(reason) if reason else None
        try:
            await client.update_status(doc_id, status, description)
        except AxisRefused as error:
            # Unknown to the axis by now (acknowledged meanwhile): nothing left to do.
            logger.info("axis_ack_refused", extra={"doc_id": doc_id, "error": error.detail_en})


def _ascii(text: str) -> str:
    cleaned = "".join(c if 32 <= ord(c) < 127 else "?" for c in text)
    return cleaned[:200]
