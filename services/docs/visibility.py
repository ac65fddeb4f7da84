"""Who may see a document wherever it is listed (a dossier, a register book): the same people
who may see the document itself.

A dossier or a register book only points at documents, so it must never show a confidential
document to someone its own card would hide it from. Incoming documents use the incoming
service's rule as it is.
Outgoing ones have no rule of their own yet; a confidential outgoing document is shown to the
people who handled it: its drafter, signer, the clerk who issued it and its reviewers."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import or_, select

from services.common.auth.principal import Principal
from services.docs.catalog.types import Confidentiality

# The incoming rule is used, not re-stated, so both always agree.
from services.docs.incoming.service import visible_to as incoming_rule
from services.docs.tables import assignment, outgoing, outgoing_step


def incoming_visible(tenant_id: uuid.UUID, principal: Principal) -> Any:
    mine = select(assignment.c.document_id).where(
        assignment.c.tenant_id == tenant_id, assignment.c.assignee == principal.username
    )
    return incoming_rule(principal.username, mine)


def outgoing_visible(tenant_id: uuid.UUID, principal: Principal) -> Any:
    reviewed = select(outgoing_step.c.outgoing_id).where(
        outgoing_step.c.tenant_id == tenant_id, outgoing_step.c.assignee == principal.username
    )
    return or_(
        outgoing.c.confidentiality == Confidentiality.NORMAL.value,
        outgoing.c.drafter == principal.username,
        outgoing.c.signer == principal.username,
        outgoing.c.issued_by == principal.username,
        outgoing.c.id.in_(reviewed),
    )
