"""The agencies of the platform, as the identity service lists them (public data), cached."""

from __future__ import annotations

import time
import uuid
from typing import Protocol

import httpx
import msgspec

from services.common.auth.service_tokens import ServiceTokenError, ServiceTokens
from services.common.problems import DependencyUnavailable

_TTL_SECONDS = 300.0


class Agency(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    code: str
    name: str
    short_name: str
    status: str
    # The registry's tree, for statistics rolled up over an agency's subordinates.
    level: str = ""
    parent_id: uuid.UUID | None = None


class Agencies(Protocol):
    async def by_code(self, code: str) -> Agency | None: ...

    async def by_id(self, agency_id: uuid.UUID) -> Agency | None: ...


class IdentityAgencies:
    """`Agencies` over HTTP: one list request every few minutes, lookups from memory."""

    def __init__(self, base_url: str, http: httpx.AsyncClient, tokens: ServiceTokens) -> None:
        self._base = base_url.rstrip("/")
        self._http = http
        self._tokens = tokens
        self._expires = 0.0
        self._all: list[Agency] = []
        self._by_code: dict[str, Agency] = {}
        self._by_id: dict[uuid.UUID, Agency] = {}

    async def _refresh(self) -> None:
        if self._expires > time.monotonic():
            return
        try:
            headers = {"Authorization": f"Bearer {await self._tokens.token()}"}
            response = await self._http.get(f"{self._base}/api/v1/agencies", headers=headers)
        except (httpx.TransportError, ServiceTokenError) as exc:
            raise DependencyUnavailable(
                "Không hỏi được danh mục cơ quan; hãy thử lại sau.",
                "The agency registry is unreachable; try again later.",
            ) from exc
        if response.status_code != 200:
            raise DependencyUnavailable(
                "Danh mục cơ quan trả lời lỗi.", "The agency registry answered with an error."
            )
        agencies = msgspec.convert(response.json(), list[Agency], strict=False)
        self._all = agencies
        self._by_code = {a.code: a for a in agencies}
        self._by_id = {a.id: a for a in agencies}
        self._expires = time.monotonic() + _TTL_SECONDS

    async def by_code(self, code: str) -> Agency | None:
        await self._refresh()
        return self._by_code.get(code)

    async def by_id(self, agency_id: uuid.UUID) -> Agency | None:
        await self._refresh()
        return self._by_id.get(agency_id)

    async def all(self) -> list[Agency]:
        """Every agency of the registry, whatever its status (a dissolved agency's documents
        still count toward its last parent's statistics)."""
        await self._refresh()
        return self._all
