"""Settings of the identity service: `QLVB_IDENTITY_*` variables over `QLVB_*`."""

from __future__ import annotations

from services.common.settings import ServiceSettings, load_settings


class IdentitySettings(ServiceSettings, frozen=True, kw_only=True):
    pass


def load() -> IdentitySettings:
    return load_settings(IdentitySettings, "identity")
