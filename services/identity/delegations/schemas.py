"""Delegations (ủy quyền) as the API takes and shows them."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

import msgspec

# Instants with their offset: a delegation starting "at 08:00" means 08:00 somewhere.
Instant = Annotated[dt.datetime, msgspec.Meta(tz=True)]


class DelegationCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    delegate_id: uuid.UUID
    starts_at: Instant
    ends_at: Instant
    scope: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class DelegationView(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    agency_id: uuid.UUID
    delegator_id: uuid.UUID
    delegator_username: str
    # The delegator's roles in this agency today: what the delegate may do while acting for them.
    delegator_roles: list[str]
    delegate_id: uuid.UUID
    delegate_username: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    scope: str
    revoked_at: dt.datetime | None
