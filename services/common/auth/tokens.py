"""Verification of access tokens, locally, against the issuer's cached keys."""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from typing import Any

import jwt

from services.common.auth.keys import KeySet, UnknownKey
from services.common.auth.principal import ClaimsError, Principal, principal_from_claims
from services.common.settings import OidcSettings


class InvalidToken(Exception):
    """The token is not acceptable; the message says why (for logs, not for callers)."""


class TokenVerifier:
    """Checks signature, algorithm, issuer, audience, expiry and not-before, then builds the
    principal. Verified tokens are remembered until they expire, so a client reusing its token
    costs one dictionary lookup instead of an RSA verification."""

    def __init__(
        self, settings: OidcSettings, keys: KeySet, audience: str, cache_size: int = 10_000
    ) -> None:
        self._settings = settings
        self._keys = keys
        self._audience = audience
        self._allowed = frozenset(settings.algorithms)
        self._cache: OrderedDict[bytes, Principal] = OrderedDict()
        self._cache_size = cache_size

    @property
    def leeway_seconds(self) -> float:
        return float(self._settings.leeway_seconds)

    async def verify(self, token: str) -> Principal:
        digest = hashlib.blake2b(token.encode(), digest_size=20).digest()
        cached = self._cache.get(digest)
        if cached is not None:
            if cached.expires_at + self._settings.leeway_seconds > time.time():
                return cached
            del self._cache[digest]
        principal = await self._verify_uncached(token)
        self._cache[digest] = principal
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return principal

    async def _verify_uncached(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"malformed token: {exc}") from exc
        algorithm = header.get("alg")
        if algorithm not in self._allowed:
            raise InvalidToken(f"algorithm not allowed: {algorithm!r}")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise InvalidToken("token has no key id")
        try:
            key = await self._keys.get(kid)
        except UnknownKey as exc:
            raise InvalidToken(f"unknown signing key {kid!r}") from exc
        if key.algorithm_name != algorithm:
            raise InvalidToken("token algorithm does not match its key")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key.key,
                algorithms=[algorithm],
                audience=self._audience,
                issuer=self._settings.issuer,
                leeway=self._settings.leeway_seconds,
                options={"require": ["exp", "iat", "iss", "sub"], "verify_nbf": True},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from exc
        try:
            return principal_from_claims(claims)
        except ClaimsError as exc:
            raise InvalidToken(str(exc)) from exc
