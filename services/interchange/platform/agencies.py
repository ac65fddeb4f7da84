"""The agencies of this platform, as the identity service lists them, cached.

Routing asks one question per recipient: is this code an agency (a tenant) of ours? The whole
registry is one small list (a province has a few thousand agencies), fetched every few minutes
and looked up in memory; a code not found forces one refetch, at most every few seconds, so an
agency created a moment ago is found without letting unknown codes flood identity."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Protocol

import httpx
import msgspec

from services.common.auth.service_tokens import ServiceTokenError, ServiceTokens
from services.interchange.failures import TemporaryFailure

ACTIVE = "active"


class Agency(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    code: str
    name: str
    short_name: str = ""
    status: str = ACTIVE
    address: str = ""
    phone: str = ""
    email: str = ""
    website: str = ""

    @property
    def active(self) -> bool:
        return self.status == ACTIVE


class Agencies(Protocol):
    async def by_code(self, code: str) -> Agency | None: ...

    async def by_id(self, agency_id: uuid.UUID) -> Agency | None: ...


class IdentityAgencies:
    """`Agencies` over `GET /api/v1/agencies` of the identity service."""

    def __init__(
        self,
        base_url: str,
        http: httpx.AsyncClient,
        tokens: ServiceTokens,
        *,
        ttl_seconds: float = 300.0,
        miss_seconds: float = 5.0,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._http = http
        self._tokens = tokens
        self._ttl = ttl_seconds
        self._miss = miss_seconds
        self._fetched = -1e18
        self._by_code: dict[str, Agency] = {}
        self._by_id: dict[uuid.UUID, Agency] = {}
        self._lock = asyncio.Lock()

    async def _fetch(self) -> None:
        try:
            headers = {"Authorization": f"Bearer {await self._tokens.token()}"}
            response = await self._http.get(f"{self._base}/api/v1/agencies", headers=headers)
        except (httpx.TransportError, ServiceTokenError) as error:
            raise TemporaryFailure(
                "Không hỏi được danh mục cơ quan; sẽ thử lại sau.",
                "The agency registry is unreachable; will try again later.",
            ) from error
        if response.status_code != 200:
            raise TemporaryFailure(
                "Danh mục cơ quan trả lời lỗi.",
                f"The agency registry answered HTTP {response.status_code}.",
            )
        agencies = msgspec.json.decode(response.content, type=list[Agency], strict=False)
        self._by_code = {agency.code: agency for agency in agencies}
        self._by_id = {agency.id: agency for agency in agencies}
        self._fetched = time.monotonic()

    async def _refresh(self, *, missed: bool) -> None:
        age = time.monotonic() - self._fetched
        if age < self._ttl and not (missed and age >= self._miss):
            return
        async with self._lock:
            age = time.monotonic() - self._fetched
            if age < self._ttl and not (missed and age >= self._miss):
                return  # another task refreshed while this one waited
            await self._fetch()

    async def by_code(self, code: str) -> Agency | None:
        await self._refresh(missed=False)
        found = self._by_code.get(code)
        if found is None:
            await self._refresh(missed=True)
            found = self._by_code.get(code)
        return found

    async def by_id(self, agency_id: uuid.UUID) -> Agency | None:
        await self._refresh(missed=False)
        found = self._by_id.get(agency_id)
        if found is None:
            await self._refresh(missed=True)
            found = self._by_id.get(agency_id)
        return found
