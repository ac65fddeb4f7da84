"""Litestar authentication: a bearer token becomes `request.user`, a `Principal`.

The active agency comes from the `X-Agency-Id` header (the agency switcher) and must be one of
the token's memberships; a caller with a single membership acts in it by default."""

from __future__ import annotations

import time
import uuid
from typing import Any, ClassVar

import msgspec
from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.middleware._utils import should_bypass_middleware
from litestar.middleware.base import DefineMiddleware
from litestar.types import Receive, Scope, Send

from services.common.auth.principal import Principal
from services.common.auth.tokens import InvalidToken, TokenVerifier
from services.common.problems import Forbidden, InvalidInput, Unauthenticated

ACTIVE_AGENCY_HEADER = "x-agency-id"
# Anchored: a prefix match would also let `/schemas/...` or `/healthz-admin` skip authentication.
PUBLIC_PATH_PATTERNS = (r"^/health$", r"^/ready$", r"^/schema(/|$)")


def with_active_agency(principal: Principal, requested: str | None) -> Principal:
    if not requested:
        return principal
    try:
        agency_id = uuid.UUID(requested)
    except ValueError as exc:
        raise InvalidInput(
            "Mã cơ quan đang làm việc (X-Agency-Id) không đúng định dạng.",
            "The X-Agency-Id header is not a valid agency id.",
        ) from exc
    # Platform services (client credentials) act for whichever agency their work belongs to;
    # people only in the agencies of their memberships.
    if principal.membership(agency_id) is None and not principal.is_service:
        raise Forbidden(
            "Bạn không có chức vụ tại cơ quan đã chọn.",
            "The selected agency is not among your memberships.",
        )
    return msgspec.structs.replace(principal, active_agency_id=agency_id)


class PrincipalCache:
    """Principals with their active agency applied, keyed by the raw (token, agency) headers.

    The verifier already caches verified tokens; this second level skips header decoding, the
    agency check and the struct copy on the hot path. Litestar builds one middleware instance
    per route, so the cache lives here, shared by them all."""

    # Hashing a whole token (about 1.5 KB) on every request cost more than the rest of the
    # lookup. The dictionary is keyed by the token's tail (inside its signature) and the
    # agency; a hit counts only if the whole token is byte-for-byte equal (a memcmp), so a
    # forged token sharing a tail can never borrow another caller's principal.
    _TAIL = 48

    def __init__(self, leeway_seconds: float, size: int = 10_000) -> None:
        self._entries: dict[tuple[bytes, bytes], tuple[float, bytes, Principal]] = {}
        self._leeway = leeway_seconds
        self._size = size

    def get(self, key: tuple[bytes, bytes], now: float) -> Principal | None:
        token, agency = key
        entry = self._entries.get((token[-self._TAIL :], agency))
        if entry is not None and entry[0] > now and entry[1] == token:
            return entry[2]
        return None

    def put(self, key: tuple[bytes, bytes], principal: Principal) -> None:
        if len(self._entries) >= self._size:
            # Dicts keep insertion order: dropping the oldest half is a cheap approximate LRU.
            for stale in list(self._entries)[: self._size // 2]:
                del self._entries[stale]
        token, agency = key
        self._entries[(token[-self._TAIL :], agency)] = (
            principal.expires_at + self._leeway,
            token,
            principal,
        )


def _credentials(scope: Scope) -> tuple[bytes, bytes]:
    # Raw ASGI headers are lowercase byte pairs; scanning them avoids building a Headers object.
    authorization = agency = b""
    for name, value in scope["headers"]:
        if name == b"authorization":
            authorization = value
        elif name == b"x-agency-id":
            agency = value
    return authorization, agency


class BearerAuthenticationMiddleware(AbstractAuthenticationMiddleware):
    verifier: ClassVar[TokenVerifier]
    principals: ClassVar[PrincipalCache]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not should_bypass_middleware(
            exclude_http_methods=self.exclude_http_methods,
            exclude_opt_key=self.exclude_opt_key,
            exclude_path_pattern=self.exclude,
            scope=scope,
            scopes=self.scopes,
        ):
            key = _credentials(scope)
            principal = self.principals.get(key, time.time())
            if principal is None:
                principal = await self._authenticate(*key)
                self.principals.put(key, principal)
            scope["user"] = principal
            scope["auth"] = key[0]
        await self.app(scope, receive, send)

    async def _authenticate(self, authorization: bytes, agency: bytes) -> Principal:
        scheme, _, token = authorization.decode("latin-1").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated(
                "Yêu cầu cần mã truy cập (Bearer token).",
                "A bearer access token is required.",
            )
        try:
            principal = await self.verifier.verify(token.strip())
        except InvalidToken as exc:
            raise Unauthenticated(
                "Mã truy cập không hợp lệ hoặc đã hết hạn.",
                "The access token is invalid or expired.",
            ) from exc
        return with_active_agency(principal, agency.decode("latin-1"))

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        # Litestar's abstract hook; `__call__` above is the path actually taken.
        key = _credentials(connection.scope)
        return AuthenticationResult(user=await self._authenticate(*key), auth=key[0])


def authentication_middleware(verifier: TokenVerifier) -> DefineMiddleware:
    middleware_type = type(
        "ServiceBearerAuthentication",
        (BearerAuthenticationMiddleware,),
        {"verifier": verifier, "principals": PrincipalCache(verifier.leeway_seconds)},
    )
    return DefineMiddleware(middleware_type, exclude=list(PUBLIC_PATH_PATTERNS))
