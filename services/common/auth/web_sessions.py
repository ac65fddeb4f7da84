"""Server-side web sessions in Redis. The browser holds only a random 256-bit id (the cookie
`qlvb_session`); the tokens never leave the server.

Any service serving the web UI resolves the cookie with `SessionStore.resolve`, which returns a
fresh access token and the principal it describes, with the active agency checked against that
token's memberships on every call.

Keys (each expires with its session; `<digest>` is the SHA-256 of the session id, so whoever
reads Redis cannot turn a key back into a working cookie):

    qlvb:web-session:<digest>         hash: `record` (StoredSession as JSON), `agency` (id or "")
    qlvb:web-session-sid:<sid>        set of digests: the sessions of one Keycloak session
    qlvb:web-session-sub:<subject>    set of digests: the sessions of one person
    qlvb:web-session-lock:<digest>    held while the session's tokens are being refreshed
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import time
import uuid

import msgspec
from redis.asyncio import Redis
from redis.exceptions import LockError

from services.common.auth.oidc import (
    OidcClient,
    OidcRejected,
    OidcUnavailable,
    TokenResponse,
    new_secret,
)
from services.common.auth.principal import Membership, Principal
from services.common.auth.tokens import InvalidToken, TokenVerifier
from services.common.problems import DependencyUnavailable, Forbidden

SESSION_COOKIE = "qlvb_session"
SESSION_KEY = "qlvb:web-session:"
SID_INDEX = "qlvb:web-session-sid:"
SUBJECT_INDEX = "qlvb:web-session-sub:"
LOCK_KEY = "qlvb:web-session-lock:"
# What `new_secret` makes: 32 bytes in unpadded base64url. Anything else is not looked up.
_SESSION_ID = re.compile(r"[A-Za-z0-9_-]{43}")
# An access token with less than this left is not handed out while another request refreshes.
_USABLE_SECONDS = 5
_LOCK_SECONDS = 15.0

logger = logging.getLogger("qlvb.web_sessions")

# Writes to a session only while it exists: a refresh or an agency switch that finishes after a
# logout must not bring the session back. KEYS[1] the session, KEYS[2..] its indexes;
# ARGV: field, value, new expiry (Unix seconds, 0 keeps it). Indexes only ever live longer.
_UPDATE_IF_PRESENT = """
if redis.call('exists', KEYS[1]) == 0 then return 0 end
redis.call('hset', KEYS[1], ARGV[1], ARGV[2])
local at = tonumber(ARGV[3])
if at > 0 then
  redis.call('expireat', KEYS[1], at)
  for i = 2, #KEYS do redis.call('expireat', KEYS[i], at, 'GT') end
