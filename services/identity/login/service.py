"""The web login as a backend for the frontend: the browser is sent to Keycloak and back, the
identity service exchanges the code and keeps the tokens, the browser gets a session cookie.

One login: `begin` stores a pending login (state, nonce, PKCE verifier, where to go next, and
a hash of the browser's login cookie) under its state for `login_timeout_seconds`; `complete`
takes it back exactly once (GETDEL), exchanges the code, verifies both tokens and creates the
session."""

from __future__ import annotations

import hashlib
import logging
import string
import time
from urllib.parse import quote, urlsplit

import msgspec
from redis.asyncio import Redis

from services.common.app_factory import Resources
from services.common.auth.oidc import (
    OidcClient,
    OidcRejected,
    OidcUnavailable,
    new_secret,
    pkce_pair,
)
from services.common.auth.principal import Principal
from services.common.auth.tokens import InvalidToken, TokenVerifier
from services.common.auth.web_sessions import SessionStore
from services.common.problems import DependencyUnavailable, InvalidInput
from services.identity.login.tokens import (
    InvalidLoginToken,
    JwtChecks,
    verify_id_token,
    verify_logout_token,
)
from services.identity.settings import IdentitySettings

PENDING_KEY = "qlvb:web-login:"
DEFAULT_NEXT = "/"
_MAX_NEXT_LENGTH = 2048
_MAX_PARAM_LENGTH = 4096
_URL_SAFE = frozenset(string.ascii_letters + string.digits + "-_")
_PRINTABLE_ASCII = "".join(chr(c) for c in range(0x21, 0x7F))

logger = logging.getLogger("qlvb.identity.login")


class PendingLogin(msgspec.Struct, frozen=True):
    code_verifier: str
    nonce: str
    next: str
    # SHA-256 of the login cookie of the browser that started the login: the callback must
    # come from the same browser (no login CSRF: a victim's browser cannot be made to finish
    # a login the attacker started).
    browser: str


class LoginStart(msgspec.Struct, frozen=True):
    authorization_url: str
    browser_key: str


class LoginDone(msgspec.Struct, frozen=True):
    session_id: str
    next: str


def safe_next(raw: str | None) -> str:
    """Where to land after login: only a path on this origin. `//host` and `/\\host` are
    other hosts to a browser (which also reads `\\` as `/` and drops tabs and newlines), so
    anything with a backslash or a control character is refused, as is any scheme or host."""
    if not raw or len(raw) > _MAX_NEXT_LENGTH or not raw.startswith("/"):
        return DEFAULT_NEXT
    if raw.startswith("//") or "\\" in raw or any(ord(c) < 0x20 or ord(c) == 0x7F for c in raw):
        return DEFAULT_NEXT
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc:
        return DEFAULT_NEXT
    # A Location header is ASCII: other characters (a Vietnamese path typed by hand) travel
    # percent-encoded, as a browser would send them.
    return quote(raw, safe=_PRINTABLE_ASCII)


def _url_safe(value: str) -> bool:
    return 0 < len(value) <= _MAX_PARAM_LENGTH and set(value) <= _URL_SAFE


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode("ascii")).hexdigest()


def _bad_callback(detail_vi: str, detail_en: str) -> InvalidInput:
    return InvalidInput(f"{detail_vi} Hãy đăng nhập lại.", f"{detail_en} Please log in again.")


