"""Tokens for service-to-service calls, by the OAuth2 client-credentials grant, cached until
shortly before they expire."""

from __future__ import annotations

import asyncio
import time

import httpx

from services.common.settings import OidcSettings


class ServiceTokenError(Exception):
    """Keycloak did not issue a service token."""


class ServiceTokens:
    def __init__(
        self, settings: OidcSettings, client_id: str, client_secret: str, http: httpx.AsyncClient
    ) -> None:
        self._settings = settings
        self._client_id = client_id
        self._client_secret = client_secret
        self._http = http
        self._token = ""
        self._expires_at = 0.0
        self._lock = asyncio.Lock()

    async def token(self) -> str:
        if self._token and time.time() < self._expires_at - 30:
            return self._token
        async with self._lock:
            if self._token and time.time() < self._expires_at - 30:
                return self._token
            try:
                response = await self._http.post(
                    self._settings.token_url,
                    data={"grant_type": "client_credentials"},
                    auth=(self._client_id, self._client_secret),
                    timeout=10.0,
                )
                response.raise_for_status()
                body = response.json()
            except (httpx.HTTPError, ValueError) as exc:
                raise ServiceTokenError(f"client credentials for {self._client_id}: {exc}") from exc
            self._token = str(body["access_token"])
            self._expires_at = time.time() + float(body.get("expires_in", 60))
            return self._token
