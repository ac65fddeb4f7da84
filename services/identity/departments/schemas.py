"""Departments (phòng, ban) of an agency as the API takes and shows them."""

from __future__ import annotations

import uuid
from typing import Annotated

import msgspec
from msgspec import UNSET, UnsetType

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
ShortName = Annotated[str, msgspec.Meta(min_length=1, max_length=30)]


class DepartmentView(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    name: str
    short_name: str
    parent_id: uuid.UUID | None
    active: bool


class DepartmentCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Name
    short_name: ShortName
    parent_id: uuid.UUID | None = None


class DepartmentUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Rename (name, short_name) or move (parent_id; null: to the top of the agency)."""

    name: Name | UnsetType = UNSET
    short_name: ShortName | UnsetType = UNSET
    parent_id: uuid.UUID | UnsetType | None = UNSET
