"""Signing for someone else: a delegate acting under a delegation in force (X-Acting-For).

The identity service is the source of truth for delegations (ủy quyền). It shows a person the
delegations they gave or received, with their own token, so the docs service asks it with the
caller's token: what comes back cannot be about anyone else. The signature then records both
people: the delegate signs with their own certificate, `acting_for` names the delegator."""

from __future__ import annotations

import uuid
from typing import Annotated, Protocol

import httpx
import msgspec
from litestar.params import HeaderParameter

from services.common.auth.principal import Principal
from services.common.problems import DependencyUnavailable, Forbidden

ACTING_FOR_HEADER = "X-Acting-For"

ActingForHeader = Annotated[
    uuid.UUID | None,
    HeaderParameter(
        name=ACTING_FOR_HEADER,
        required=False,
        description="Người ủy quyền mà người gọi đang thay mặt (the delegator acted for)",
    ),
]


class ActingFor(msgspec.Struct, frozen=True, kw_only=True):
    """A delegation in force, checked with the identity service."""

    person_id: uuid.UUID
    username: str


class Delegations(Protocol):
    async def acting_for(
        self, tenant_id: uuid.UUID, principal: Principal, bearer: str, person_id: uuid.UUID
    ) -> ActingFor: ...


class _Delegation(msgspec.Struct, kw_only=True):
    delegator_id: uuid.UUID
    delegator_username: str
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
                return ActingFor(person_id=person_id, username=delegation.delegator_username)
        raise refused()
