"""HTTP side of the web login: `/auth/*`. These routes authenticate by the session cookie (or,
for the back channel, by the signed logout token), never by a bearer token."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie, State
from litestar.di import NamedDependency, Provide
from litestar.params import FromQuery, JSONBody, QueryParameter, URLEncodedBody
from litestar.response import Redirect
from redis.exceptions import RedisError

from services.common.app_factory import Resources
from services.common.auth.web_sessions import SESSION_COOKIE, ActiveSession
from services.common.problems import (
    DependencyUnavailable,
    Forbidden,
    InvalidInput,
    Unauthenticated,
    problem_response,
)
from services.identity.login.schemas import AgencyChoice, SessionView
from services.identity.login.service import DEFAULT_NEXT, WebLogin
from services.identity.settings import IdentitySettings

# Ties a login to the browser that started it; sent only to /auth (the login and the callback).
LOGIN_COOKIE = "qlvb_login"
LOGIN_COOKIE_PATH = "/auth"
# Nothing under /auth may be cached: each answer is about one browser's session.
NO_STORE = {"Cache-Control": "no-store"}


def provide_web_login(state: State) -> WebLogin:
    """One `WebLogin` per app, built on first use over the app's own resources."""
    login = state.get("web_login")
    if isinstance(login, WebLogin):
        return login
    settings, resources = state["settings"], state["resources"]
    if not isinstance(settings, IdentitySettings) or not isinstance(resources, Resources):
        raise TypeError("the login routes need the identity service's settings and resources")
    login = WebLogin.from_resources(settings, resources)
    state["web_login"] = login
    return login


def redis_unavailable(request: Request[Any, Any, Any], exc: RedisError) -> Response[Any]:
    return problem_response(
        request,
        DependencyUnavailable(
            "Kho phiên đăng nhập tạm thời không trả lời.", "The session store is not answering."
        ),
    )


def _session_cookie(
    web_login: NamedDependency[WebLogin], value: str, *, clear: bool = False
) -> Cookie:
    # No Max-Age: the cookie ends with the browser; the session itself ends in Redis.
    return Cookie(
        key=SESSION_COOKIE,
        value=value,
        path="/",
        httponly=True,
        samesite="lax",
        secure=web_login.cookie_secure,
        max_age=0 if clear else None,
    )


def _check_origin(request: Request[Any, Any, Any], web_login: WebLogin) -> None:
    """State-changing calls from another site are refused (SameSite=Lax already keeps the
    cookie off cross-site POSTs; this also covers browsers that ignore SameSite)."""
    origin = request.headers.get("origin")
    if origin is not None and origin.rstrip("/") != web_login.origin:
        raise Forbidden("Yêu cầu đến từ một trang khác.", "The request comes from another site.")


async def _active(request: Request[Any, Any, Any], web_login: WebLogin) -> ActiveSession:
    active = await web_login.sessions.resolve(request.cookies.get(SESSION_COOKIE, ""))
    if active is None:
        raise Unauthenticated("Bạn chưa đăng nhập hoặc phiên đã kết thúc.", "Not logged in.")
    return active


class LoginController(Controller):
    path = "/auth"
    tags = ("login",)
    # Litestar reads these class attributes once, when the app is built (hence the noqa).
    opt = {"exclude_from_auth": True}  # noqa: RUF012
    dependencies = {"web_login": Provide(provide_web_login, sync_to_thread=False)}  # noqa: RUF012
    exception_handlers = {RedisError: redis_unavailable}  # noqa: RUF012

    @get("/login", summary="Bắt đầu đăng nhập qua Keycloak (start the web login)")
    async def login(
        self,
        request: Request[Any, Any, Any],
        web_login: NamedDependency[WebLogin],
        next_path: Annotated[str | None, QueryParameter(name="next")] = None,
        # Ask for the password again even within Keycloak's session (before a signature).
        reauth: Annotated[bool, QueryParameter()] = False,
    ) -> Redirect:
        start = await web_login.begin(
            next_path, request.cookies.get(LOGIN_COOKIE), reauthenticate=reauth
        )
        cookie = Cookie(
            key=LOGIN_COOKIE,
            value=start.browser_key,
            path=LOGIN_COOKIE_PATH,
            max_age=web_login.login_timeout_seconds,
            httponly=True,
            samesite="lax",  # sent on the top-level redirect back from Keycloak
            secure=web_login.cookie_secure,
        )
        return Redirect(
            start.authorization_url, status_code=302, headers=NO_STORE, cookies=[cookie]
        )

    @get("/callback", summary="Keycloak trả về sau khi đăng nhập (OIDC redirect URI)")
    async def callback(
        self,
        request: Request[Any, Any, Any],
        web_login: NamedDependency[WebLogin],
        login_state: Annotated[str | None, QueryParameter(name="state")] = None,
        code: FromQuery[str | None] = None,
        error: FromQuery[str | None] = None,
        iss: FromQuery[str | None] = None,
    ) -> Redirect:
        done = await web_login.complete(
            state=login_state,
            code=code,
            error=error,
            issuer=iss,
            browser_key=request.cookies.get(LOGIN_COOKIE),
        )
        previous = request.cookies.get(SESSION_COOKIE)
        if previous:
            await web_login.sessions.end(previous)
        return Redirect(
            done.next,
            status_code=302,
            headers=NO_STORE,
            cookies=[_session_cookie(web_login, done.session_id)],
        )

    @get("/session", summary="Phiên đăng nhập hiện tại (the current session)")
    async def session(
        self, request: Request[Any, Any, Any], web_login: NamedDependency[WebLogin]
    ) -> Response[SessionView]:
        active = await _active(request, web_login)
        return Response(SessionView.of(active), headers=NO_STORE)

    @post(
        "/session/agency",
        status_code=200,
        summary="Chọn cơ quan đang làm việc (switch the active agency)",
    )
    async def select_agency(
        self,
        request: Request[Any, Any, Any],
        web_login: NamedDependency[WebLogin],
        data: JSONBody[AgencyChoice],
    ) -> Response[SessionView]:
        _check_origin(request, web_login)
        session_id = request.cookies.get(SESSION_COOKIE, "")
        active = await web_login.sessions.select_agency(session_id, data.agency_id)
        if active is None:
            raise Unauthenticated("Bạn chưa đăng nhập hoặc phiên đã kết thúc.", "Not logged in.")
        return Response(SessionView.of(active), headers=NO_STORE)

    @post("/logout", status_code=303, summary="Đăng xuất (QLVB và Keycloak)")
    async def logout(
        self, request: Request[Any, Any, Any], web_login: NamedDependency[WebLogin]
    ) -> Redirect:
        _check_origin(request, web_login)
        await web_login.logout(request.cookies.get(SESSION_COOKIE))
        return Redirect(
            DEFAULT_NEXT,
            status_code=303,
            headers=NO_STORE,
            cookies=[_session_cookie(web_login, "", clear=True)],
        )

    @post(
        "/backchannel-logout",
        status_code=200,
        summary="Keycloak báo phiên đã kết thúc (OIDC Back-Channel Logout 1.0)",
    )
    async def backchannel_logout(
        self,
        web_login: NamedDependency[WebLogin],
        data: URLEncodedBody[dict[str, str]],
    ) -> Response[None]:
        token = data.get("logout_token")
        if not token:
            raise InvalidInput("Thiếu mã đăng xuất.", "The logout_token parameter is missing.")
        await web_login.backchannel_logout(token)
        return Response(None, status_code=200, headers=NO_STORE)
