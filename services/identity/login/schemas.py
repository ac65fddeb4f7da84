"""What the web UI sends to and reads from `/auth/session`."""

from __future__ import annotations

import uuid

import msgspec

from services.common.auth.principal import Membership
from services.common.auth.web_sessions import ActiveSession


class PersonView(msgspec.Struct):
    subject: str
    username: str
    name: str


class MembershipView(msgspec.Struct):
    agency_id: uuid.UUID
    agency_code: str
    roles: list[str]

    @classmethod
    def of(cls, membership: Membership) -> MembershipView:
        return cls(
            membership.agency_id, membership.agency_code, sorted(r.value for r in membership.roles)
        )


class SessionView(msgspec.Struct):
    person: PersonView
    memberships: list[MembershipView]
    # None until a person with several memberships chooses one (POST /auth/session/agency).
    active_agency: MembershipView | None

    @classmethod
    def of(cls, session: ActiveSession) -> SessionView:
        p = session.principal
        active = p.active_membership
        return cls(
            person=PersonView(p.subject, p.username, p.name),
            memberships=[MembershipView.of(m) for m in p.memberships],
            active_agency=None if active is None else MembershipView.of(active),
        )


class AgencyChoice(msgspec.Struct):
    agency_id: uuid.UUID
