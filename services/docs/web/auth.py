"""Who is looking at a page: the `qlvb_session` cookie the identity service's login set,
resolved in the same Redis (ADR 0013). Pages never see a bearer token.

A page without a session sends the browser to `/auth/login?next=<the page>`; a page whose
person has several positions and has not chosen one sends it to the agency chooser."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote, urlsplit

import msgspec
from litestar import Request

from services.common.auth.principal import Principal
from services.common.auth.web_sessions import SESSION_COOKIE, ActiveSession, SessionStore
from services.common.problems import Forbidden
from services.docs.web.i18n import LOCALE_COOKIE, Translator, locale_of


class LoginRequired(Exception):
    """No usable session: the browser must log in, then come back to `next_path`."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path

    @property
    def location(self) -> str:
        return "/auth/login?next=" + quote(self.next_path, safe="/")


class AgencyRequired(Exception):
    """The person has several positions and has chosen none for this session yet."""


class Viewer(msgspec.Struct, frozen=True):
    """The person behind a page request, in the agency the session acts in."""

    principal: Principal
    tenant_id: uuid.UUID
    t: Translator
    # The person's own access token: pages that show another service's data (administration)
    # call its API as the person, so that service decides what they may see and do.
    access_token: str = ""
    # Whether the request came from htmx (a fragment or a boosted page), for the answer's shape.
    htmx: bool = False


def translator(request: Request[Any, Any, Any]) -> Translator:
    return Translator(locale_of(request.cookies.get(LOCALE_COOKIE)))


def _here(request: Request[Any, Any, Any]) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def check_same_origin(request: Request[Any, Any, Any]) -> None:
    """State-changing page requests come only from the platform's own pages. SameSite=Lax on
    the session cookie already keeps other sites' forms out; this is the second lock for
    browsers or proxies that get that wrong."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        if site in ("same-origin", "none"):
            return
    else:
        origin = request.headers.get("origin")
        host = request.headers.get("host", "")
        if origin is None or urlsplit(origin).netloc == host:
            return
    raise Forbidden(
        "Yêu cầu không đến từ trang của hệ thống.",
        "The request did not come from the platform's own pages.",
    )


async def resolve_viewer(
    request: Request[Any, Any, Any], sessions: SessionStore, *, require_agency: bool = True
) -> tuple[ActiveSession, Translator]:
    session_id = request.cookies.get(SESSION_COOKIE)
    active = await sessions.resolve(session_id) if session_id else None
    if active is None:
        raise LoginRequired(_here(request) if request.method == "GET" else "/")
    if require_agency and active.principal.active_agency_id is None:
        raise AgencyRequired()
    return active, translator(request)


def viewer_of(active: ActiveSession, t: Translator, request: Request[Any, Any, Any]) -> Viewer:
    principal = active.principal
    assert principal.active_agency_id is not None  # resolve_viewer made sure
    return Viewer(
        principal,
        principal.active_agency_id,
        t,
        access_token=active.access_token,
        htmx=request.headers.get("hx-request") == "true",
    )
