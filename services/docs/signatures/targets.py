"""A document's file as the signature checks address it: the card is read first (another
agency's document, or one the caller may not see, is not found), then the file it lists."""

from __future__ import annotations

import uuid

from services.common.auth.principal import Principal
from services.docs.files.listed import CardFile, incoming_file, outgoing_file
from services.docs.incoming.service import IncomingService
from services.docs.outgoing.service import OutgoingService
from services.docs.signatures.reports import Target


async def incoming_target(
    incoming: IncomingService,
    tenant_id: uuid.UUID,
    principal: Principal,
    document_id: uuid.UUID,
    object_id: uuid.UUID,
) -> tuple[Target, CardFile]:
    card = await incoming.card(tenant_id, principal, document_id)
    return Target("incoming", document_id), incoming_file(card, object_id)


async def outgoing_target(
    outgoing: OutgoingService, tenant_id: uuid.UUID, outgoing_id: uuid.UUID, object_id: uuid.UUID
) -> tuple[Target, CardFile]:
    card = await outgoing.card(tenant_id, outgoing_id)
    return Target("outgoing", outgoing_id), outgoing_file(card, object_id)
