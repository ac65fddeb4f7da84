"""Agencies, their history and their reorganisations as the API takes and shows them."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

import msgspec
from msgspec import UNSET, UnsetType

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
ShortName = Annotated[
    str, msgspec.Meta(min_length=1, max_length=30, description="Tên viết tắt (UBND, STC)")
]
# Levels are data, not an enum: province, department, district, commune and whatever a
# province needs next.
Level = Annotated[str, msgspec.Meta(min_length=1, max_length=30)]
Code102 = Annotated[
    str, msgspec.Meta(max_length=13, description="Mã định danh QCVN 102:2016 (AAA.BB.CC.XNN)")
]
CodeQd20 = Annotated[str, msgspec.Meta(max_length=35, description="Mã định danh QĐ 20/2020")]
Address = Annotated[str, msgspec.Meta(max_length=500)]
Phone = Annotated[str, msgspec.Meta(max_length=30)]
Email = Annotated[str, msgspec.Meta(max_length=254)]
Website = Annotated[str, msgspec.Meta(max_length=300)]
Reference = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=300,
        description="Văn bản quyết định (vd Nghị quyết 1656/NQ-UBTVQH15)",
    ),
]
Reason = Annotated[str, msgspec.Meta(max_length=4000)]


class AgencyView(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    code: str
    code_qd20: str | None
    name: str
    short_name: str
    level: str
    parent_id: uuid.UUID | None
    status: str
    address: str
    phone: str
    email: str
    website: str
    valid_from: dt.date | None
    valid_to: dt.date | None
    successor_id: uuid.UUID | None


class AgencyCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    code: Code102
    name: Name
    short_name: ShortName
    level: Level
    parent_id: uuid.UUID | None = None
    code_qd20: CodeQd20 | None = None
    address: Address = ""
    phone: Phone = ""
    email: Email = ""
    website: Website = ""
    # The day the agency came into being; when omitted, today.
    valid_from: dt.date | None = None


class AgencyUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Corrections of the current record. A change that happens on a date (a new name, a new
    parent) is a reorganisation instead, so that the history keeps both."""

    name: Name | UnsetType = UNSET
    short_name: ShortName | UnsetType = UNSET
    level: Level | UnsetType = UNSET
    parent_id: uuid.UUID | UnsetType | None = UNSET
    code_qd20: CodeQd20 | UnsetType | None = UNSET
    address: Address | UnsetType = UNSET
    phone: Phone | UnsetType = UNSET
    email: Email | UnsetType = UNSET
    website: Website | UnsetType = UNSET


class NewAgency(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """An agency a merge or a split creates; it exists from the effective date."""

    code: Code102
    name: Name
    short_name: ShortName
    level: Level
    # When omitted: the parent of the (first) predecessor.
    parent_id: uuid.UUID | UnsetType | None = UNSET
    code_qd20: CodeQd20 | None = None
    address: Address = ""
    phone: Phone = ""
    email: Email = ""
    website: Website = ""


class MergeRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Several agencies become one: an existing active agency, or a new one."""

    agency_ids: Annotated[list[uuid.UUID], msgspec.Meta(min_length=1)]
    successor_id: uuid.UUID | None = None
    new_successor: NewAgency | None = None
    effective_date: dt.date
    reference: Reference
    reason: Reason = ""


class SplitRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One agency becomes several new ones; the first listed is its legal successor (it takes
    the predecessor's subordinate agencies and its `successor_id` link)."""

    agency_id: uuid.UUID
    successors: Annotated[list[NewAgency], msgspec.Meta(min_length=2)]
    effective_date: dt.date
    reference: Reference
    reason: Reason = ""


class RenameRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    agency_id: uuid.UUID
    name: Name | UnsetType = UNSET
    short_name: ShortName | UnsetType = UNSET
    effective_date: dt.date
    reference: Reference
    reason: Reason = ""


class MoveRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    agency_id: uuid.UUID
    # None: the agency becomes a root of the tree.
    parent_id: uuid.UUID | None
    effective_date: dt.date
    reference: Reference
    reason: Reason = ""


class DissolveRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    agency_id: uuid.UUID
    # The agency that takes over the records and the subordinate agencies, if any.
    successor_id: uuid.UUID | None = None
    effective_date: dt.date
    reference: Reference
    reason: Reason = ""


class ReorganisationView(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    kind: str
    effective_date: dt.date
    reference: str
    reason: str
    predecessors: list[uuid.UUID]
    successors: list[uuid.UUID]
    recorded_at: dt.datetime


class AgencyNode(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    code: str
    name: str
    short_name: str
    level: str
    status: str
    parent_id: uuid.UUID | None
    children: list[AgencyNode] = []


class AgencyTree(msgspec.Struct, kw_only=True):
    as_of: dt.date
    roots: list[AgencyNode]


class AgencyVersionView(msgspec.Struct, kw_only=True):
    valid_from: dt.date | None
    valid_to: dt.date | None
    name: str
    short_name: str
    level: str
    parent_id: uuid.UUID | None
    status: str
    change_id: uuid.UUID | None


class Predecessor(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    code: str
    name: str
    # The agency it passed into, and how: a step of the lineage.
    successor_id: uuid.UUID
    kind: str
    effective_date: dt.date
    reference: str
    # 1: a direct predecessor; 2: a predecessor of one; and so on.
    depth: int


class Lineage(msgspec.Struct, kw_only=True):
    agency_id: uuid.UUID
    predecessors: list[Predecessor]
    # The agency and all its predecessors: whose documents its people may read.
    agency_ids: list[uuid.UUID]
