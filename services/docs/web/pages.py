"""The pages every person has: home (what waits for me), the agency chooser, the language
switch."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from services.common.auth.web_sessions import SESSION_COOKIE
from services.common.problems import Forbidden
from services.docs.web.auth import Viewer, check_same_origin, resolve_viewer
from services.docs.web.frame import frame_of, page
from services.docs.web.i18n import LOCALE_COOKIE
from services.docs.web.worklist import Worklist

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


class HomePages(Controller):
    path = "/"

    @get("", name="web.home")
    async def home(
        self,
        request: Request[Any, Any, Any],
        viewer: NamedDependency[Viewer],
        worklist: NamedDependency[Worklist],
    ) -> Template:
        counts, work = await worklist.home(viewer.tenant_id, viewer.principal)
        return await page(request, viewer, "home.html.j2", counts=counts, work=work)

    @get("/agency", name="web.agency")
    async def choose_agency(self, request: Request[Any, Any, Any]) -> Response[Any]:
        # The chooser itself needs a session but no chosen agency.
        active, t = await resolve_viewer(request, frame_of(request).sessions, require_agency=False)
        choices = await frame_of(request).agency_choices(active.principal)
        if not choices and active.principal.is_operator:
            # A platform operator works in no agency: their pages are the administration.
            return Redirect("/admin", status_code=303)
        return Template(
            "agency.html.j2",
            context={"t": t, "viewer": None, "agencies": [], "choices": choices},
        )

    @post("/agency", name="web.agency.select", status_code=303)
    async def select_agency(self, request: Request[Any, Any, Any], data: Form) -> Redirect:
        check_same_origin(request)
        frame = frame_of(request)
        await resolve_viewer(request, frame.sessions, require_agency=False)
        raw = data.get("agency_id", "")
        try:
            agency_id = uuid.UUID(str(raw))
        except ValueError as exc:
            raise Forbidden("Cơ quan đã chọn không hợp lệ.", "Not a valid agency.") from exc
        await frame.sessions.select_agency(request.cookies.get(SESSION_COOKIE, ""), agency_id)
        return Redirect("/", status_code=303)

    @post("/language", name="web.language", status_code=303)
    async def language(self, request: Request[Any, Any, Any], data: Form) -> Response[Any]:
        check_same_origin(request)
        locale = "en" if data.get("locale") == "en" else "vi"
        back = str(data.get("back") or "/")
        if not back.startswith("/") or back.startswith("//"):
            back = "/"
        response: Response[Any] = Redirect(back, status_code=303)
        response.set_cookie(
            LOCALE_COOKIE, locale, max_age=365 * 24 * 3600, httponly=True, samesite="lax"
        )
        return response