class WebLogin:
    def __init__(
        self,
        redis: Redis,
        oidc: OidcClient,
        id_checks: JwtChecks,
        verifier: TokenVerifier,
        sessions: SessionStore,
        *,
        login_timeout_seconds: int,
        origin: str,
        cookie_secure: bool,
    ) -> None:
        self._redis = redis
        self._oidc = oidc
        self._id_checks = id_checks
        self._verifier = verifier
        self.sessions = sessions
        self.login_timeout_seconds = login_timeout_seconds
        # The browser-facing origin (`public_url`) and whether cookies are marked Secure.
        self.origin = origin
        self.cookie_secure = cookie_secure

    @classmethod
    def from_resources(cls, settings: IdentitySettings, resources: Resources) -> WebLogin:
        """Over the service's own clients: its Redis, HTTP client, key set and verifier."""
        origin = settings.web_origin
        oidc = OidcClient(
            settings.oidc,
            settings.web.client_id,
            settings.web.client_secret,
            f"{origin}/auth/callback",
            resources.http,
        )
        sessions = SessionStore(
            resources.redis,
            oidc,
            resources.verifier,
            refresh_margin_seconds=settings.web.refresh_margin_seconds,
        )
        return cls(
            resources.redis,
            oidc,
            JwtChecks(settings.oidc, resources.keys, settings.web.client_id),
            resources.verifier,
            sessions,
            login_timeout_seconds=settings.login_timeout_seconds,
            origin=origin,
            cookie_secure=settings.web.cookie_secure,
        )

    async def begin(
        self, next_path: str | None, browser_key: str | None, *, reauthenticate: bool = False
    ) -> LoginStart:
        """A pending login and the Keycloak URL to send the browser to. The browser keeps its
        login cookie when it has one, so logins started in two tabs both finish. With
        `reauthenticate`, Keycloak asks for the password even within its own session (a
        signature needs a recent login, services/docs/signatures/freshness.py)."""
        if browser_key is None or not _url_safe(browser_key) or len(browser_key) != 43:
            browser_key = new_secret()
        state, nonce = new_secret(), new_secret()
        verifier, challenge = pkce_pair()
        pending = PendingLogin(verifier, nonce, safe_next(next_path), _hash(browser_key))
        await self._redis.set(
            PENDING_KEY + state, msgspec.json.encode(pending), ex=self.login_timeout_seconds
        )
        url = self._oidc.authorization_url(
            state=state,
            nonce=nonce,
            code_challenge=challenge,
            reauthenticate=reauthenticate,
        )
        return LoginStart(url, browser_key)

    async def complete(
        self,
        *,
        state: str | None,
        code: str | None,
        error: str | None,
        issuer: str | None,
        browser_key: str | None,
    ) -> LoginDone:
        """The callback: Keycloak's answer to the login `state` started. Every failure is the
        request's (400) except an unreachable Keycloak (503)."""
        if state is None or not _url_safe(state):
            raise _bad_callback("Thiếu mã trạng thái đăng nhập.", "The login state is missing.")
        raw = await self._redis.getdel(PENDING_KEY + state)
        if raw is None:
            raise _bad_callback(
                "Phiên đăng nhập không tồn tại, đã hết hạn hoặc đã được dùng.",
                "The login is unknown, expired or already used.",
            )
        pending = msgspec.json.decode(raw, type=PendingLogin)
        if (
            browser_key is None
            or not _url_safe(browser_key)
            or _hash(browser_key) != pending.browser
        ):
            raise _bad_callback(
                "Đăng nhập được bắt đầu từ trình duyệt khác.",
                "The login was started in another browser.",
            )
        if issuer is not None and issuer != self._oidc.issuer:
            # RFC 9207: the answer comes from another authorization server (mix-up attack).
            raise _bad_callback("Máy chủ xác thực không đúng.", "Wrong authorization server.")
        if error is not None:
            raise _bad_callback(
                "Máy chủ xác thực từ chối đăng nhập.", "The authorization server refused the login."
            )
        if code is None or not 0 < len(code) <= _MAX_PARAM_LENGTH:
            raise _bad_callback("Thiếu mã ủy quyền.", "The authorization code is missing.")
        issued_at = int(time.time())
        try:
            tokens = await self._oidc.exchange_code(code, pending.code_verifier)
        except OidcRejected as exc:
            raise _bad_callback(
                "Mã ủy quyền không hợp lệ hoặc đã hết hạn.",
                "The authorization code is invalid or expired.",
            ) from exc
        except OidcUnavailable as exc:
            raise DependencyUnavailable(
                "Máy chủ xác thực tạm thời không trả lời.",
                "The authentication server is not answering.",
            ) from exc
        principal = await self._verified_principal(tokens.access_token)
        try:
            owner = await verify_id_token(
                self._id_checks,
                tokens.id_token,
                nonce=pending.nonce,
                access_token=tokens.access_token,
            )
        except InvalidLoginToken as exc:
            logger.warning("web_login_id_token_refused", extra={"error": str(exc)})
            raise _bad_callback("Mã định danh không hợp lệ.", "The ID token is invalid.") from exc
        if owner.subject != principal.subject:
            raise _bad_callback(
                "Mã định danh và mã truy cập không cùng người dùng.",
                "The ID token and the access token name different people.",
            )
        session_id = await self.sessions.create(tokens, principal, owner, issued_at)
        logger.info("web_login", extra={"subject": owner.subject, "sid": owner.keycloak_sid})
        return LoginDone(session_id, pending.next)

    async def _verified_principal(self, access_token: str) -> Principal:
        try:
            return await self._verifier.verify(access_token)
        except InvalidToken as exc:
            logger.warning("web_login_access_token_refused", extra={"error": str(exc)})
            raise _bad_callback(
                "Mã truy cập không hợp lệ.", "The access token is invalid."
            ) from exc

    async def logout(self, session_id: str | None) -> None:
        """End the QLVB session, then the Keycloak session behind it. Keycloak then notifies
        every client of that session by back channel, this service included (a no-op here)."""
        record = await self.sessions.end(session_id) if session_id else None
        if record is None or not record.refresh_token:
            return
        try:
            await self._oidc.end_session(record.refresh_token)
        except OidcUnavailable as exc:
            # The QLVB session is gone either way; Keycloak's own session ends at its idle
            # timeout, and a later login through its form is not affected.
            logger.warning("keycloak_logout_failed", extra={"error": str(exc)})

    async def backchannel_logout(self, logout_token: str) -> int:
        """OpenID Connect Back-Channel Logout 1.0: end the sessions the token names; how many."""
        try:
            owner = await verify_logout_token(self._id_checks, logout_token)
        except InvalidLoginToken as exc:
            logger.warning("backchannel_logout_refused", extra={"error": str(exc)})
            raise InvalidInput(
                "Mã đăng xuất không hợp lệ.", "The logout token is invalid."
            ) from exc
        if owner.keycloak_sid:
            ended = await self.sessions.end_keycloak_session(owner.keycloak_sid)
        else:
            ended = await self.sessions.end_subject(owner.subject)
        logger.info(
            "backchannel_logout",
            extra={"subject": owner.subject, "sid": owner.keycloak_sid, "sessions": ended},
        )
        return ended
