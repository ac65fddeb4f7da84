"""What the delivery pipeline needs of an axis: post a packet, list the agency's mailbox, fetch an
item, acknowledge it. The national axis (`client.AxisClient`, VDXP) and a provincial LGSP
(`lgsp.LgspClient`) both offer it; the connector's `kind` says which one an agency uses.

Both fail the same two ways (`client.py`): `AxisUnavailable` when nothing usable came back
(retry later), `AxisRefused` when the axis said no, with the error code of the catalogue both
share (spec §3.7: 15 wrong credentials, 18 unknown recipient, 19 sender not registered, ...)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from services.interchange.axis.client import MessageType, ReceivedItem, TransportStatus


class Mailbox(Protocol):
    async def send_edoc(
        self,
        packet: bytes,
        *,
        sender: str,
        recipients: Sequence[str],
        message_type: MessageType = MessageType.EDOC,
    ) -> str:
        """Post an edXML packet; the axis's id for it."""
        ...

    async def get_received_edoc_list(
        self, message_type: MessageType = MessageType.EDOC
    ) -> list[ReceivedItem]:
        """Items waiting in the mailboxes of the system's agencies."""
        ...

    async def get_edoc(self, doc_id: str) -> bytes:
        """The edXML bytes of a received item."""
        ...

    async def update_status(
        self, doc_id: str, status: TransportStatus, description: str | None = None
    ) -> None:
        """Acknowledge a received item (`done` or `fail` takes it off the list)."""
        ...
