"""Who is calling: built from token claims alone, with no database or Keycloak call."""

from __future__ import annotations

import enum
import uuid
from typing import Any

import msgspec


class Role(enum.StrEnum):
    """A person's role inside one agency (a membership may hold several)."""

    CLERK = "clerk"
    SPECIALIST = "specialist"
    DEPARTMENT_HEAD = "department_head"
    DEPUTY_LEADER = "deputy_leader"
    LEADER = "leader"
    AGENCY_ADMIN = "agency_admin"


PLATFORM_OPERATOR = "platform-operator"
SERVICE_ACCOUNT_PREFIX = "service-account-"


class Membership(msgspec.Struct, frozen=True):
    agency_id: uuid.UUID
    agency_code: str
    roles: frozenset[Role] = frozenset()


class Delegator(msgspec.Struct, frozen=True, kw_only=True):
    """The person a caller acts for under a delegation in force (ủy quyền, `X-Acting-For`),
    with that person's roles in the active agency: for the delegation's time the delegate may
    do what the delegator may, and every action records both of them."""

    person_id: uuid.UUID
    username: str
    roles: frozenset[Role] = frozenset()


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    subject: str
    username: str
    name: str = ""
    client_id: str = ""
    memberships: tuple[Membership, ...] = ()
    platform_roles: frozenset[str] = frozenset()
    expires_at: int = 0
    issued_at: int = 0
    # When the person last authenticated (OIDC `auth_time`, seconds since the epoch): Keycloak
    # keeps it through refreshes, so a signature can ask for a recent login. None when the
    # token does not say (client credentials; Keycloak's password grant leaves it out too).
    auth_time: int | None = None
    # The agency the caller acts in for this request; always one of `memberships`.
    active_agency_id: uuid.UUID | None = None
    # Set by a service that checked a delegation for this request; never from the token.
    acting_for: Delegator | None = None

    @property
    def is_service(self) -> bool:
        return self.username.startswith(SERVICE_ACCOUNT_PREFIX)

    @property
    def is_operator(self) -> bool:
        return PLATFORM_OPERATOR in self.platform_roles

    def membership(self, agency_id: uuid.UUID) -> Membership | None:
        for membership in self.memberships:
            if membership.agency_id == agency_id:
                return membership
        return None

    @property
    def active_membership(self) -> Membership | None:
        if self.active_agency_id is None:
            return None
        return self.membership(self.active_agency_id)

    def has_role(self, *roles: Role) -> bool:
        active = self.active_membership
        if active is None:
            return False
        if not active.roles.isdisjoint(roles):
            return True
        return self.acting_for is not None and not self.acting_for.roles.isdisjoint(roles)

    @property
    def usernames(self) -> tuple[str, ...]:
        """Whose work this caller may do: their own, and their delegator's while acting for
        them."""
        if self.acting_for is None:
            return (self.username,)
        return (self.username, self.acting_for.username)

    def acts_as(self, username: str | None) -> bool:
        return username is not None and username in self.usernames


class ClaimsError(ValueError):
    """The token's claims do not describe a principal."""


def _membership(raw: Any) -> Membership:
    if isinstance(raw, str):  # Keycloak sends a JSON string when a value fails to parse as JSON
        raw = msgspec.json.decode(raw)
    return msgspec.convert(raw, type=Membership, strict=False)


def display_name(claims: dict[str, Any]) -> str:
    """The person's name as Vietnamese writes it, family name first ("Nguyễn Thị Lan").
    Keycloak's `name` claim puts the first name (the given name) first ("Lan Nguyễn Thị"), so
    the name is composed from `family_name` and `given_name` when the token has them."""
    parts = [claims.get("family_name"), claims.get("given_name")]
    composed = " ".join(p.strip() for p in parts if isinstance(p, str) and p.strip())
    return composed or str(claims.get("name", ""))


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    try:
        raw_memberships = claims.get("memberships") or []
        if not isinstance(raw_memberships, list):
            raw_memberships = [raw_memberships]
        memberships = tuple(_membership(item) for item in raw_memberships)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise ClaimsError(f"memberships claim: {exc}") from exc
    realm_access = claims.get("realm_access") or {}
    roles = realm_access.get("roles", []) if isinstance(realm_access, dict) else []
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise ClaimsError("sub claim missing")
    only_agency = memberships[0].agency_id if len(memberships) == 1 else None
    auth_time = claims.get("auth_time")
    return Principal(
        subject=subject,
        username=str(claims.get("preferred_username", "")),
        name=display_name(claims),
        client_id=str(claims.get("azp", "")),
        memberships=memberships,
        platform_roles=frozenset(r for r in roles if isinstance(r, str)),
        expires_at=int(claims.get("exp", 0)),
        issued_at=int(claims.get("iat", 0)),
        auth_time=int(auth_time) if isinstance(auth_time, int | float) else None,
        active_agency_id=only_agency,
    )
