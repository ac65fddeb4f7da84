"""What the administration pages read from identity and interchange: the pages' own view of
those services' answers. Only the fields the pages show are declared; unknown ones are
ignored, so a service may grow its answers without breaking the pages."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec


class AgencyNode(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    code: str
    name: str
    short_name: str = ""
    level: str = ""
    status: str = "active"
    parent_id: uuid.UUID | None = None
    children: list[AgencyNode] = []


class AgencyTree(msgspec.Struct, kw_only=True):
    as_of: dt.date
    roots: list[AgencyNode]


class Agency(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    code: str
    name: str
    short_name: str = ""
    level: str = ""
    parent_id: uuid.UUID | None = None
    status: str = "active"
    address: str = ""
    phone: str = ""
    email: str = ""
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    successor_id: uuid.UUID | None = None


class AgencyVersion(msgspec.Struct, kw_only=True):
    valid_from: dt.date | None
    valid_to: dt.date | None
    name: str
    short_name: str = ""
    level: str = ""
    parent_id: uuid.UUID | None = None
    status: str = "active"


class Predecessor(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    code: str
    name: str
    kind: str
    effective_date: dt.date
    reference: str = ""
    depth: int = 1


class Lineage(msgspec.Struct, kw_only=True):
    predecessors: list[Predecessor] = []


class Reorganisation(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    kind: str
    effective_date: dt.date


class Department(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    name: str
    short_name: str = ""
    parent_id: uuid.UUID | None = None
    active: bool = True


class Membership(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    agency_id: uuid.UUID
    person_id: uuid.UUID
    username: str
    full_name: str
    department_id: uuid.UUID | None = None
    position: str = ""
    roles: list[str] = []
    active: bool = True
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None


class Person(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    username: str
    full_name: str
    email: str = ""
    phone: str = ""
    title: str = ""
    enabled: bool = True
    membership: Membership | None = None


class PeoplePage(msgspec.Struct, kw_only=True):
    items: list[Person]
    limit: int
    offset: int
    next_offset: int | None = None


class Member(msgspec.Struct, kw_only=True):
    """A colleague from the agency's directory, with the id a delegation names them by."""

    person_id: uuid.UUID
    username: str
    full_name: str
    department: str = ""
    position: str = ""
    roles: list[str] = []


class Delegation(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    delegator_id: uuid.UUID
    delegator_username: str
    delegate_id: uuid.UUID
    delegate_username: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    scope: str = ""
    revoked_at: dt.datetime | None = None

    def state(self, now: dt.datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if now < self.starts_at:
            return "scheduled"
        return "in_force" if now < self.ends_at else "ended"


class RowError(msgspec.Struct, kw_only=True):
    line: int
    column: str | None = None  # the column's key (`email`)
    column_label: str | None = None  # its Vietnamese header in the template ("Thư điện tử")
    reason_vi: str = ""
    reason_en: str = ""


class ImportReport(msgspec.Struct, kw_only=True):
    kind: str
    dry_run: bool
    applied: bool
    total_lines: int
    errors: list[RowError]
    error_count: int
    created: dict[str, int] = {}
    updated: dict[str, int] = {}
    unchanged: int = 0

    @property
    def changes(self) -> int:
        return sum(self.created.values()) + sum(self.updated.values())


class Health(msgspec.Struct, kw_only=True):
    last_poll_at: dt.datetime | None = None
    last_success_at: dt.datetime | None = None
    last_error_at: dt.datetime | None = None
    last_error: str | None = None
    failures: int = 0
    retry_at: dt.datetime | None = None
    axis_backlog: int = 0
    outgoing_backlog: int = 0
    oldest_waiting_since: dt.datetime | None = None
    dead_letters: int = 0


class Connector(msgspec.Struct, kw_only=True):
    tenant_id: uuid.UUID
    kind: str
    endpoint: str
    system_id: str
    secret_set: bool
    agency_code: str
    enabled: bool
    poll_seconds: int
    rate_per_minute: int
    timeout_seconds: float
    updated_at: dt.datetime | None = None
    health: Health = msgspec.field(default_factory=Health)

    @property
    def timeout_text(self) -> str:
        """The timeout as a person typed it: 30 rather than the stored 30.0."""
        seconds = self.timeout_seconds
        return str(int(seconds)) if seconds.is_integer() else str(seconds)


class DeadLetter(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    tenant_id: uuid.UUID
    created_at: dt.datetime
    direction: str
    reason: str
    detail: str = ""
    sender_code: str | None = None
    recipient_code: str | None = None
    edxml_document_id: str | None = None
    message_type: str | None = None
    state: str = "open"
    replays: int = 0
    replayed_at: dt.datetime | None = None
    replay_error: str | None = None
