"""Administration in the browser: the agency tree and its reorganisations, the people of an
agency with their positions and roles, and delegations.

Every read and change goes to the identity service's HTTP API as the person looking at the
page (upstream.py), so identity keeps deciding who may do what; the checks here only choose
what to show. An agency admin administers their active agency; a platform operator holds no
membership, so they pick the agency they administer (a cookie of the `/admin` pages) and act
on it through the API's explicit `agency_id` parameter."""

from __future__ import annotations

import datetime as dt
import unicodedata
import uuid
from typing import Annotated, Any
from urllib.parse import quote

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, QueryParameter
from litestar.response import Redirect, Template

from services.common.auth.principal import Role
from services.common.problems import Forbidden, InvalidInput
from services.docs.web.admin_views import (
    Agency,
    AgencyTree,
    AgencyVersion,
    Delegation,
    Department,
    Lineage,
    Member,
    Membership,
    PeoplePage,
    Person,
)
from services.docs.web.auth import (
    AgencyRequired,
    Viewer,
    check_same_origin,
    resolve_viewer,
)
from services.docs.web.forms import day, moment, text, values
from services.docs.web.frame import frame_of, page
from services.docs.web.upstream import Caller, Upstream

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
# The agency a platform operator administers, chosen on /admin/agency.
ADMIN_AGENCY_COOKIE = "qlvb_admin_agency"
# A viewer must name an agency; an operator who has not chosen one names none.
NO_AGENCY = uuid.UUID(int=0)
VIETNAM = dt.timezone(dt.timedelta(hours=7))
ROLES = tuple(role.value for role in Role)
LEADERS = (Role.LEADER, Role.DEPUTY_LEADER)
PEOPLE_PAGE = 100
# How many people a search reads through (see _search_people).
SEARCH_LIMIT = 20_000


class ChooseAgency(Exception):
    """An operator opened an agency's page before choosing which agency they administer."""

    def __init__(self, back: str) -> None:
        super().__init__(back)
        self.back = back


class Admin(msgspec.Struct, frozen=True, kw_only=True):
    """The person on an administration page, and the agency they administer there."""

    viewer: Viewer
    caller: Caller
    operator: bool
    agency_admin: bool
    managed_id: uuid.UUID | None
    managed_name: str
    here: str

    @property
    def leader(self) -> bool:
        return self.viewer.principal.has_role(*LEADERS)

    @property
    def has_agency(self) -> bool:
        return self.caller.agency_id is not None

    def require_admin(self) -> None:
        if not (self.operator or self.agency_admin):
            raise Forbidden(
                "Trang quản trị dành cho quản trị cơ quan và người vận hành nền tảng.",
                "Administration is for agency administrators and platform operators.",
            )

    def require_operator(self) -> None:
        if not self.operator:
            raise Forbidden(
                "Chức năng dành cho người vận hành nền tảng.",
                "This is for platform operators only.",
            )

    def managed(self) -> uuid.UUID:
        self.require_admin()
        if self.managed_id is None:
            raise ChooseAgency(self.here)
        return self.managed_id

    def agency_param(self) -> dict[str, str | None]:
        """How the people API learns the agency: an admin's is their active one, an
        operator names it."""
        managed = self.managed()
        return {"agency_id": str(managed)} if self.operator else {}


def _today() -> dt.date:
    """The day in Vietnam, as identity dates its records (not the server's UTC day)."""
    return dt.datetime.now(VIETNAM).date()


