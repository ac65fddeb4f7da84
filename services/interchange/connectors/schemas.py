"""Request and response bodies of connectors. The secret and the packet-signing key are
write-only: no answer carries them (`signing.py` holds the signing identity's bodies)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, UnsetType

from services.interchange.connectors.signing import SigningView

Kind = Literal["vdxp", "lgsp"]
Endpoint = Annotated[str, msgspec.Meta(min_length=8, max_length=500, pattern=r"^https?://\S+$")]
SystemId = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$")]
# Header values are ASCII on the wire (spec §3.2); the HMAC key is the secret's UTF-8 bytes.
Secret = Annotated[str, msgspec.Meta(min_length=1, max_length=500, pattern=r"^[\x20-\x7e]+$")]
AgencyCode = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-Z][0-9]{2}$")]
PollSeconds = Annotated[int, msgspec.Meta(ge=1, le=86_400)]
RatePerMinute = Annotated[int, msgspec.Meta(ge=1, le=100_000)]
TimeoutSeconds = Annotated[float, msgspec.Meta(gt=0, le=600)]


class ConnectorRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Create (every field but the defaults required) or change (what is given) a connector."""

    kind: Kind | UnsetType = UNSET  # vdxp: the national axis; lgsp: a provincial one
    endpoint: Endpoint | UnsetType = UNSET
    system_id: SystemId | UnsetType = UNSET
    secret: Secret | UnsetType = UNSET
    # The agency's code on the axis; by default its code in the identity registry.
    agency_code: AgencyCode | UnsetType = UNSET
    enabled: bool | UnsetType = UNSET
    poll_seconds: PollSeconds | UnsetType = UNSET
    rate_per_minute: RatePerMinute | UnsetType = UNSET
    timeout_seconds: TimeoutSeconds | UnsetType = UNSET


class Health(msgspec.Struct, kw_only=True):
    last_poll_at: dt.datetime | None
    next_poll_at: dt.datetime | None
    last_success_at: dt.datetime | None
    last_error_at: dt.datetime | None
    last_error: str | None
    failures: int
    retry_at: dt.datetime | None  # backing off until then
    axis_backlog: int  # waiting in the axis mailbox at the last poll, beyond one batch
    outgoing_backlog: int  # messages waiting to be sent
    oldest_waiting_since: dt.datetime | None
    dead_letters: int  # open


class ConnectorView(msgspec.Struct, kw_only=True):
    tenant_id: uuid.UUID
    kind: str
    endpoint: str
    system_id: str
    secret_set: bool
    signing_set: bool  # packets are signed (XML-DSig) with the agency's identity
    signing: SigningView | None  # its certificate, when set
    agency_code: str
    enabled: bool
    poll_seconds: int
    rate_per_minute: int
    timeout_seconds: float
    created_at: dt.datetime
    updated_at: dt.datetime
    health: Health
