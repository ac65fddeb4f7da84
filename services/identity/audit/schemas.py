"""Audit records as the API shows them."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import msgspec


class AuditEventView(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    at: dt.datetime
    actor_subject: str
    actor_username: str
    actor_person_id: uuid.UUID | None
    acting_for_person_id: uuid.UUID | None
    acting_for_username: str | None
    action: str
    entity: str
    entity_id: uuid.UUID
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class AuditPage(msgspec.Struct, kw_only=True):
    items: list[AuditEventView]
    limit: int
    offset: int
    # The offset of the next page, or None on the last page.
    next_offset: int | None
