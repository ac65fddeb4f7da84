"""Typed settings, read from environment variables in exactly one place.

Platform-wide values are `QLVB_<NAME>`; a service's own values are `QLVB_<SERVICE>_<NAME>`. A
setting object is built once at start-up and passed in; nothing else reads `os.environ`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal, TypeVar

import msgspec


class SettingsError(Exception):
    """A required setting is missing or has the wrong form."""


class OidcSettings(msgspec.Struct, frozen=True, kw_only=True):
    issuer: str
    # Where the keys are fetched; defaults to the issuer's standard path.
    jwks_url: str = ""
    algorithms: tuple[str, ...] = ("RS256", "PS256", "ES256")
    leeway_seconds: int = 30
    jwks_cache_seconds: int = 600
    # An unknown `kid` triggers at most one refetch per this interval, so a flood of forged
    # tokens cannot turn into a flood of requests to Keycloak.
    jwks_min_refetch_seconds: int = 10

    @property
    def keys_url(self) -> str:
        return self.jwks_url or f"{self.issuer}/protocol/openid-connect/certs"

    @property
    def token_url(self) -> str:
        return f"{self.issuer}/protocol/openid-connect/token"


class TelemetrySettings(msgspec.Struct, frozen=True, kw_only=True):
    exporter: Literal["none", "console", "otlp"] = "console"
    otlp_endpoint: str = "http://127.0.0.1:4318"
    # Head sampling ratio for traces that do not arrive with a sampled parent.
    sample_ratio: float = 0.1


class WebSettings(msgspec.Struct, frozen=True, kw_only=True):
    """The web UI's single sign-on, shared by the services that serve pages (identity runs the
    login, docs the pages): `QLVB_WEB_*`."""

    # The origin browsers reach the platform on (one host; the ingress routes by path). The OIDC
    # redirect URI is `<public_url>/auth/callback`. Empty: the service's own `http://host:port`.
    public_url: str = ""
    # The confidential Keycloak client the web UI logs in through (code + PKCE S256).
    client_id: str = "qlvb-web"
    client_secret: str = ""
    # Off only where browsers reach the platform over plain HTTP on a non-loopback host.
    cookie_secure: bool = True
    # A session's access token is refreshed when it has less than this left.
    refresh_margin_seconds: int = 60


class ServiceSettings(msgspec.Struct, frozen=True, kw_only=True):
    """What every service needs; services extend it with their own fields."""

    service: str
    environment: Literal["development", "test", "production"] = "production"
    host: str = "127.0.0.1"
    port: int = 8000
    database_url: str
    migration_database_url: str = ""
    relay_database_url: str = ""
    database_pool_size: int = 10
    redis_url: str
    client_id: str
    client_secret: str
    oidc: OidcSettings
    telemetry: TelemetrySettings = TelemetrySettings()
    log_level: str = "INFO"


S = TypeVar("S", bound=ServiceSettings)


def _nested_prefixes(settings_type: type[msgspec.Struct]) -> dict[str, type[msgspec.Struct]]:
    nested: dict[str, type[msgspec.Struct]] = {}
    for field in msgspec.structs.fields(settings_type):
        if isinstance(field.type, type) and issubclass(field.type, msgspec.Struct):
            nested[field.name] = field.type
    return nested


def _collect(
    prefixes: tuple[str, ...], names: tuple[str, ...], env: Mapping[str, str]
) -> dict[str, str]:
    found: dict[str, str] = {}
    for prefix in prefixes:  # later prefixes win: the service's own value over the platform's
        for name in names:
            key = f"{prefix}{name.upper()}"
            if key in env:
                found[name] = env[key]
    return found


def load_settings(settings_type: type[S], service: str, env: Mapping[str, str] | None = None) -> S:
    """Build `settings_type` for `service` from `QLVB_*` then `QLVB_<SERVICE>_*` variables."""
    env = os.environ if env is None else env
    prefixes = ("QLVB_", f"QLVB_{service.upper()}_")
    nested = _nested_prefixes(settings_type)
    plain = tuple(f.name for f in msgspec.structs.fields(settings_type) if f.name not in nested)
    raw: dict[str, object] = dict(_collect(prefixes, plain, env))
    for name, struct_type in nested.items():
        sub_names = tuple(f.name for f in msgspec.structs.fields(struct_type))
        sub = _collect(tuple(f"{p}{name.upper()}_" for p in prefixes), sub_names, env)
        if sub:
            raw[name] = sub
    raw["service"] = service
    try:
        return msgspec.convert(raw, type=settings_type, strict=False)
    except msgspec.ValidationError as exc:
        raise SettingsError(f"settings of service {service!r}: {exc}") from exc
