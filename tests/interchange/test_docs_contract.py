"""The contract with the docs service, end to end with its own code: an outgoing document
drafted, reviewed, approved and issued by the docs service (`document.issued`) reaches an
agency of the other province, lands in its docs service (`delivery.received`), and the
recipient's registration comes back (`document.status_changed` -> status 03)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from services.docs.incoming.schemas import FileRef, Registration
from services.docs.outgoing.agencies import Agency as DocsAgency
from services.docs.outgoing.schemas import DraftRequest, IssueRequest, Recipient, SubmitRequest
from services.docs.outgoing.service import OutgoingService
from services.interchange.tables import outgoing
from tests.interchange.conftest import ServedSimulator
from tests.interchange.platforms import (
    AnyoneWorksHere,
    Instance,
    pdf,
    prepare_second_database,
    principal,
)
from tests.interchange.provinces import Provinces, two_provinces


@pytest.fixture(scope="session")
def second_database() -> None:
    prepare_second_database()


@pytest.fixture
async def provinces(second_database: None, served: ServedSimulator) -> AsyncIterator[Provinces]:
    async with two_provinces(served.url) as opened:
        yield opened


class Registry:
    """The docs service's view of the agencies, over the instance's own."""

    def __init__(self, instance: Instance) -> None:
        self.instance = instance

    def _agency(self, tenant_id: uuid.UUID | None, code: str | None) -> DocsAgency | None:
        for tenant in self.instance.tenants:
            if tenant.id == tenant_id or tenant.code == code:
                return DocsAgency(
                    id=tenant.id,
                    code=tenant.code,
                    name=tenant.name,
                    short_name="UBND",
                    status="active",
                )
        return None

    async def by_code(self, code: str) -> DocsAgency | None:
        return self._agency(None, code)

    async def by_id(self, agency_id: uuid.UUID) -> DocsAgency | None:
        return self._agency(agency_id, None)


async def test_a_document_issued_by_the_docs_service_is_delivered_and_answered(
    provinces: Provinces,
) -> None:
    a, b = provinces.a, provinces.b
    (ubnd,) = await provinces.agencies(a, "UBND tỉnh A")
    (so_nv,) = await provinces.agencies(b, "Sở Nội vụ tỉnh B")
    service = OutgoingService(a.docs_db, AnyoneWorksHere(), Registry(a))
    clerk = principal(ubnd)
    content = pdf("công văn từ docs", 6000)
    stored = await a.upload(ubnd, "cong-van.pdf", content)
    card = await service.create_draft(
        ubnd.id,
        clerk,
        DraftRequest(
            doc_type="CV",
            subject="V/v phối hợp kiểm tra công tác văn thư",
            signer=clerk.username,
            file=FileRef(
                object_id=uuid.UUID(stored["id"]),
                file_name="cong-van.pdf",
                sha256=stored["sha256"],
                size=stored["size"],
            ),
            unit_abbr="VP",
            recipients=[Recipient(code=so_nv.code, name=so_nv.name)],
        ),
    )
    card = await service.submit(
        ubnd.id,
        clerk,
        card.id,
        SubmitRequest(content_reviewer=clerk.username, form_reviewer=clerk.username),
    )
    for step in card.steps:
        card = await service.approve_step(ubnd.id, clerk, card.id, step.id, "")
    card = await service.issue(ubnd.id, clerk, card.id, IssueRequest())

    await provinces.settle()

    (landed,) = await b.documents(so_nv)
    assert landed.number_symbol == card.number_symbol
    assert landed.subject == "V/v phối hợp kiểm tra công tác văn thư"
    assert landed.sender_code == ubnd.code
    (file,) = await b.document_files(so_nv, landed.id)
    assert file.sha256 == stored["sha256"]

    await b.docs.register(so_nv.id, principal(so_nv), landed.id, Registration())
    await provinces.settle()

    (line,) = await a.rows(ubnd, outgoing)
    assert line.receipt_code == "03"
    statuses = [s["status"] for s in provinces.bus.of("delivery.status", ubnd)]
    assert statuses == ["sent", "received", "accepted"]
    assert {s["outgoing_id"] for s in provinces.bus.of("delivery.status", ubnd)} == {str(card.id)}
