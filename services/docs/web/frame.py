"""The web router: templates, static files, how a page learns who is looking, and what a
failure looks like in a browser (a page or a fragment in Vietnamese, never JSON)."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, Router
from litestar.datastructures import CacheControlHeader, State
from litestar.di import Provide
from litestar.exceptions import HTTPException, ValidationException
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from litestar.types import ControllerRouterHandler

from services.common.auth.principal import Principal
from services.common.auth.web_sessions import SessionStore
from services.common.db import is_unavailable
from services.common.problems import Problem
from services.docs.catalog.types import BY_CODE
from services.docs.outgoing.agencies import Agencies
from services.docs.signing.errors import ReauthenticationRequired
from services.docs.web.auth import (
    AgencyRequired,
    LoginRequired,
    Viewer,
    resolve_viewer,
    translator,
    viewer_of,
)

HERE = Path(__file__).parent
STATIC_PREFIX = "/static"
# A static file's address carries its version, so that browsers may keep each address for a
# year and still fetch the new file the first page after a deploy links to.
STATIC_MAX_AGE = 365 * 24 * 3600
logger = logging.getLogger("qlvb.docs.web")


def _versions(directory: Path) -> dict[str, str]:
    """Each static file's version: the start of its SHA-256 (read once: the files ship with
    the image)."""
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        for path in sorted(directory.iterdir())
        if path.is_file()
    }


STATIC_VERSIONS = _versions(HERE / "static")


def static_url(name: str) -> str:
    """The address of a static file, its version included."""
    return f"{STATIC_PREFIX}/{name}?v={STATIC_VERSIONS[name]}"


def doc_type_name(code: str | None) -> str:
    if not code:
        return ""
    found = BY_CODE.get(code)
    return found.name if found else code


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    def configure(engine: JinjaTemplateEngine) -> None:
        engine.engine.globals["static"] = static_url
        # A document type by its name (Công văn, Quyết định), not its code.
        engine.engine.globals["doc_type_name"] = doc_type_name

    return TemplateConfig(
        directory=HERE / "templates", engine=JinjaTemplateEngine, engine_callback=configure
    )


class Frame:
    """What every page's frame shows: the person, the agency switcher, the locale."""

    def __init__(self, sessions: SessionStore, agencies: Agencies) -> None:
        self.sessions = sessions
        self.agencies = agencies

    async def agency_choices(self, principal: Principal | None) -> list[dict[str, Any]]:
        if principal is None:
            return []
        choices = []
        for membership in principal.memberships:
            agency = await self.agencies.by_id(membership.agency_id)
            choices.append(
                {
                    "id": str(membership.agency_id),
                    "name": agency.name if agency else membership.agency_code,
                    "active": membership.agency_id == principal.active_agency_id,
                }
            )
        return choices


def frame_of(request: Request[Any, Any, Any]) -> Frame:
    frame: Frame = request.app.state["web_frame"]
    return frame


async def provide_viewer(request: Request[Any, Any, Any]) -> Viewer:
    active, t = await resolve_viewer(request, frame_of(request).sessions)
    return viewer_of(active, t, request)


async def page(
    request: Request[Any, Any, Any],
    viewer: Viewer | None,
    template: str,
    *,
    status_code: int = 200,
    **context: Any,
) -> Template:
    """A whole page, or only its main part when htmx asks for a fragment."""
    t = viewer.t if viewer else translator(request)
    return Template(
        template,
        context={
            "t": t,
            "viewer": viewer,
            "agencies": await frame_of(request).agency_choices(
                viewer.principal if viewer else None
            ),
            "path": request.url.path,
            "notice": request.query_params.get("ok", ""),
            **context,
        },
        status_code=status_code,
    )


def _redirect(request: Request[Any, Any, Any], location: str) -> Response[Any]:
    if request.headers.get("hx-request") == "true":
        # htmx follows this header with a full page load (the login page is Keycloak's).
        return Response(content=b"", status_code=200, headers={"HX-Redirect": location})
    return Redirect(location, status_code=303)


def login_required(request: Request[Any, Any, Any], exc: LoginRequired) -> Response[Any]:
    return _redirect(request, exc.location)


def agency_required(request: Request[Any, Any, Any], exc: AgencyRequired) -> Response[Any]:
    return _redirect(request, "/agency")


def _error_page(
    request: Request[Any, Any, Any], status: int, message: str, *, login_again: str = ""
) -> Response[Any]:
    t = translator(request)
    return Template(
        "error.html.j2",
        context={
            "t": t,
            "viewer": None,
            "agencies": [],
            "message": message,
            "status": status,
            "login_again": login_again,
        },
        status_code=status,
    )


def problem_page(request: Request[Any, Any, Any], exc: Problem) -> Response[Any]:
    t = translator(request)
    return _error_page(
        request, exc.status, t.problem(exc.detail_vi or exc.title_vi, exc.detail_en or exc.title_en)
    )


def reauthentication_page(
    request: Request[Any, Any, Any], exc: ReauthenticationRequired
) -> Response[Any]:
    """A signature asked of a login too old: why, and one click to log in again (Keycloak asks
    for the password whatever its own session) and come back to the document."""
    parts = request.url.path.strip("/").split("/")
    document = "/" + "/".join(parts[:2]) if parts[0] in ("incoming", "outgoing") else "/"
    t = translator(request)
    return _error_page(
        request,
        exc.status,
        t.problem(exc.detail_vi or exc.title_vi, exc.detail_en or exc.title_en),
        login_again="/auth/login?" + urlencode({"next": document, "reauth": "true"}),
    )


def http_error_page(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    t = translator(request)
    if exc.status_code >= 500:
        return unexpected_page(request, exc)
    if isinstance(exc, ValidationException):
        message = t.problem("Thông tin gửi lên chưa đúng: ", "The form is not valid: ") + str(
            exc.detail
        )
    elif exc.status_code == 404:
        message = t.problem("Không tìm thấy trang.", "Page not found.")
    else:
        message = str(exc.detail)
    return _error_page(request, exc.status_code, message)


def unexpected_page(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    t = translator(request)
    if is_unavailable(exc):
        return _error_page(
            request,
            503,
            t.problem(
                "Cơ sở dữ liệu tạm thời không truy cập được; hãy thử lại sau ít phút.",
                "The database is temporarily unreachable; try again in a few minutes.",
            ),
        )
    logger.exception("web_page_failed", extra={"path": request.url.path})
    return _error_page(
        request,
        500,
        t.problem(
            "Hệ thống gặp lỗi ngoài dự kiến; lỗi đã được ghi lại.",
            "Something unexpected failed; it has been logged.",
        ),
    )


def web_router(handlers: list[ControllerRouterHandler]) -> Router:
    return Router(
        path="/",
        route_handlers=[
            *handlers,
            create_static_files_router(
                path=STATIC_PREFIX,
                directories=[HERE / "static"],
                opt={"exclude_from_auth": True},
                include_in_schema=False,
                cache_control=CacheControlHeader(
                    max_age=STATIC_MAX_AGE, public=True, immutable=True
                ),
            ),
        ],
        dependencies={"viewer": Provide(provide_viewer)},
        exception_handlers={
            LoginRequired: login_required,
            AgencyRequired: agency_required,
            ReauthenticationRequired: reauthentication_page,
            Problem: problem_page,
            HTTPException: http_error_page,
            Exception: unexpected_page,
        },
        opt={"exclude_from_auth": True},
        include_in_schema=False,
    )


def install(state: State, sessions: SessionStore, agencies: Agencies) -> None:
    state["web_frame"] = Frame(sessions, agencies)
