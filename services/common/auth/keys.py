"""The issuer's signing keys, fetched from its JWKS endpoint and kept in memory.

Requests are verified with cached keys only. A token signed with an unknown `kid` triggers one
refetch (key rotation), rate-limited so forged tokens cannot hammer Keycloak; when Keycloak is
down, the keys already held keep working."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import httpx
import jwt

from services.common.settings import OidcSettings

logger = logging.getLogger("qlvb.auth.keys")


class UnknownKey(Exception):
    """No key with this id is published by the issuer (after a refetch)."""


class KeySet:
    def __init__(self, settings: OidcSettings, http: httpx.AsyncClient) -> None:
        self._settings = settings
        self._http = http
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = 0.0
        self._attempted_at = 0.0
        self._lock = asyncio.Lock()

    @property
    def loaded(self) -> bool:
        return bool(self._keys)

    async def get(self, kid: str) -> jwt.PyJWK:
        now = time.monotonic()
        key = self._keys.get(kid)
        stale = now - self._fetched_at > self._settings.jwks_cache_seconds
        if key is not None and not stale:
            return key
        await self._refresh(force=key is None)
        key = self._keys.get(kid)
        if key is None:
            raise UnknownKey(kid)
        return key

    async def _refresh(self, *, force: bool) -> None:
        async with self._lock:
            now = time.monotonic()
            if now - self._attempted_at < self._settings.jwks_min_refetch_seconds:
                return
            if not force and now - self._fetched_at <= self._settings.jwks_cache_seconds:
                return  # another task refreshed while this one waited
            self._attempted_at = now
            try:
                response = await self._http.get(self._settings.keys_url, timeout=5.0)
                response.raise_for_status()
                document: dict[str, Any] = response.json()
            except (httpx.HTTPError, ValueError) as exc:
                # Keep serving with the keys we hold; the next refresh will try again.
                logger.warning("jwks_fetch_failed", extra={"error": str(exc)})
                return
            keys: dict[str, jwt.PyJWK] = {}
            for entry in document.get("keys", []):
                if entry.get("use", "sig") != "sig" or "kid" not in entry:
                    continue
                try:
                    keys[entry["kid"]] = jwt.PyJWK(entry)
                except jwt.PyJWTError:
                    continue  # an algorithm we do not support (e.g. encryption keys)
            self._keys = keys
            self._fetched_at = now
