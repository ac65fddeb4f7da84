"""Acting for someone else: a delegate acting under a delegation in force (X-Acting-For).

The identity service is the source of truth for delegations (ủy quyền). It shows a person the
delegations they gave or received, with their own token, so the docs service asks it with the
caller's token: what comes back cannot be about anyone else. `ActingForMiddleware` does this
once per request that carries the header, for every endpoint: the principal then carries the
delegator (`Principal.acting_for`), with the delegator's roles and their work, and every
audit entry names both people. A signature is made with the delegate's own certificate, and
`acting_for` names the delegator."""

from __future__ import annotations

import uuid
from typing import Protocol

import httpx
import msgspec
from litestar.enums import ScopeType
from litestar.middleware.base import MiddlewareProtocol
from litestar.types import ASGIApp, Receive, Scope, Send

from services.common.auth.principal import Delegator, Principal, Role
from services.common.problems import DependencyUnavailable, Forbidden, InvalidInput

# A delegation in force, checked with the identity service.
ActingFor = Delegator


class Delegations(Protocol):
    async def acting_for(
        self, tenant_id: uuid.UUID, principal: Principal, bearer: str, person_id: uuid.UUID
    ) -> ActingFor: ...


class _Delegation(msgspec.Struct, kw_only=True):
    delegator_id: uuid.UUID
    delegator_username: str
    delegator_roles: list[str] = []
    delegate_username: str


def refused() -> Forbidden:
    return Forbidden(
        "Không có ủy quyền đang hiệu lực cho người được nêu trong X-Acting-For.",
        "No delegation in force lets you act for the person named in X-Acting-For.",
    )


class IdentityDelegations:
    def __init__(self, base_url: str, http: httpx.AsyncClient) -> None:
        self._base = base_url.rstrip("/")
        self._http = http

    async def acting_for(
        self, tenant_id: uuid.UUID, principal: Principal, bearer: str, person_id: uuid.UUID
    ) -> ActingFor:
        try:
            response = await self._http.get(
                f"{self._base}/api/v1/delegations/active",
                headers={"Authorization": f"Bearer {bearer}", "X-Agency-Id": str(tenant_id)},
            )
        except httpx.TransportError as exc:
            raise DependencyUnavailable(
                "Không hỏi được dịch vụ ủy quyền; hãy thử lại sau.",
                "The identity service is unreachable; try again later.",
            ) from exc
        if response.status_code != 200:
            raise DependencyUnavailable(
                "Dịch vụ ủy quyền trả lời lỗi; hãy thử lại sau.",
                "The identity service answered with an error.",
                identity_status=response.status_code,
            )
        for delegation in msgspec.convert(response.json(), list[_Delegation], strict=False):
            if (
                delegation.delegator_id == person_id
                and delegation.delegate_username == principal.username
            ):
                roles = frozenset(
                    Role(r) for r in delegation.delegator_roles if r in Role.__members__.values()
                )
                return ActingFor(
                    person_id=person_id, username=delegation.delegator_username, roles=roles
                )
        raise refused()


def _header(scope: Scope) -> bytes | None:
    for name, value in scope["headers"]:
        if name == b"x-acting-for":
            return bytes(value)
    return None


class ActingForMiddleware(MiddlewareProtocol):
    """After authentication: a request with `X-Acting-For` gets a principal that acts for the
    delegator, or is refused (403) when no delegation in force backs the header. Requests
    without the header pay one scan of the raw headers."""

    def __init__(self, app: ASGIApp, delegations: Delegations) -> None:
        self.app = app
        self.delegations = delegations

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw = _header(scope) if scope["type"] == ScopeType.HTTP else None
        principal = scope.get("user")
        if raw is not None and isinstance(principal, Principal):
            scope["user"] = await self._acting(principal, raw, scope.get("auth"))
        await self.app(scope, receive, send)

    async def _acting(self, principal: Principal, raw: bytes, auth: object) -> Principal:
        try:
            person_id = uuid.UUID(raw.decode("latin-1").strip())
        except ValueError as exc:
            raise InvalidInput(
                "X-Acting-For phải là mã (UUID) của người ủy quyền.",
                "X-Acting-For must be the delegator's person id (a UUID).",
            ) from exc
        tenant_id = principal.active_agency_id
        if tenant_id is None or not isinstance(auth, bytes):
            raise refused()
        # The identity service shows a person only their own delegations: it is asked with
        # the caller's token.
        bearer = auth.decode("latin-1").partition(" ")[2].strip()
        delegator = await self.delegations.acting_for(tenant_id, principal, bearer, person_id)
        return msgspec.structs.replace(principal, acting_for=delegator)
