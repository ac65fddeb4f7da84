"""People and their memberships as the API takes and shows them."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

import msgspec
from msgspec import UNSET, UnsetType

from services.common.auth.principal import Role

# The rules of the import files (imports/parsing.py), so that both ways in agree.
Username = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[a-z0-9._-]{3,64}$",
        description="3 đến 64 ký tự a-z, 0-9, '.', '_', '-' (3 to 64 of a-z, 0-9, '.', '_', '-')",
    ),
]
Email = Annotated[
    str,
    msgspec.Meta(
        max_length=254,
        pattern=r"^[A-Za-z0-9._%+'-]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
        r"[A-Za-z]{2,63}$",
    ),
]
FullName = Annotated[
    str,
    msgspec.Meta(min_length=1, max_length=200, description="Họ và tên, theo thứ tự tiếng Việt"),
]
Phone = Annotated[str, msgspec.Meta(max_length=30)]
Title = Annotated[str, msgspec.Meta(max_length=300)]


class MembershipView(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    agency_id: uuid.UUID
    person_id: uuid.UUID
    username: str
    full_name: str
    department_id: uuid.UUID | None
    position: str
    roles: list[Role]
    active: bool
    valid_from: dt.date | None
    valid_to: dt.date | None


class PersonView(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    username: str
    full_name: str
    email: str
    phone: str
    title: str
    enabled: bool
    keycloak_id: uuid.UUID | None
    # The person's membership in the agency the caller manages (None for an operator's view).
    membership: MembershipView | None = None


class PeoplePage(msgspec.Struct, kw_only=True):
    items: list[PersonView]
    limit: int
    offset: int
    next_offset: int | None


class PersonCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A person and their membership in the managed agency. When the username is already
    registered (the person works in another agency), only the membership is added."""

    username: Username
    full_name: FullName
    email: Email
    phone: Phone = ""
    title: Title = ""
    department_id: uuid.UUID | None = None
    position: Title = ""
    roles: list[Role] = []
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None


class PersonUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    full_name: FullName | UnsetType = UNSET
    email: Email | UnsetType = UNSET
    phone: Phone | UnsetType = UNSET
    title: Title | UnsetType = UNSET


class MembershipCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    person_id: uuid.UUID
    department_id: uuid.UUID | None = None
    position: Title = ""
    roles: list[Role] = []
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None


class MembershipUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    department_id: uuid.UUID | UnsetType | None = UNSET
    position: Title | UnsetType = UNSET
    roles: list[Role] | UnsetType = UNSET
    valid_from: dt.date | UnsetType | None = UNSET
    valid_to: dt.date | UnsetType | None = UNSET
