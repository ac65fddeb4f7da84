"""Settings of the storage service: `QLVB_STORAGE_*` variables over `QLVB_*`."""

from __future__ import annotations

from services.common.settings import ServiceSettings, load_settings


class StorageSettings(ServiceSettings, frozen=True, kw_only=True):
    pass


def load() -> StorageSettings:
    return load_settings(StorageSettings, "storage")
