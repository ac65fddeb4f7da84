"""The docs service's view of who works where: asked of the identity service, cached briefly."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx

from services.common.auth.service_tokens import ServiceTokenError, ServiceTokens
from services.common.problems import DependencyUnavailable
from services.docs.incoming.service import Member

_TTL_SECONDS = 60.0


class IdentityDirectory:
    """`Directory` over HTTP, with the docs service's own token, acting for the agency."""

    def __init__(self, base_url: str, http: httpx.AsyncClient, tokens: ServiceTokens) -> None:
        self._base = base_url.rstrip("/")
        self._http = http
        self._tokens = tokens
        self._cache: dict[tuple[uuid.UUID, str], tuple[float, Member | None]] = {}
        self._lists: dict[uuid.UUID, tuple[float, list[Member]]] = {}

    async def member(self, tenant_id: uuid.UUID, username: str) -> Member | None:
        key = (tenant_id, username)
        cached = self._cache.get(key)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        response = await self._get(tenant_id, f"/api/v1/directory/members/{username}")
        found = None if response.status_code == 404 else _member(self._body(response))
        self._cache[key] = (time.monotonic() + _TTL_SECONDS, found)
        return found

    async def members(self, tenant_id: uuid.UUID) -> list[Member]:
        cached = self._lists.get(tenant_id)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        response = await self._get(tenant_id, "/api/v1/directory/members?limit=500")
        found = [_member(item) for item in self._body(response)]
        self._lists[tenant_id] = (time.monotonic() + _TTL_SECONDS, found)
        return found

    async def _get(self, tenant_id: uuid.UUID, path: str) -> httpx.Response:
        try:
            headers = {
                "Authorization": f"Bearer {await self._tokens.token()}",
                "X-Agency-Id": str(tenant_id),
            }
            return await self._http.get(f"{self._base}{path}", headers=headers)
        except (httpx.TransportError, ServiceTokenError) as exc:
            raise DependencyUnavailable(
                "Không hỏi được dịch vụ danh bạ cán bộ; hãy thử lại sau.",
                "The identity service is unreachable; try again later.",
            ) from exc

    @staticmethod
    def _body(response: httpx.Response) -> Any:
        if response.status_code != 200:
            raise DependencyUnavailable(
                "Dịch vụ danh bạ cán bộ trả lời lỗi; hãy thử lại sau.",
                "The identity service answered with an error; try again later.",
                identity_status=response.status_code,
            )
        return response.json()


def _member(body: dict[str, Any]) -> Member:
    return Member(
        username=body["username"],
        name=body["full_name"],
        department=body["department"],
        position=body.get("position") or "",
        roles=tuple(body.get("roles") or ()),
    )
