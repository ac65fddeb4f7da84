"""What the storage API returns."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec


class StoredObject(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    file_name: str
    kind: str
    content_type: str
    size: int
    sha256: str
    state: str
    uploaded_by: str
    uploaded_by_name: str
    created_at: dt.datetime
    committed_at: dt.datetime | None = None
    deleted_at: dt.datetime | None = None
    locked_until: dt.datetime | None = None
    verified_at: dt.datetime | None = None
    corrupt: bool = False


class DownloadLink(msgspec.Struct, kw_only=True):
    url: str
    expires_at: dt.datetime


class LockRequest(msgspec.Struct, kw_only=True):
    # Until when nobody may alter or delete the file (the document's retention period).
    retain_until: dt.date


class Verification(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    sha256_recorded: str
    sha256_actual: str
    intact: bool


class Usage(msgspec.Struct, kw_only=True):
    tenant_id: uuid.UUID
    bytes: int
    objects: int
    quota_bytes: int


class QuotaRequest(msgspec.Struct, kw_only=True):
    quota_bytes: int
