"""The two JWTs the web login reads besides access tokens: the ID token (OpenID Connect Core 1.0,
section 3.1.3.7) and the back-channel logout token (OpenID Connect Back-Channel Logout 1.0,
section 2.6). Both are checked against the issuer's keys that the kernel's `KeySet` caches."""

from __future__ import annotations

import base64
import hashlib
import time
from typing import Any, Protocol

import jwt

from services.common.auth.keys import UnknownKey
from services.common.auth.web_sessions import SessionOwner
from services.common.settings import OidcSettings

BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
# A logout token older than this is refused (section 2.6 lets the receiver bound `iat`); Keycloak
# sends it the moment the session ends.
LOGOUT_TOKEN_MAX_AGE_SECONDS = 300


class SigningKeys(Protocol):
    async def get(self, kid: str) -> jwt.PyJWK: ...


class InvalidLoginToken(Exception):
    """The token is not acceptable; the message says why (for logs, not for callers)."""


class JwtChecks:
    """Signature (algorithm allow-list, `kid` of a published key of the same algorithm), issuer,
    audience, expiry: what both tokens share with the kernel's access-token check."""

    def __init__(self, settings: OidcSettings, keys: SigningKeys, client_id: str) -> None:
        self._settings = settings
        self._keys = keys
        self._allowed = frozenset(settings.algorithms)
        self.client_id = client_id

    async def decode(self, token: str, *, require: list[str]) -> tuple[str, dict[str, Any]]:
        """The token's algorithm and verified claims."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidLoginToken(f"malformed token: {exc}") from exc
        algorithm = header.get("alg")
        if algorithm not in self._allowed:
            raise InvalidLoginToken(f"algorithm not allowed: {algorithm!r}")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise InvalidLoginToken("token has no key id")
        try:
            key = await self._keys.get(kid)
        except UnknownKey as exc:
            raise InvalidLoginToken(f"unknown signing key {kid!r}") from exc
        if key.algorithm_name != algorithm:
            raise InvalidLoginToken("token algorithm does not match its key")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key.key,
                algorithms=[algorithm],
                audience=self.client_id,
                issuer=self._settings.issuer,
                leeway=self._settings.leeway_seconds,
                options={"require": require, "verify_nbf": True},
            )
        except jwt.PyJWTError as exc:
            raise InvalidLoginToken(str(exc)) from exc
        return algorithm, claims

    @property
    def leeway_seconds(self) -> int:
        return self._settings.leeway_seconds


def _half_hash(algorithm: str, value: str) -> str:
    """`at_hash`: the left half of the token's hash with the JWS algorithm's hash function
    (OpenID Connect Core 1.0, section 3.1.3.6), base64url without padding."""
    name = {"256": "sha256", "384": "sha384", "512": "sha512"}[algorithm[-3:]]
    digest = hashlib.new(name, value.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode("ascii")


async def verify_id_token(
    checks: JwtChecks, token: str, *, nonce: str, access_token: str
) -> SessionOwner:
    """OpenID Connect Core 1.0, section 3.1.3.7: issuer, audience (and `azp` when there are
    several), signature, expiry, and the nonce this login sent; `at_hash` binds the access token
    received with it when present."""
    algorithm, claims = await checks.decode(token, require=["exp", "iat", "iss", "sub", "aud"])
    audience = claims["aud"]
    if isinstance(audience, list) and len(audience) > 1 and claims.get("azp") != checks.client_id:
        raise InvalidLoginToken("several audiences and azp is not this client")
    if claims.get("nonce") != nonce:
        raise InvalidLoginToken("nonce does not match the login")
    at_hash = claims.get("at_hash")
    if at_hash is not None and at_hash != _half_hash(algorithm, access_token):
        raise InvalidLoginToken("at_hash does not match the access token")
    sid = claims.get("sid", "")
    return SessionOwner(str(claims["sub"]), sid if isinstance(sid, str) else "")


async def verify_logout_token(checks: JwtChecks, token: str) -> SessionOwner:
    """OpenID Connect Back-Channel Logout 1.0, section 2.6. A replayed token is not refused by
    its `jti`: deleting sessions that are already gone changes nothing."""
    _, claims = await checks.decode(token, require=["iat", "iss", "aud"])
    events = claims.get("events")
    if not isinstance(events, dict) or not isinstance(events.get(BACKCHANNEL_LOGOUT_EVENT), dict):
        raise InvalidLoginToken("events claim lacks the back-channel logout event")
    if "nonce" in claims:
        # Section 2.4: forbidden, so that an ID token can never pass for a logout token.
        raise InvalidLoginToken("logout token carries a nonce")
    sid, sub = claims.get("sid", ""), claims.get("sub", "")
    if not isinstance(sid, str) or not isinstance(sub, str) or not (sid or sub):
        raise InvalidLoginToken("logout token names neither sid nor sub")
    issued = claims["iat"]
    now = time.time()
    if not isinstance(issued, int | float) or not (
        now - LOGOUT_TOKEN_MAX_AGE_SECONDS <= issued <= now + checks.leeway_seconds
    ):
        raise InvalidLoginToken("logout token iat outside the accepted window")
    return SessionOwner(sub, sid)
