"""Packets from a system outside the platform (another province's QLVB), posted to the
simulated axis with that system's own credentials: the well-formed ones built with the codec,
the hostile ones written by hand."""

from __future__ import annotations

import datetime as dt
import secrets

from peers.axis_sim import System as SimSystem
from services.interchange.axis.client import AxisClient, AxisCredentials, MessageType
from services.interchange.edxml import (
    Attachment,
    Business,
    BusinessDocType,
    Code,
    DocumentPacket,
    DocumentType,
    MessageHeader,
    Organisation,
    PromulgationInfo,
    ResponseFor,
    SignerInfo,
    StatusCode,
    StatusPacket,
    TraceHeader,
    build_document,
    build_status,
    document_id,
)
from services.interchange.edxml.conventions import LOCAL_TIME
from tests.interchange.platforms import agency_code, pdf

ISSUED = dt.date(2026, 2, 27)
SENT = dt.datetime(2026, 2, 27, 9, 30, tzinfo=LOCAL_TIME)


def document(
    sender: str,
    recipients: list[str],
    number: int,
    *,
    attachments: tuple[Attachment, ...] | None = None,
    business: BusinessDocType = BusinessDocType.NEW,
    original: str | None = None,
) -> DocumentPacket:
    code = Code(number=str(number), notation="SKHĐT-VP")
    own_id = document_id(sender, ISSUED, code.number, code.notation)
    return DocumentPacket(
        header=MessageHeader(
            sender=Organisation(organ_id=sender, organ_name="Sở Kế hoạch và Đầu tư tỉnh C"),
            recipients=tuple(Organisation(organ_id=r) for r in recipients),
            document_id=original if business == BusinessDocType.REVOKE and original else own_id,
            code=code,
            promulgation=PromulgationInfo(place="Tỉnh C", date=ISSUED),
            document_type=DocumentType(type=1, type_name="Công văn"),
            subject=f"V/v phối hợp triển khai kế hoạch số {number}",
            signer=SignerInfo(full_name="Lê Thị Cúc", position="GIÁM ĐỐC"),
        ),
        trace=(TraceHeader(organ_id=sender, timestamp=SENT),),
        business=Business(doc_type=business, document_id=original),
        attachments=(
            (
                Attachment(
                    content_id=f"{number}-main",
                    name=f"{number}-SKHDT-VP.pdf",
                    content_type="application/pdf",
                    content=pdf(f"foreign {number}"),
                ),
            )
            if attachments is None
            else attachments
        ),
    )


def status(
    reporter: str, about: str, code: StatusCode, *, issuer: str, number_symbol: str
) -> bytes:
    return build_status(
        StatusPacket(
            response_for=ResponseFor(
                organ_id=issuer,
                code=number_symbol,
                promulgation_date=ISSUED,
                document_id=about,
            ),
            sender=Organisation(organ_id=reporter, organ_name="Sở Kế hoạch và Đầu tư tỉnh C"),
            code=code,
            description="Đã tiếp nhận",
            timestamp=SENT,
        )
    )


class ForeignSystem:
    """Another province's system on the simulated axis, with one agency of its own."""

    def __init__(self, axis_url: str) -> None:
        self.code = agency_code()
        self.system = SimSystem(
            system_id=f"vxp.test.foreign-{secrets.token_hex(4)}",
            secret=secrets.token_urlsafe(24),
            agencies=[self.code],
        )
        self.client = AxisClient(
            axis_url,
            AxisCredentials(system_id=self.system.system_id, secret=self.system.secret),
            timeout=10,
        )

    async def send(self, data: bytes, to: list[str], kind: MessageType = MessageType.EDOC) -> str:
        return await self.client.send_edoc(data, sender=self.code, recipients=to, message_type=kind)

    async def send_document(self, packet: DocumentPacket, to: list[str]) -> str:
        return await self.send(build_document(packet), to)

    async def close(self) -> None:
        await self.client.aclose()
