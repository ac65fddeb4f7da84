"""The other services' HTTP APIs, called by the administration pages as the person looking at
them: their own access token, their active agency. Identity and interchange keep deciding what
each person may see and do; a page only shows their answer.

A refusal (an RFC 9457 problem) becomes a `Problem` with the same status and the service's own
words, so the page's error handler shows it as it shows ours; a service that cannot be reached
becomes a 503 page."""

from __future__ import annotations

import functools
import logging
import uuid
from typing import Any, Literal, TypeVar, cast

import httpx
import msgspec

from services.common.problems import DependencyUnavailable, Problem
from services.docs.web.auth import LoginRequired

Service = Literal["identity", "interchange"]
T = TypeVar("T")
logger = logging.getLogger("qlvb.docs.web.upstream")

_NAMES: dict[Service, tuple[str, str]] = {
    "identity": ("dịch vụ quản lý cơ quan, cán bộ", "the identity service"),
    "interchange": ("dịch vụ liên thông văn bản", "the interchange service"),
}


class Caller(msgspec.Struct, frozen=True, kw_only=True):
    """Who a call is made as."""

    token: str
    # Sent as X-Agency-Id; None for a platform operator, who holds no membership and names the
    # agency in the request itself.
    agency_id: uuid.UUID | None
    # The language the service answers problems in: the page's.
    locale: str = "vi"
    # Where the browser goes back to after logging in again, should the token be refused.
    here: str = "/admin"


class UpstreamProblem(Problem):
    """A problem another service answered, passed on. `status` is set per answer (see
    `_problem_type`); `errors` carries the lines of a refused import."""

    code = "upstream"

    def __init__(self, title: str, detail: str, errors: list[dict[str, Any]]) -> None:
        # The service already chose the language (Accept-Language), so both slots hold it.
        super().__init__(detail or title, detail or title, errors=errors)
        self.title = title
        self.errors = errors


@functools.cache
def _problem_type(status: int) -> type[UpstreamProblem]:
    # Problem.status is a class attribute the error pages read; one subclass per status keeps
    # the upstream's status without changing that contract.
    made = type(f"Upstream{status}", (UpstreamProblem,), {"status": status})
    return cast(type[UpstreamProblem], made)


def problem_of(status: int, body: Any) -> UpstreamProblem:
    """The problem a service answered, from its JSON body (or none: an unexplained status)."""
    title = detail = ""
    errors: list[dict[str, Any]] = []
    if isinstance(body, dict):
        title = str(body.get("title") or "")
        detail = str(body.get("detail") or "")
        raw = body.get("errors")
        if isinstance(raw, list):
            errors = [e for e in raw if isinstance(e, dict)]
    if not (title or detail):
        title = f"Dịch vụ trả lời lỗi {status}. / The service answered {status}."
    return _problem_type(status)(title, detail, errors)


class Upstream:
    """The client: one shared connection pool, the base URL of each service."""

    def __init__(self, http: httpx.AsyncClient, *, identity_url: str, interchange_url: str):
        self._http = http
        self._bases: dict[Service, str] = {
            "identity": identity_url.rstrip("/"),
            "interchange": interchange_url.rstrip("/"),
        }

    async def call(
        self,
        caller: Caller,
        method: str,
        service: Service,
        path: str,
        *,
        params: dict[str, str | None] | None = None,
        json: Any = None,
        content: bytes | None = None,
        seconds: float | None = None,
    ) -> Any:
        """The decoded JSON answer (None for an empty one), or the service's refusal raised."""
        headers = {
            "Authorization": f"Bearer {caller.token}",
            "Accept": "application/json",
            "Accept-Language": caller.locale,
        }
        if caller.agency_id is not None:
            headers["X-Agency-Id"] = str(caller.agency_id)
        if content is not None:
            headers["Content-Type"] = "application/octet-stream"
        query = {k: v for k, v in (params or {}).items() if v is not None}
        extra: dict[str, Any] = {}
        if seconds is not None:
            # Longer than the shared client's default: a province's import takes minutes.
            extra["timeout"] = httpx.Timeout(seconds, connect=3.0)
        try:
            response = await self._http.request(
                method,
                self._bases[service] + path,
                params=query,
                headers=headers,
                json=json,
                content=content,
                **extra,
            )
        except httpx.TransportError as exc:
            logger.warning(
                "upstream_unreachable",
                extra={"service": service, "path": path, "error": repr(exc)},
            )
            name_vi, name_en = _NAMES[service]
            raise DependencyUnavailable(
                f"Không kết nối được {name_vi}; hãy thử lại sau ít phút.",
                f"Could not reach {name_en}; try again in a few minutes.",
            ) from exc
        body = _decoded(response)
        if response.status_code == 401:
            # The session's token was refused (revoked, or the account disabled meanwhile).
            raise LoginRequired(caller.here)
        if response.status_code >= 400:
            raise problem_of(response.status_code, body)
        return body

    async def get(
        self,
        caller: Caller,
        service: Service,
        path: str,
        into: type[T],
        params: dict[str, str | None] | None = None,
    ) -> T:
        return as_type(await self.call(caller, "GET", service, path, params=params), into)


def _decoded(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def as_type(value: Any, into: type[T]) -> T:
    """A JSON answer as the page's own view of it (unknown fields ignored, so a service may
    add fields without breaking the pages)."""
    try:
        return msgspec.convert(value, type=into, strict=False)
    except msgspec.ValidationError as exc:
        raise DependencyUnavailable(
            "Dịch vụ trả lời không đúng định dạng mong đợi.",
            f"A service answered in an unexpected shape: {exc}.",
        ) from exc
