"""Request and response bodies of saved searches."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec

from services.docs.incoming.controller import DocumentState

ExportFormat = Literal["csv", "xlsx"]


class SearchParams(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The conditions of the incoming list (`GET /api/v1/incoming`), paging aside."""

    state: DocumentState | None = None
    q: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    mine: bool = False
    overdue: bool = False


class SavedSearchCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    params: SearchParams


class SavedSearchView(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    name: str
    params: SearchParams
    created_at: dt.datetime
