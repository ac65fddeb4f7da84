"""The realm's admin API as the Keycloak push uses it: python-keycloak's async client, logged in
as the identity service's own account (client credentials), with bulk listings and a count of
every admin request sent.

Listings are paged (`first`/`max`), never one GET per user, so reading a province of 20,000
accounts costs about twenty requests. Every request is counted by method through an httpx
event hook on the client's connection (the token requests go through another client and are
not counted): the count is what tests and benchmarks check "only the differences are sent"
against."""

from __future__ import annotations

import asyncio
import collections
import uuid
from collections.abc import Mapping
from typing import Any, TypeVar

import httpx
import msgspec
from keycloak import KeycloakAdmin
from keycloak.exceptions import KeycloakError

from services.common.problems import DependencyUnavailable
from services.identity.settings import IdentitySettings

SERVICE_ACCOUNT_PREFIX = "service-account-"
_WRITE_METHODS = frozenset({"POST", "PUT", "DELETE"})


class KeycloakUser(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """A realm account as the admin API lists it (the parts the push compares)."""

    id: str
    username: str
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    enabled: bool = True
    email_verified: bool = False
    attributes: dict[str, list[str]] = {}


class KeycloakGroup(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    path: str = ""
    attributes: dict[str, list[str]] = {}


class KeycloakRefusal(Exception):
    """Keycloak refused one request (a 4xx other than an authorization failure): the item is
    reported and the push goes on with the others."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.message = message


def _refusal_or_unavailable(exc: KeycloakError) -> Exception:
    status = exc.response_code
    body = exc.response_body or b""
    message = body.decode("utf-8", "replace")[:300] if isinstance(body, bytes) else str(body)
    raw = exc.error_message
    message = message or (raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw)
    if status is not None and 400 <= status < 500 and status not in (401, 403):
        return KeycloakRefusal(status, message)
    # Unreachable, a 5xx, or the service account lacks a role: nothing else would succeed.
    return DependencyUnavailable(
        "Không gọi được API quản trị Keycloak.",
        f"The Keycloak admin API failed (HTTP {status}): {message}",
    )


T = TypeVar("T")

_USERS = msgspec.json.Decoder(list[KeycloakUser])
_GROUPS = msgspec.json.Decoder(list[KeycloakGroup])
_BRIEF = msgspec.json.Decoder(list[dict[str, Any]])


class KeycloakGateway:
    def __init__(
        self, admin: KeycloakAdmin, *, realm: str, page_size: int = 100, concurrency: int = 8
    ) -> None:
        self.admin = admin
        self.realm = realm
        self.page_size = page_size
        self.concurrency = concurrency
        # Admin requests sent, by HTTP method.
        self.calls: collections.Counter[str] = collections.Counter()
        self._client: httpx.AsyncClient = admin.connection.async_s
        self._client.event_hooks["request"].append(self._count)
        self._base = f"admin/realms/{realm}"
        self._role_cache: dict[str, dict[str, Any]] = {}

    @classmethod
    def from_settings(cls, settings: IdentitySettings) -> KeycloakGateway:
        admin = KeycloakAdmin(
            server_url=settings.keycloak_server_url,
            realm_name=settings.keycloak_realm_name,
            client_id=settings.client_id,
            client_secret_key=settings.client_secret,
            timeout=30,
            pool_maxsize=max(settings.keycloak_sync_concurrency * 2, 10),
        )
        return cls(
            admin,
            realm=settings.keycloak_realm_name,
            page_size=settings.keycloak_sync_page_size,
            concurrency=settings.keycloak_sync_concurrency,
        )

    async def _count(self, request: httpx.Request) -> None:
        self.calls[request.method] += 1

    @property
    def writes(self) -> int:
        return sum(n for method, n in self.calls.items() if method in _WRITE_METHODS)

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    async def open(self) -> None:
        """Fetches the service account's token up front (python-keycloak would otherwise send
        the first request without one and retry it after a 401)."""
        try:
            await self.admin.connection.a_get_token()
        except KeycloakError as exc:
            raise _refusal_or_unavailable(exc) from exc

    async def close(self) -> None:
        await self.admin.connection.aclose()
        await self.admin.connection.keycloak_openid.connection.aclose()

    # --- reading --------------------------------------------------------------------------

    async def _get(self, path: str, **params: Any) -> bytes:
        if self.admin.connection.token is None:
            await self.open()
        url = f"{self._base}/{path}" if path else self._base
        try:
            response = await self.admin.connection.a_raw_get(url, **params)
        except KeycloakError as exc:
            raise _refusal_or_unavailable(exc) from exc
        if response.status_code != 200:
            raise _refusal_or_unavailable(
                KeycloakError(response.text[:300], response.status_code, response.content)
            )
        return response.content

    async def _pages(
        self, path: str, params: Mapping[str, Any], decoder: msgspec.json.Decoder[list[T]]
    ) -> list[T]:
        """Every item of a listing. After the first page the next few are fetched at once; a
        page shorter than `page_size` is the last."""
        size = self.page_size
        items: list[T] = []
        first = 0
        while True:
            batch = 1 if first == 0 else 4
            bodies = await asyncio.gather(
                *(self._get(path, **params, first=first + i * size, max=size) for i in range(batch))
            )
            for body in bodies:
                page = decoder.decode(body)
                items.extend(page)
                if len(page) < size:
                    return items
            first += batch * size

    async def list_users(self, username_prefix: str = "") -> list[KeycloakUser]:
        """The realm's people (full representations, attributes included), optionally only
        those whose username starts with the prefix; never the service accounts."""
        params: dict[str, Any] = {"briefRepresentation": "false"}
        if username_prefix:
            # Keycloak's `search` is a prefix match on username, e-mail and names.
            params["search"] = username_prefix
        return [
            u
            for u in await self._pages("users", params, _USERS)
            if u.username.startswith(username_prefix)
            and not u.username.startswith(SERVICE_ACCOUNT_PREFIX)
        ]

    async def find_user(self, username: str) -> KeycloakUser | None:
        body = await self._get(
            "users", username=username, exact="true", briefRepresentation="false"
        )
        found = [u for u in _USERS.decode(body) if u.username == username]
        return found[0] if found else None

    async def get_user(self, user_id: str) -> KeycloakUser | None:
        try:
            body = await self._get(f"users/{user_id}")
        except KeycloakRefusal as refusal:
            if refusal.status == 404:
                return None
            raise
        return msgspec.json.decode(body, type=KeycloakUser)

    async def list_groups(self) -> list[KeycloakGroup]:
        """The top-level groups, with their attributes."""
        return await self._pages("groups", {"briefRepresentation": "false"}, _GROUPS)

    async def group_member_names(self, group_id: str) -> set[str]:
        params = {"briefRepresentation": "true"}
        members = await self._pages(f"groups/{group_id}/members", params, _BRIEF)
        return {str(member["username"]) for member in members}

    async def role_member_names(self, role: str) -> set[str]:
        members = await self._pages(f"roles/{role}/users", {"briefRepresentation": "true"}, _BRIEF)
        return {str(member["username"]) for member in members}

    async def realm_id(self) -> str:
        """The realm's internal id: a realm deleted and imported again has a new one."""
        return str(msgspec.json.decode(await self._get(""), type=dict[str, Any])["id"])

    async def user_group_ids(self, user_id: str) -> set[str]:
        body = await self._get(f"users/{user_id}/groups", briefRepresentation="true")
        return {str(group["id"]) for group in _BRIEF.decode(body)}

    async def user_sessions(self, user_id: str) -> list[dict[str, Any]]:
        return _BRIEF.decode(await self._get(f"users/{user_id}/sessions"))

    # --- writing ---------------------------------------------------------------------------

    async def _call(self, operation: Any) -> Any:
        if self.admin.connection.token is None:
            await self.open()
        try:
            return await operation
        except KeycloakError as exc:
            raise _refusal_or_unavailable(exc) from exc

    async def create_user(self, representation: dict[str, Any]) -> uuid.UUID:
        return uuid.UUID(str(await self._call(self.admin.a_create_user(representation))))

    async def update_user(self, user_id: str, representation: dict[str, Any]) -> None:
        await self._call(self.admin.a_update_user(user_id, representation))

    async def logout(self, user_id: str) -> None:
        """Ends every session of the account (Keycloak tells the clients by back-channel)."""
        await self._call(self.admin.a_user_logout(user_id))

    async def delete_user(self, user_id: str) -> None:
        await self._call(self.admin.a_delete_user(user_id))

    async def create_group(self, representation: dict[str, Any]) -> str:
        return str(await self._call(self.admin.a_create_group(representation)))

    async def update_group(self, group_id: str, representation: dict[str, Any]) -> None:
        await self._call(self.admin.a_update_group(group_id, representation))

    async def delete_group(self, group_id: str) -> None:
        await self._call(self.admin.a_delete_group(group_id))

    async def add_to_group(self, user_id: str, group_id: str) -> None:
        await self._call(self.admin.a_group_user_add(user_id, group_id))

    async def remove_from_group(self, user_id: str, group_id: str) -> None:
        await self._call(self.admin.a_group_user_remove(user_id, group_id))

    async def _realm_role(self, name: str) -> dict[str, Any]:
        if name not in self._role_cache:
            role: dict[str, Any] = await self._call(self.admin.a_get_realm_role(name))
            self._role_cache[name] = {"id": role["id"], "name": role["name"]}
        return self._role_cache[name]

    async def grant_realm_role(self, user_id: str, name: str) -> None:
        role = await self._realm_role(name)
        await self._call(self.admin.a_assign_realm_roles(user_id, [role]))

    async def revoke_realm_role(self, user_id: str, name: str) -> None:
        role = await self._realm_role(name)
        await self._call(self.admin.a_delete_realm_roles_of_user(user_id, [role]))

    async def set_temporary_password(self, user_id: str, password: str) -> None:
        """A password the person must change at their next login (Keycloak's UPDATE_PASSWORD
        required action)."""
        await self._call(self.admin.a_set_user_password(user_id, password, temporary=True))
