"""Keycloak as the web UI's OpenID provider: the authorization request (code + PKCE S256), the
token endpoint (code exchange, refresh) and the end of a Keycloak session.

The endpoints follow Keycloak's fixed layout under the issuer, as the kernel's `OidcSettings`
does for the token endpoint, so no discovery document is fetched."""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
from urllib.parse import urlencode

import httpx
import msgspec

from services.common.settings import OidcSettings

logger = logging.getLogger("qlvb.oidc")


class OidcRejected(Exception):
    """Keycloak refused the grant (`invalid_grant`: a used or expired code, a wrong verifier, an
    ended session). The caller's input is at fault, not the platform."""


class OidcUnavailable(Exception):
    """Keycloak could not be reached, answered with an error of its own, or refused this
    client's credentials (a deployment fault)."""


class TokenResponse(msgspec.Struct, frozen=True):
    access_token: str
    expires_in: int
    refresh_token: str = ""
    # 0 means the refresh token does not expire on its own (Keycloak's offline tokens).
    refresh_expires_in: int = 0
    id_token: str = ""


def new_secret() -> str:
    """256 random bits, URL-safe (state, nonce, session ids)."""
    return secrets.token_urlsafe(32)


def pkce_pair() -> tuple[str, str]:
    """A code verifier and its S256 challenge (RFC 7636 section 4.1-4.2): 64 random bytes give
    an 86-character verifier, inside the 43-128 the RFC allows."""
    verifier = secrets.token_urlsafe(64)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class OidcClient:
    def __init__(
        self,
        settings: OidcSettings,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        http: httpx.AsyncClient,
    ) -> None:
        self.issuer = settings.issuer
        self.client_id = client_id
        self.redirect_uri = redirect_uri
        self._secret = client_secret
        self._http = http
        self._token_url = settings.token_url
        self._authorization_url = f"{settings.issuer}/protocol/openid-connect/auth"
        self._logout_url = f"{settings.issuer}/protocol/openid-connect/logout"

    def authorization_url(
        self, *, state: str, nonce: str, code_challenge: str, reauthenticate: bool = False
    ) -> str:
        """With `reauthenticate` (a signature needs a fresh authentication), Keycloak asks for
        the password even within its own session: `prompt=login` (OIDC Core 3.1.2.1), and
        `max_age=0` so that the ID token states `auth_time`. `max_age=0` alone is not enough:
        Keycloak counts whole seconds and lets a login of the same second pass."""
        params = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": "openid",
            "state": state,
            "nonce": nonce,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        }
        if reauthenticate:
            params |= {"prompt": "login", "max_age": "0"}
        return f"{self._authorization_url}?{urlencode(params)}"

    async def exchange_code(self, code: str, code_verifier: str) -> TokenResponse:
        return await self._token(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": self.redirect_uri,
                "code_verifier": code_verifier,
            }
        )

    async def refresh(self, refresh_token: str) -> TokenResponse:
        return await self._token({"grant_type": "refresh_token", "refresh_token": refresh_token})

    async def end_session(self, refresh_token: str) -> None:
        """End the Keycloak session the refresh token belongs to, server to server (Keycloak's
        logout endpoint accepts a confidential client's refresh token). The browser need not
        visit Keycloak: its SSO cookie then names a session that no longer exists."""
        try:
            response = await self._http.post(
                self._logout_url,
                data={"refresh_token": refresh_token},
                auth=(self.client_id, self._secret),
            )
        except httpx.HTTPError as exc:
            raise OidcUnavailable(f"logout: {exc!r}") from exc
        if response.status_code == 400:
            # The session had already ended (idle timeout, an administrator, another device).
            return
        if response.status_code >= 300:
            raise OidcUnavailable(f"logout: HTTP {response.status_code}")

    async def _token(self, form: dict[str, str]) -> TokenResponse:
        try:
            response = await self._http.post(
                self._token_url, data=form, auth=(self.client_id, self._secret)
            )
        except httpx.HTTPError as exc:
            raise OidcUnavailable(f"token endpoint: {exc!r}") from exc
        if response.status_code == 200:
            try:
                return msgspec.json.decode(response.content, type=TokenResponse)
            except msgspec.DecodeError as exc:
                raise OidcUnavailable(f"token endpoint: unreadable answer: {exc}") from exc
        error = _error_code(response)
        if response.status_code == 400 and error in {"invalid_grant", "invalid_request"}:
            raise OidcRejected(error)
        # invalid_client / unauthorized_client: this deployment's client settings are wrong.
        logger.error(
            "oidc_token_endpoint_error",
            extra={"status": response.status_code, "error": error, "client_id": self.client_id},
        )
        raise OidcUnavailable(f"token endpoint: HTTP {response.status_code} {error}")


class _ErrorBody(msgspec.Struct):
    error: str = ""


def _error_code(response: httpx.Response) -> str:
    try:
        return msgspec.json.decode(response.content, type=_ErrorBody).error
    except msgspec.DecodeError:
        return ""