end
return 1
"""


class SessionOwner(msgspec.Struct, frozen=True):
    """Whom a token speaks of: the subject and the Keycloak session (`sid`), either may be
    empty in a logout token (never both)."""

    subject: str
    keycloak_sid: str


class StoredSession(msgspec.Struct, frozen=True, kw_only=True):
    subject: str
    username: str
    name: str
    # Keycloak's session id (`sid`), the handle of back-channel logout.
    keycloak_sid: str
    # As in the current access token; `resolve` checks the active agency against the token.
    memberships: tuple[Membership, ...]
    access_token: str
    access_expires_at: int
    refresh_token: str
    # 0: the refresh token has no expiry of its own; the session then ends with the access token.
    refresh_expires_at: int
    # Kept for an RP-initiated logout (`id_token_hint`) should a deployment need one.
    id_token: str
    created_at: int

    @property
    def expires_at(self) -> int:
        return self.refresh_expires_at or self.access_expires_at


class ActiveSession(msgspec.Struct, frozen=True):
    """A resolved session: an access token good for at least a few seconds more, and its
    principal with the session's active agency applied (always one of the token's memberships,
    or none)."""

    access_token: str
    principal: Principal

    @property
    def active_agency_id(self) -> uuid.UUID | None:
        return self.principal.active_agency_id


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("ascii")).hexdigest()


def _indexes(record: StoredSession) -> list[str]:
    keys = [SUBJECT_INDEX + record.subject]
    if record.keycloak_sid:
        keys.append(SID_INDEX + record.keycloak_sid)
    return keys


def _text(raw: bytes | str | None) -> str:
    if raw is None:
        return ""
    return raw.decode() if isinstance(raw, bytes) else raw


def _agency(raw: bytes | str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(_text(raw)) if raw else None
    except ValueError:
        return None


class SessionStore:
    """Create, resolve, switch the agency of, and end web sessions. Each call is one or two
    Redis round trips; a refresh adds one call to Keycloak's token endpoint, one at a time per
    session (a Redis lock), while other requests keep using the still-valid token."""

    def __init__(
        self,
        redis: Redis,
        oidc: OidcClient,
        verifier: TokenVerifier,
        *,
        refresh_margin_seconds: int = 60,
    ) -> None:
        self._redis = redis
        self._oidc = oidc
        self._verifier = verifier
        self._margin = refresh_margin_seconds
        self._update = redis.register_script(_UPDATE_IF_PRESENT)

    # ------------------------------------------------------------------ create

    async def create(
        self, tokens: TokenResponse, principal: Principal, owner: SessionOwner, issued_at: int
    ) -> str:
        """A new session for a completed login; its id (the cookie value). `issued_at` is when
        the token request was sent, so expiry times err on the early side."""
        session_id = new_secret()
        record = StoredSession(
            subject=owner.subject,
            username=principal.username,
            name=principal.name,
            keycloak_sid=owner.keycloak_sid,
            memberships=principal.memberships,
            access_token=tokens.access_token,
            access_expires_at=issued_at + tokens.expires_in,
            refresh_token=tokens.refresh_token,
            refresh_expires_at=issued_at + tokens.refresh_expires_in
            if tokens.refresh_token and tokens.refresh_expires_in
            else 0,
            id_token=tokens.id_token,
            created_at=issued_at,
        )
        digest = _digest(session_id)
        expires_at = record.expires_at
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(
                SESSION_KEY + digest,
                mapping={
                    "record": msgspec.json.encode(record),
                    "agency": str(principal.active_agency_id or ""),
                },
            )
            pipe.expireat(SESSION_KEY + digest, expires_at)
            for index in _indexes(record):
                pipe.sadd(index, digest)
                # NX gives a new index its expiry, GT lets an older one only live longer.
                pipe.expireat(index, expires_at, nx=True)
                pipe.expireat(index, expires_at, gt=True)
            await pipe.execute()
        return session_id

    # ------------------------------------------------------------------ use

    async def resolve(self, session_id: str) -> ActiveSession | None:
        """The session's access token (refreshed when near expiry) and principal; None when
        there is no such session or it can no longer be used (the person must log in again)."""
        if not _SESSION_ID.fullmatch(session_id):
            return None
        digest = _digest(session_id)
        raw_record, raw_agency = await self._redis.hmget(SESSION_KEY + digest, ["record", "agency"])
        if raw_record is None:
            return None
        record = msgspec.json.decode(raw_record, type=StoredSession)
        if record.access_expires_at - time.time() <= self._margin:
            refreshed = await self._refresh(digest, record)
            if refreshed is None:
                return None
            record = refreshed
        return await self._activate(record, _agency(raw_agency))

    async def select_agency(self, session_id: str, agency_id: uuid.UUID) -> ActiveSession | None:
        """Make `agency_id` the session's active agency; Forbidden unless the current access
        token names it among the person's memberships. None when there is no session."""
        active = await self.resolve(session_id)
        if active is None:
            return None
        if active.principal.membership(agency_id) is None:
            raise Forbidden(
                "Bạn không có chức vụ tại cơ quan đã chọn.",
                "The selected agency is not among your memberships.",
            )
        digest = _digest(session_id)
        if not await self._update(keys=[SESSION_KEY + digest], args=["agency", str(agency_id), 0]):
            return None  # ended meanwhile
        principal = msgspec.structs.replace(active.principal, active_agency_id=agency_id)
        return ActiveSession(active.access_token, principal)

    # ------------------------------------------------------------------ end

    async def end(self, session_id: str) -> StoredSession | None:
        """Delete the session; its record (for ending the Keycloak session too), or None."""
        if not _SESSION_ID.fullmatch(session_id):
            return None
        return await self._end_digest(_digest(session_id))

    async def end_keycloak_session(self, keycloak_sid: str) -> int:
        """Delete every session of one Keycloak session (back-channel logout); how many."""
        return await self._end_indexed(SID_INDEX + keycloak_sid)

    async def end_subject(self, subject: str) -> int:
        """Delete every session of one person; how many."""
        return await self._end_indexed(SUBJECT_INDEX + subject)

    async def _end_digest(self, digest: str) -> StoredSession | None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hget(SESSION_KEY + digest, "record")
            pipe.delete(SESSION_KEY + digest)
            raw, _ = await pipe.execute()
        if raw is None:
            return None
        record = msgspec.json.decode(raw, type=StoredSession)
        async with self._redis.pipeline(transaction=False) as pipe:
            for index in _indexes(record):
                pipe.srem(index, digest)
            await pipe.execute()
        return record

    async def _end_indexed(self, index: str) -> int:
        digests = await self._redis.smembers(index)
        async with self._redis.pipeline(transaction=True) as pipe:
            for digest in digests:
                pipe.delete(SESSION_KEY + _text(digest))
            pipe.delete(index)
            deleted = await pipe.execute()
        # The other index of each deleted session keeps a stale digest until it expires;
        # deleting an absent key later is harmless.
        return sum(int(n) for n in deleted[:-1])

    # ------------------------------------------------------------------ internals

    async def _activate(
        self, record: StoredSession, agency: uuid.UUID | None
    ) -> ActiveSession | None:
        try:
            principal = await self._verifier.verify(record.access_token)
        except InvalidToken as exc:
            logger.warning("web_session_token_invalid", extra={"error": str(exc)})
            return None
        # The stored choice counts only while the token still names the agency; otherwise the
        # token's own default applies (its single membership, or none).
        if agency is not None and principal.membership(agency) is not None:
            principal = msgspec.structs.replace(principal, active_agency_id=agency)
        return ActiveSession(record.access_token, principal)

    async def _refresh(self, digest: str, seen: StoredSession) -> StoredSession | None:
        lock = self._redis.lock(
            LOCK_KEY + digest,
            timeout=_LOCK_SECONDS,
            blocking_timeout=_LOCK_SECONDS,
            thread_local=False,
        )
        if not await lock.acquire(blocking=False):
            if seen.access_expires_at - time.time() > _USABLE_SECONDS:
                return seen  # another request is refreshing; this one still has a good token
            if not await lock.acquire():
                raise DependencyUnavailable(
                    "Không gia hạn được phiên đăng nhập, hãy thử lại.",
                    "The session could not be renewed; try again.",
                )
        try:
            return await self._refresh_locked(digest, seen)
        finally:
            with contextlib.suppress(LockError):
                await lock.release()

    async def _refresh_locked(self, digest: str, seen: StoredSession) -> StoredSession | None:
        raw = await self._redis.hget(SESSION_KEY + digest, "record")
        if raw is None:
            return None
        current = msgspec.json.decode(raw, type=StoredSession)
        if current.access_token != seen.access_token:
            return current  # refreshed by the request that held the lock before this one
        now = int(time.time())
        try:
            tokens = await self._oidc.refresh(current.refresh_token)
        except OidcRejected:
            # Keycloak ended the session (idle or maximum time, an administrator, a logout the
            # back channel did not deliver): so does QLVB.
            await self._end_digest(digest)
            return None
        except OidcUnavailable as exc:
            if current.access_expires_at - time.time() > _USABLE_SECONDS:
                logger.warning("web_session_refresh_deferred", extra={"error": str(exc)})
                return current
            raise DependencyUnavailable(
                "Máy chủ xác thực tạm thời không trả lời.",
                "The authentication server is not answering.",
            ) from exc
        try:
            principal = await self._verifier.verify(tokens.access_token)
        except InvalidToken as exc:
            raise DependencyUnavailable(
                "Không kiểm tra được mã truy cập mới.", "The renewed access token failed checks."
            ) from exc
        if principal.subject != current.subject:
            await self._end_digest(digest)
            return None
        updated = msgspec.structs.replace(
            current,
            username=principal.username,
            name=principal.name,
            memberships=principal.memberships,
            access_token=tokens.access_token,
            access_expires_at=now + tokens.expires_in,
            refresh_token=tokens.refresh_token or current.refresh_token,
            refresh_expires_at=now + tokens.refresh_expires_in
            if tokens.refresh_expires_in
            else current.refresh_expires_at,
            id_token=tokens.id_token or current.id_token,
        )
        written = await self._update(
            keys=[SESSION_KEY + digest, *_indexes(updated)],
            args=["record", msgspec.json.encode(updated), updated.expires_at],
        )
        return updated if written else None
