"""Settings of the interchange service: `QLVB_INTERCHANGE_*` variables over `QLVB_*`."""

from __future__ import annotations

from services.common.settings import ServiceSettings, load_settings


class InterchangeSettings(ServiceSettings, frozen=True, kw_only=True):
    pass


def load() -> InterchangeSettings:
    return load_settings(InterchangeSettings, "interchange")
