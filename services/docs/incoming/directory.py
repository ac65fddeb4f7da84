"""The docs service's view of who works where: asked of the identity service, cached briefly."""

from __future__ import annotations

import time
import uuid

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

    async def member(self, tenant_id: uuid.UUID, username: str) -> Member | None:
        key = (tenant_id, username)
        cached = self._cache.get(key)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        try:
            headers = {
                "Authorization": f"Bearer {await self._tokens.token()}",
                "X-Agency-Id": str(tenant_id),
            }
            response = await self._http.get(
                f"{self._base}/api/v1/directory/members/{username}", headers=headers
            )
        except (httpx.TransportError, ServiceTokenError) as exc:
            raise DependencyUnavailable(
                "Không hỏi được dịch vụ danh bạ cán bộ; hãy thử lại sau.",
                "The identity service is unreachable; try again later.",
            ) from exc
        if response.status_code == 404:
            found = None
        elif response.status_code == 200:
            body = response.json()
            found = Member(
                username=body["username"], name=body["full_name"], department=body["department"]
            )
        else:
            raise DependencyUnavailable(
                "Dịch vụ danh bạ cán bộ trả lời lỗi; hãy thử lại sau.",
                "The identity service answered with an error; try again later.",
                identity_status=response.status_code,
            )
        self._cache[key] = (time.monotonic() + _TTL_SECONDS, found)
        return found