def _uuid(raw: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(raw) if raw else None
    except ValueError:
        return None


def _here(request: Request[Any, Any, Any]) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


async def provide_admin(request: Request[Any, Any, Any]) -> Admin:
    frame = frame_of(request)
    active, t = await resolve_viewer(request, frame.sessions, require_agency=False)
    principal = active.principal
    operator = principal.is_operator
    if principal.active_agency_id is None and not operator:
        raise AgencyRequired()
    agency_admin = principal.has_role(Role.AGENCY_ADMIN)
    managed = principal.active_agency_id if agency_admin else None
    if operator:
        managed = _uuid(request.cookies.get(ADMIN_AGENCY_COOKIE)) or managed
    name = ""
    if managed is not None:
        agency = await frame.agencies.by_id(managed)
        name = agency.name if agency else str(managed)
    here = _here(request) if request.method == "GET" else "/admin"
    viewer = Viewer(
        principal,
        principal.active_agency_id or managed or NO_AGENCY,
        t,
        access_token=active.access_token,
        htmx=request.headers.get("hx-request") == "true",
    )
    caller = Caller(
        token=active.access_token,
        agency_id=principal.active_agency_id,
        locale=t.locale,
        here=here,
    )
    return Admin(
        viewer=viewer,
        caller=caller,
        operator=operator,
        agency_admin=agency_admin,
        managed_id=managed,
        managed_name=name,
        here=here,
    )


def choose_agency_first(request: Request[Any, Any, Any], exc: ChooseAgency) -> Response[Any]:
    location = "/admin/agency?next=" + quote(exc.back, safe="/")
    if request.headers.get("hx-request") == "true":
        return Response(content=b"", status_code=200, headers={"HX-Redirect": location})
    return Redirect(location, status_code=303)


async def admin_page(
    request: Request[Any, Any, Any], admin: Admin, template: str, **context: Any
) -> Template:
    return await page(request, admin.viewer, template, admin=admin, **context)


def done(path: str, notice: str, *, anchor: str = "") -> Redirect:
    """Back to a page, which says what was done (the `?ok=` notice of base.html.j2)."""
    separator = "&" if "?" in path else "?"
    fragment = f"#{anchor}" if anchor else ""
    return Redirect(f"{path}{separator}ok={notice}{fragment}", status_code=303)


def _local(path: str, default: str) -> str:
    """A `next` path that stays on the administration pages."""
    return path if path.startswith("/admin") and not path.startswith("//") else default


def _day(form: dict[str, Any], name: str, *, default: dt.date | None = None) -> str | None:
    """A date field as the identity API takes it (ISO), read day first (`forms.day`)."""
    value = day(text(form, name)) or default
    return value.isoformat() if value else None


def _instant(form: dict[str, Any], name: str) -> str:
    """A time field (`forms.moment`), read as Vietnam time (the pages show times in it)."""
    value = moment(text(form, name))
    if value is None:
        raise InvalidInput(
            "Hãy nhập thời điểm bắt đầu và kết thúc.", "Enter when it starts and ends."
        )
    return value.replace(tzinfo=VIETNAM).isoformat()


def _confirmed(form: dict[str, Any]) -> None:
    if text(form, "confirm") != "yes":
        raise InvalidInput(
            "Hãy đánh dấu ô xác nhận trước khi thực hiện.",
            "Tick the confirmation box first.",
        )


def _reorganisation(form: dict[str, Any]) -> dict[str, Any]:
    reference = text(form, "reference")
    if not reference:
        raise InvalidInput(
            "Hãy nhập văn bản quyết định (số, ký hiệu).",
            "Enter the decision it is based on.",
        )
    return {
        "effective_date": _day(form, "effective_date", default=_today()),
        "reference": reference,
        "reason": text(form, "reason"),
    }


async def _active_agencies(upstream: Upstream, admin: Admin) -> list[Agency]:
    found = await upstream.get(
        admin.caller, "identity", "/api/v1/agencies", list[Agency], {"status": "active"}
    )
    return sorted(found, key=lambda a: a.code)


async def _departments(upstream: Upstream, admin: Admin) -> list[Department]:
    """The departments of the administered agency. The API gives them for the caller's active
    agency only, so an operator working on another agency sees none."""
    if admin.caller.agency_id is None or admin.caller.agency_id != admin.managed_id:
        return []
    return await upstream.get(admin.caller, "identity", "/api/v1/departments", list[Department])


def folded(value: str) -> str:
    """Lower case without diacritics: "Phạm Thị Thu" is found as "pham thi thu"."""
    decomposed = unicodedata.normalize("NFD", value.casefold().replace("đ", "d"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


async def _search_people(
    upstream: Upstream, admin: Admin, params: dict[str, str | None], q: str
) -> PeoplePage:
    """The agency's people whose name, username or e-mail holds `q`. The people API has no
    search of its own, so its pages are read here, up to SEARCH_LIMIT people."""
    wanted = folded(q.strip())
    matches: list[Person] = []
    offset: int | None = 0
    while offset is not None and offset < SEARCH_LIMIT:
        batch = await upstream.get(
            admin.caller,
            "identity",
            "/api/v1/people",
            PeoplePage,
            {**params, "limit": "500", "offset": str(offset)},
        )
        matches += [
            p for p in batch.items if wanted in folded(f"{p.full_name} {p.username} {p.email}")
        ]
        offset = batch.next_offset
    return PeoplePage(items=matches, limit=len(matches), offset=0, next_offset=None)


class AdminPages(Controller):
    path = "/admin"
    dependencies = {"admin": Provide(provide_admin)}  # noqa: RUF012 (Litestar's attribute)
    exception_handlers = {ChooseAgency: choose_agency_first}  # noqa: RUF012

    # --- overview and the operator's agency -------------------------------------------------

    @get("", name="web.admin")
    async def overview(
        self, request: Request[Any, Any, Any], admin: NamedDependency[Admin]
    ) -> Template:
        return await admin_page(request, admin, "admin_home.html.j2")

    @get("/agency", name="web.admin.agency")
    async def choose_agency(
        self,
        request: Request[Any, Any, Any],
        admin: NamedDependency[Admin],
        upstream: NamedDependency[Upstream],
        next_path: Annotated[str, QueryParameter(name="next", max_length=300)] = "/admin/people",
    ) -> Template:
        admin.require_operator()
        agencies = await _active_agencies(upstream, admin)
        return await admin_page(
            request,
            admin,
            "admin_agency.html.j2",
            choices=agencies,
            next_path=_local(next_path, "/admin/people"),
        )

    @post("/agency", name="web.admin.agency.select", status_code=303)
    async def select_agency(
        self, request: Request[Any, Any, Any], admin: NamedDependency[Admin], data: Form
    ) -> Redirect:
        check_same_origin(request)
        admin.require_operator()
        agency_id = _uuid(text(data, "agency_id"))
        if agency_id is None:
            raise InvalidInput("Hãy chọn một cơ quan.", "Choose an agency.")
        response = done(_local(text(data, "next"), "/admin/people"), "agency_chosen")
        response.set_cookie(
            ADMIN_AGENCY_COOKIE,
            str(agency_id),
            path="/admin",
            httponly=True,
            samesite="lax",
            # The ingress ends TLS: the scheme the browser used is the forwarded one.
            secure="https" in (request.url.scheme, request.headers.get("x-forwarded-proto", "")),
        )
        return response

    # --- the agency tree and reorganisations ------------------------------------------------

    @get("/agencies", name="web.admin.agencies")
    async def agencies(
        self,
        request: Request[Any, Any, Any],
        admin: NamedDependency[Admin],
        upstream: NamedDependency[Upstream],
        # Typed as text: the filter's date is read day first (`forms.day`).
        as_of_text: Annotated[str | None, QueryParameter(name="as_of", max_length=20)] = None,
        inactive: Annotated[bool, QueryParameter()] = False,
        root: Annotated[str | None, QueryParameter()] = None,
    ) -> Template:
        admin.require_admin()
        as_of = day(as_of_text or "")
        # An agency admin starts from their own agency; `root=all` (and an operator by
        # default) shows the whole registry.
        top = _uuid(root) if root != "all" else None
        if root is None and not admin.operator:
            top = admin.managed_id
        tree = await upstream.get(
            admin.caller,
            "identity",
            "/api/v1/agencies/tree",
            AgencyTree,
            {
                "as_of": as_of.isoformat() if as_of else None,
                "include_inactive": "true" if inactive else None,
                "root": str(top) if top else None,
            },
        )
        return await admin_page(
            request,
            admin,
            "admin_agencies.html.j2",
            tree=tree,
            as_of=as_of,
            inactive=inactive,
            root=top,
        )

    @get("/agencies/{agency_id:uuid}", name="web.admin.agency.card")
    async def agency(
        self,
        request: Request[Any, Any, Any],
        admin: NamedDependency[Admin],
        upstream: NamedDependency[Upstream],
        agency_id: FromPath[uuid.UUID],
    ) -> Template:
        admin.require_admin()
        base = f"/api/v1/agencies/{agency_id}"
        agency = await upstream.get(admin.caller, "identity", base, Agency)
        history = await upstream.get(
            admin.caller, "identity", f"{base}/history", list[AgencyVersion]
        )
        lineage = await upstream.get(admin.caller, "identity", f"{base}/lineage", Lineage)
        registry = await upstream.get(admin.caller, "identity", "/api/v1/agencies", list[Agency])
        names = {a.id: a.name for a in registry}
        others = (
            sorted(
                (a for a in registry if a.status == "active" and a.id != agency_id),
                key=lambda a: a.code,
            )
            if admin.operator and agency.status == "active"
            else []
        )
        return await admin_page(
            request,
            admin,
            "admin_agency_card.html.j2",
            agency=agency,
            history=history,
            lineage=lineage,
            others=others,
            names=names,
            today=_today(),
        )

    async def _reorganise(
        self,
        request: Request[Any, Any, Any],
        admin: Admin,
        upstream: Upstream,
        kind: str,
        body: dict[str, Any],
        agency_id: uuid.UUID,
    ) -> Redirect:
        check_same_origin(request)
        admin.require_operator()
        await upstream.call(
            admin.caller, "POST", "identity", f"/api/v1/reorganisations/{kind}", json=body
        )
        return done(f"/admin/agencies/{agency_id}", kind)

    @post("/agencies/{agency_id:uuid}/rename", name="web.admin.agency.rename", status_code=303)
    async def rename(
        self,
        request: Request[Any, Any, Any],
        admin: NamedDependency[Admin],
        upstream: NamedDependency[Upstream],
        agency_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Redirect:
        body = {"agency_id": str(agency_id), **_reorganisation(data)}
        for field in ("name", "short_name"):
            if value := text(data, field):
                body[field] = value
        if "name" not in body and "short_name" not in body:
            raise InvalidInput("Hãy nhập tên mới.", "Enter the new name.")
        return await self._reorganise(request, admin, upstream, "rename", body, agency_id)

    @post("/agencies/{agency_id:uuid}/move", name="web.admin.agency.move", status_code=303)
    async def move(
        self,
        request: Request[Any, Any, Any],
        admin: NamedDependency[Admin],
        upstream: NamedDependency[Upstream],
        agency_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Redirect:
        body = {
            "agency_id": str(agency_id),
            "parent_id": text(data, "parent_id") or None,
            **_reorganisation(data),
        }
        return await self._reorganise(request, admin, upstream, "move", body, agency_id)

    @post("/agencies/{agency_id:uuid}/merge", name="web.admin.agency.merge", status_code=303)
    async def merge(
        self,
        request: Request[Any, Any, Any],
        admin: NamedDependency[Admin],
        upstream: NamedDependency[Upstream],
        agency_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Redirect:
        _confirmed(data)
        successor = text(data, "successor_id")
        if not successor:
            raise InvalidInput(
                "Hãy chọn cơ quan tiếp nhận sau sáp nhập.", "Choose the agency it merges into."
            )
        merged = [str(agency_id), *(v for v in values(data, "with_ids") if v and v != successor)]
        body = {
            "agency_ids": list(dict.fromkeys(merged)),
            "successor_id": successor,
            **_reorganisation(data),
        }
        return await self._reorganise(request, admin, upstream, "merge", body, agency_id)

    @post("/agencies/{agency_id:uuid}/dissolve", name="web.admin.agency.dissolve", status_code=303)
    async def dissolve(
        self,
        request: Request[Any, Any, Any],
        admin: NamedDependency[Admin],
        upstream: NamedDependency[Upstream],
        agency_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Redirect:
        _confirmed(data)
        body = {
            "agency_id": str(agency_id),
            "successor_id": text(data, "successor_id") or None,
            **_reorganisation(data),
        }
        return await self._reorganise(request, admin, upstream, "dissolve", body, agency_id)

    # --- people of the agency ---------------------------------------------------------------

    @get("/people", name="web.admin.people")
    async def people(
        self,
        request: Request[Any, Any, Any],
        admin: NamedDependency[Admin],
        upstream: NamedDependency[Upstream],
        offset: Annotated[int, QueryParameter(ge=0)] = 0,
        inactive: Annotated[bool, QueryParameter()] = False,
        q: Annotated[str, QueryParameter(max_length=100)] = "",
    ) -> Template:
        params = {
            **admin.agency_param(),
            "limit": str(PEOPLE_PAGE),
            "offset": str(offset),
            "include_inactive": "true" if inactive else None,
        }
        if q.strip():
            found = await _search_people(upstream, admin, params, q)
        else:
            found = await upstream.get(
                admin.caller, "identity", "/api/v1/people", PeoplePage, params
            )
        departments = {d.id: d.name for d in await _departments(upstream, admin)}
        return await admin_page(
            request,
            admin,
            "admin_people.html.j2",
            people=found,
            departments=departments,
            inactive=inactive,
            q=q.strip(),
        )

    @get("/people/new", name="web.admin.people.new")
    async def new_person(
        self,
        request: Request[Any, Any, Any],
        admin: NamedDependency[Admin],
        upstream: NamedDependency[Upstream],
    ) -> Template:
        admin.managed()
        departments = await _departments(upstream, admin)
        return await admin_page(
            request, admin, "admin_person_new.html.j2", departments=departments, roles=ROLES
        )

    @post("/people/new", name="web.admin.people.create", status_code=303)
    async def create_person(
        self,
        request: Request[Any, Any, Any],
        admin: NamedDependency[Admin],
        upstream: NamedDependency[Upstream],
        data: Form,
    ) -> Redirect:
        check_same_origin(request)
        body: dict[str, Any] = {
            name: text(data, name)
            for name in ("username", "full_name", "email", "phone", "title", "position")
        }
        body["username"] = body["username"].lower()
        body["roles"] = [r for r in values(data, "roles") if r in ROLES]
        if department := text(data, "department_id"):
            body["department_id"] = department
        if valid_from := _day(data, "valid_from"):
            body["valid_from"] = valid_from
        await upstream.call(
            admin.caller,
            "POST",
            "identity",
            "/api/v1/people",
            params=admin.agency_param(),
            json=body,
        )
        # The list, narrowed to the new person: in a large agency they may be pages away.
        return done(f"/admin/people?q={quote(body['username'])}", "person_added")

    @get("/people/{person_id:uuid}", name="web.admin.person")
    async def person(
        self,
        request: Request[Any, Any, Any],
        admin: NamedDependency[Admin],
        upstream: NamedDependency[Upstream],
        person_id: FromPath[uuid.UUID],
    ) -> Template:
        return await self._person_page(request, admin, upstream, person_id)

    async def _person_page(
        self,
        request: Request[Any, Any, Any],
        admin: Admin,
        upstream: Upstream,
        person_id: uuid.UUID,
        temporary_password: str | None = None,
    ) -> Template:
        found = await upstream.get(
            admin.caller,
            "identity",
            f"/api/v1/people/{person_id}",
            Person,
            admin.agency_param(),
        )
        departments = await _departments(upstream, admin)
        return await admin_page(
            request,
            admin,
            "admin_person.html.j2",
            person=found,
            departments=departments,
            roles=ROLES,
            temporary_password=temporary_password,
        )

    @post(
        "/people/{person_id:uuid}/temporary-password",
        name="web.admin.person.password",
        status_code=200,
    )
    async def temporary_password(
        self,
        request: Request[Any, Any, Any],
        admin: NamedDependency[Admin],
        upstream: NamedDependency[Upstream],
        person_id: FromPath[uuid.UUID],
    ) -> Template:
        """The password is shown on this answer only (never in a URL, a redirect or a log)."""
        check_same_origin(request)
        issued = await upstream.call(
            admin.caller,
            "POST",
            "identity",
            f"/api/v1/people/{person_id}/temporary-password",
            params=admin.agency_param(),
        )
        page = await self._person_page(
            request, admin, upstream, person_id, temporary_password=str(issued["password"])
        )
        page.headers["Cache-Control"] = "no-store"
        return page

    async def _membership(
        self, admin: Admin, upstream: Upstream, person_id: uuid.UUID
    ) -> Membership:
        found = await upstream.get(
            admin.caller,
            "identity",
            f"/api/v1/people/{person_id}",
            Person,
            admin.agency_param(),
        )
        if found.membership is None:
            raise InvalidInput(
                "Cán bộ không có chức vụ tại cơ quan này.", "No membership in this agency."
            )
        return found.membership

    @post("/people/{person_id:uuid}/membership", name="web.admin.membership", status_code=303)
    async def change_membership(
        self,
        request: Request[Any, Any, Any],
        admin: NamedDependency[Admin],
        upstream: NamedDependency[Upstream],
        person_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Redirect:
        check_same_origin(request)
        membership = await self._membership(admin, upstream, person_id)
        body: dict[str, Any] = {
            "position": text(data, "position"),
            "roles": [r for r in values(data, "roles") if r in ROLES],
        }
        # Departments are offered only where the page could list them (see _departments);
        # elsewhere the field is absent and the membership keeps its department.
        if "department_id" in data:
            body["department_id"] = text(data, "department_id") or None
        await upstream.call(
            admin.caller,
            "PATCH",
            "identity",
            f"/api/v1/memberships/{membership.id}",
            params=admin.agency_param(),
            json=body,
        )
        return done(f"/admin/people/{person_id}", "membership_saved")

    @post("/people/{person_id:uuid}/end", name="web.admin.membership.end", status_code=303)
    async def end_membership(
        self,
        request: Request[Any, Any, Any],
        admin: NamedDependency[Admin],
        upstream: NamedDependency[Upstream],
        person_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Redirect:
        check_same_origin(request)
        _confirmed(data)
        membership = await self._membership(admin, upstream, person_id)
        await upstream.call(
            admin.caller,
            "POST",
            "identity",
            f"/api/v1/memberships/{membership.id}/end",
            params=admin.agency_param(),
        )
        return done("/admin/people", "membership_ended")

    @post("/people/{person_id:uuid}/disable", name="web.admin.person.disable", status_code=303)
    async def disable(
        self,
        request: Request[Any, Any, Any],
        admin: NamedDependency[Admin],
        upstream: NamedDependency[Upstream],
        person_id: FromPath[uuid.UUID],
    ) -> Redirect:
        return await self._switch(request, admin, upstream, person_id, "disable")

    @post("/people/{person_id:uuid}/enable", name="web.admin.person.enable", status_code=303)
    async def enable(
        self,
        request: Request[Any, Any, Any],
        admin: NamedDependency[Admin],
        upstream: NamedDependency[Upstream],
        person_id: FromPath[uuid.UUID],
    ) -> Redirect:
        return await self._switch(request, admin, upstream, person_id, "enable")

    async def _switch(
        self,
        request: Request[Any, Any, Any],
        admin: Admin,
        upstream: Upstream,
        person_id: uuid.UUID,
        action: str,
    ) -> Redirect:
        check_same_origin(request)
        await upstream.call(
            admin.caller,
            "POST",
            "identity",
            f"/api/v1/people/{person_id}/{action}",
            params=admin.agency_param(),
        )
        return done(f"/admin/people/{person_id}", f"{action}d")

    # --- roles ------------------------------------------------------------------------------

    @get("/roles", name="web.admin.roles")
    async def roles(
        self,
        request: Request[Any, Any, Any],
        admin: NamedDependency[Admin],
        upstream: NamedDependency[Upstream],
    ) -> Template:
        memberships = await upstream.get(
            admin.caller,
            "identity",
            "/api/v1/memberships",
            list[Membership],
            admin.agency_param(),
        )
        holders: dict[str, list[Membership]] = {role: [] for role in ROLES}
        for membership in memberships:
            for role in membership.roles:
                holders.setdefault(role, []).append(membership)
        return await admin_page(request, admin, "admin_roles.html.j2", holders=holders)

    # --- delegations ------------------------------------------------------------------------

    @get("/delegations", name="web.admin.delegations")
    async def delegations(
        self,
        request: Request[Any, Any, Any],
        admin: NamedDependency[Admin],
        upstream: NamedDependency[Upstream],
    ) -> Template:
        self._require_agency(admin)
        mine = await upstream.get(admin.caller, "identity", "/api/v1/delegations", list[Delegation])
        now = dt.datetime.now(dt.UTC)
        colleagues = await self._colleagues(admin, upstream)
        me = admin.viewer.principal.username
        # Only leaders delegate; a delegate is anyone else of the agency.
        candidates = [m for m in colleagues if m.username != me] if admin.leader else []
        start = dt.datetime.now(VIETNAM).replace(second=0, microsecond=0, tzinfo=None)
        return await admin_page(
            request,
            admin,
            "admin_delegations.html.j2",
            delegations=sorted(mine, key=lambda d: d.starts_at, reverse=True),
            now=now,
            candidates=candidates,
            # People by name, as the rest of the pages show them; a username for someone who
            # has left the agency since.
            names={m.person_id: m.full_name for m in colleagues},
            me=me,
            starts=start,
            ends=start + dt.timedelta(days=7),
        )

    @staticmethod
    def _require_agency(admin: Admin) -> None:
        if not admin.has_agency:
            raise Forbidden(
                "Ủy quyền là việc trong một cơ quan; tài khoản vận hành không có cơ quan.",
                "Delegations belong to an agency; an operator account has none.",
            )

    async def _colleagues(self, admin: Admin, upstream: Upstream) -> list[Member]:
        """The agency's people, with the id a delegation names them by."""
        return await upstream.get(
            admin.caller,
            "identity",
            "/api/v1/directory/members",
            list[Member],
            {"limit": "500"},
        )

    @post("/delegations", name="web.admin.delegations.create", status_code=303)
    async def create_delegation(
        self,
        request: Request[Any, Any, Any],
        admin: NamedDependency[Admin],
        upstream: NamedDependency[Upstream],
        data: Form,
    ) -> Redirect:
        check_same_origin(request)
        self._require_agency(admin)
        delegate = _uuid(text(data, "delegate_id"))
        if delegate is None:
            raise InvalidInput(
                "Hãy chọn người được ủy quyền (hoặc nhập đúng mã cán bộ).",
                "Choose the delegate (or enter a valid person id).",
            )
        body = {
            "delegate_id": str(delegate),
            "starts_at": _instant(data, "starts_at"),
            "ends_at": _instant(data, "ends_at"),
            "scope": text(data, "scope"),
        }
        await upstream.call(admin.caller, "POST", "identity", "/api/v1/delegations", json=body)
        return done("/admin/delegations", "delegated")

    @post(
        "/delegations/{delegation_id:uuid}/revoke",
        name="web.admin.delegations.revoke",
        status_code=303,
    )
    async def revoke_delegation(
        self,
        request: Request[Any, Any, Any],
        admin: NamedDependency[Admin],
        upstream: NamedDependency[Upstream],
        delegation_id: FromPath[uuid.UUID],
    ) -> Redirect:
        check_same_origin(request)
        self._require_agency(admin)
        await upstream.call(
            admin.caller, "POST", "identity", f"/api/v1/delegations/{delegation_id}/revoke"
        )
        return done("/admin/delegations", "revoked")
