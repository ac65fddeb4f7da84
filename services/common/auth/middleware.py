"""Litestar authentication: a bearer token becomes `request.user`, a `Principal`.

The active agency comes from the `X-Agency-Id` header (the agency switcher) and must be one of
the token's memberships; a caller with a single membership acts in it by default."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.middleware.base import DefineMiddleware

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
    if principal.membership(agency_id) is None:
        raise Forbidden(
            "Bạn không có chức vụ tại cơ quan đã chọn.",
            "The selected agency is not among your memberships.",
        )
    return msgspec.structs.replace(principal, active_agency_id=agency_id)


class BearerAuthenticationMiddleware(AbstractAuthenticationMiddleware):
    verifier: TokenVerifier

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        header = connection.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
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
        principal = with_active_agency(principal, connection.headers.get(ACTIVE_AGENCY_HEADER))
        return AuthenticationResult(user=principal, auth=token)


def authentication_middleware(verifier: TokenVerifier) -> DefineMiddleware:
    middleware_type = type(
        "ServiceBearerAuthentication", (BearerAuthenticationMiddleware,), {"verifier": verifier}
    )
    return DefineMiddleware(middleware_type, exclude=list(PUBLIC_PATH_PATTERNS))
