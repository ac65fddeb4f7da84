"""Administration of the platform in the browser: bulk imports of agencies and people (a dry
run reporting every bad line, then the real run), the interchange connectors and the
dead-letter list with replay.

Imports and connectors are the platform operator's (identity and interchange refuse anyone
else); an agency admin sees their own agency's connector and dead letters. The import is
stateless between its two steps: the browser keeps the chosen file in the form and sends it
again to apply, with the hash of the file the dry run checked, so what is applied is what was
checked."""

from __future__ import annotations

import hashlib
import uuid
from typing import Annotated, Any, Literal

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, QueryParameter
from litestar.response import Redirect, Template

from services.common.problems import InvalidInput, Problem
from services.docs.web.admin_pages import (
    Admin,
    ChooseAgency,
    admin_page,
    choose_agency_first,
    done,
    folded,
    provide_admin,
)
from services.docs.web.admin_views import Agency, Connector, DeadLetter, ImportReport, RowError
from services.docs.web.auth import check_same_origin
from services.docs.web.forms import text
from services.docs.web.frame import frame_of
from services.docs.web.upstream import Upstream, UpstreamProblem, as_type

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
Multipart = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
# The identity service's limit for an import file, and room for the form around it.
MAX_IMPORT_BYTES = 20 << 20
IMPORT_FORM_BYTES = MAX_IMPORT_BYTES + (1 << 20)
# A province's people (tens of thousands of rows) take a while to check and write.
IMPORT_SECONDS = 600.0
KINDS = ("people", "agencies")
Listing = Literal["open", "replayed", "all"]
REPORT_TARGET = "import-report"


async def _read_upload(upload: Any) -> tuple[str, bytes]:
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise InvalidInput("Hãy chọn tệp cần nhập (.xlsx hoặc .csv).", "Choose the file to import.")
    chunks: list[bytes] = []
    size = 0
    while chunk := await upload.read(1 << 20):
        size += len(chunk)
        if size > MAX_IMPORT_BYTES:
            raise InvalidInput("Tệp nhập quá lớn (tối đa 20 MiB).", "The file exceeds 20 MiB.")
        chunks.append(chunk)
    if size == 0:
        raise InvalidInput("Tệp đã chọn rỗng.", "The chosen file is empty.")
    # Only the last part of the name: some browsers send the whole path.
    name = upload.filename.replace("\\", "/").rsplit("/", 1)[-1][-255:]
    return name, b"".join(chunks)


def _row_errors(problem: UpstreamProblem) -> list[RowError]:
    """The lines a refused real run names (its problem's `errors`)."""
    return [
        RowError(
            line=int(e.get("line") or 0),
            column=e.get("column"),
            column_label=e.get("column_label"),
            reason_vi=str(e.get("message") or ""),
            reason_en=str(e.get("message_en") or e.get("message") or ""),
        )
        for e in problem.errors
        if isinstance(e.get("line"), int)
    ]


def _whole_number(form: dict[str, Any], name: str, *, decimal: bool = False) -> float | None:
    raw = text(form, name)
    if not raw:
        return None
    try:
        return float(raw) if decimal else int(raw)
    except ValueError as exc:
        raise InvalidInput(
            f"Trường «{name}» phải là một số.", f"The field {name!r} must be a number."
        ) from exc


class AdminPlatformPages(Controller):
    path = "/admin"
    dependencies = {"admin": Provide(provide_admin)}  # noqa: RUF012 (Litestar's attribute)
    exception_handlers = {ChooseAgency: choose_agency_first}  # noqa: RUF012

    # --- imports ----------------------------------------------------------------------------

    @get("/imports", name="web.admin.imports")
    async def imports(
        self, request: Request[Any, Any, Any], admin: NamedDependency[Admin]
    ) -> Template:
        admin.require_operator()
        return await admin_page(request, admin, "admin_imports.html.j2", kind="people", result=None)

    @post(
        "/imports/check",
        name="web.admin.imports.check",
        request_max_body_size=IMPORT_FORM_BYTES,
    )
    async def check(
        self,
        request: Request[Any, Any, Any],
        admin: NamedDependency[Admin],
        upstream: NamedDependency[Upstream],
        data: Multipart,
    ) -> Template:
        return await self._run(request, admin, upstream, data, dry_run=True)

    @post(
        "/imports/apply",
        name="web.admin.imports.apply",
        request_max_body_size=IMPORT_FORM_BYTES,
    )
    async def apply(
        self,
        request: Request[Any, Any, Any],
        admin: NamedDependency[Admin],
        upstream: NamedDependency[Upstream],
        data: Multipart,
    ) -> Template:
        return await self._run(request, admin, upstream, data, dry_run=False)

    async def _run(
        self,
        request: Request[Any, Any, Any],
        admin: Admin,
        upstream: Upstream,
        data: dict[str, Any],
        *,
        dry_run: bool,
    ) -> Template:
        check_same_origin(request)
        admin.require_operator()
        kind = text(data, "kind")
        result: dict[str, Any] = {"dry_run": dry_run, "report": None, "refusal": "", "errors": []}
        status = 200
        try:
            if kind not in KINDS:
                raise InvalidInput("Hãy chọn loại dữ liệu cần nhập.", "Choose what to import.")
            name, content = await _read_upload(data.get("file"))
            digest = hashlib.sha256(content).hexdigest()
            result |= {"file_name": name, "digest": digest}
            if not dry_run and text(data, "checked") != digest:
                raise InvalidInput(
                    "Tệp đã chọn khác tệp vừa kiểm tra; hãy kiểm tra lại trước khi nhập.",
                    "The chosen file is not the one just checked; check it again first.",
                )
            raw = await upstream.call(
                admin.caller,
                "POST",
                "identity",
                f"/api/v1/imports/{kind}",
                params={"name": name, "dry_run": "true" if dry_run else "false"},
                content=content,
                seconds=IMPORT_SECONDS,
            )
            report = as_type(raw, ImportReport)
            result |= {"report": report, "errors": report.errors}
        except UpstreamProblem as problem:
            # A refused real run names its bad lines; a refused file says why.
            result |= {"refusal": problem.detail_vi, "errors": _row_errors(problem)}
            status = problem.status
        except Problem as problem:
            result["refusal"] = admin.viewer.t.problem(
                problem.detail_vi or problem.title_vi, problem.detail_en or problem.title_en
            )
            status = problem.status
        fragment = request.headers.get("hx-target") == REPORT_TARGET
        template = "admin_import_report.html.j2" if fragment else "admin_imports.html.j2"
        return await admin_page(
            request, admin, template, status_code=status, kind=kind, result=result
        )

    # --- interchange connectors -------------------------------------------------------------

    @get("/connectors", name="web.admin.connectors")
    async def connectors(
        self,
        request: Request[Any, Any, Any],
        admin: NamedDependency[Admin],
        upstream: NamedDependency[Upstream],
        q: Annotated[str, QueryParameter(max_length=100)] = "",
    ) -> Template:
        admin.require_admin()
        agencies: list[Agency] = []
        if admin.operator:
            found = await upstream.get(
                admin.caller, "interchange", "/api/v1/connectors", list[Connector]
            )
            agencies = sorted(
                await upstream.get(
                    admin.caller, "identity", "/api/v1/agencies", list[Agency], {"status": "active"}
                ),
                key=lambda a: a.code,
            )
        else:
            try:
                found = [
                    await upstream.get(admin.caller, "interchange", "/api/v1/connector", Connector)
                ]
            except UpstreamProblem as problem:
                if problem.status != 404:
                    raise
                found = []
        names = {a.id: a.name for a in agencies}
        for connector in found:
            if connector.tenant_id not in names:
                agency = await frame_of(request).agencies.by_id(connector.tenant_id)
                names[connector.tenant_id] = agency.name if agency else connector.agency_code
        if wanted := folded(q.strip()):
            found = [
                c
                for c in found
                if wanted in folded(f"{names.get(c.tenant_id, '')} {c.agency_code} {c.system_id}")
            ]
        return await admin_page(
            request,
            admin,
            "admin_connectors.html.j2",
            q=q.strip(),
            connectors=found,
            names=names,
            registry=agencies,
        )

    @get("/connectors/open", name="web.admin.connectors.open")
    async def open_connector(
        self,
        admin: NamedDependency[Admin],
        agency_id: Annotated[uuid.UUID, QueryParameter()],
    ) -> Redirect:
        admin.require_operator()
        return Redirect(f"/admin/connectors/{agency_id}", status_code=303)

    @get("/connectors/{agency_id:uuid}", name="web.admin.connector")
    async def connector(
        self,
        request: Request[Any, Any, Any],
        admin: NamedDependency[Admin],
        upstream: NamedDependency[Upstream],
        agency_id: FromPath[uuid.UUID],
    ) -> Template:
        admin.require_operator()
        agency = await upstream.get(
            admin.caller, "identity", f"/api/v1/agencies/{agency_id}", Agency
        )
        try:
            found: Connector | None = await upstream.get(
                admin.caller, "interchange", f"/api/v1/connectors/{agency_id}", Connector
            )
        except UpstreamProblem as problem:
            if problem.status != 404:
                raise
            found = None
        return await admin_page(
            request, admin, "admin_connector.html.j2", agency=agency, connector=found
        )

    @post("/connectors/{agency_id:uuid}", name="web.admin.connector.save", status_code=303)
    async def save_connector(
        self,
        request: Request[Any, Any, Any],
        admin: NamedDependency[Admin],
        upstream: NamedDependency[Upstream],
        agency_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Redirect:
        check_same_origin(request)
        admin.require_operator()
        body: dict[str, Any] = {"enabled": text(data, "enabled") == "true"}
        # Blank fields are left as they are: the secret above all, which is never shown.
        for name in ("kind", "endpoint", "system_id", "secret", "agency_code"):
            if value := text(data, name):
                body[name] = value
        for name in ("poll_seconds", "rate_per_minute"):
            if (number := _whole_number(data, name)) is not None:
                body[name] = number
        if (seconds := _whole_number(data, "timeout_seconds", decimal=True)) is not None:
            body["timeout_seconds"] = seconds
        await upstream.call(
            admin.caller, "PUT", "interchange", f"/api/v1/connectors/{agency_id}", json=body
        )
        return done(f"/admin/connectors/{agency_id}", "connector_saved")

    @post("/connectors/{agency_id:uuid}/poll", name="web.admin.connector.poll", status_code=303)
    async def poll(
        self,
        request: Request[Any, Any, Any],
        admin: NamedDependency[Admin],
        upstream: NamedDependency[Upstream],
        agency_id: FromPath[uuid.UUID],
    ) -> Redirect:
        check_same_origin(request)
        admin.require_operator()
        await upstream.call(
            admin.caller, "POST", "interchange", f"/api/v1/connectors/{agency_id}/poll"
        )
        return done(f"/admin/connectors/{agency_id}", "poll_requested")

    # --- dead letters -----------------------------------------------------------------------

    @get("/dead-letters", name="web.admin.dead_letters")
    async def dead_letters(
        self,
        request: Request[Any, Any, Any],
        admin: NamedDependency[Admin],
        upstream: NamedDependency[Upstream],
        listing: Annotated[Listing, QueryParameter(name="state")] = "open",
        agency: Annotated[uuid.UUID | None, QueryParameter()] = None,
    ) -> Template:
        admin.require_admin()
        params: dict[str, str | None] = {"state": listing, "limit": "200"}
        if admin.operator:
            params["agency_id"] = str(agency) if agency else None
            letters = await upstream.get(
                admin.caller,
                "interchange",
                "/api/v1/operator/dead-letters",
                list[DeadLetter],
                params,
            )
        else:
            letters = await upstream.get(
                admin.caller, "interchange", "/api/v1/dead-letters", list[DeadLetter], params
            )
        names: dict[uuid.UUID, str] = {}
        for letter in letters:
            if letter.tenant_id not in names:
                found = await frame_of(request).agencies.by_id(letter.tenant_id)
                names[letter.tenant_id] = found.name if found else str(letter.tenant_id)
        return await admin_page(
            request,
            admin,
            "admin_dead_letters.html.j2",
            here=f"/admin/dead-letters?state={listing}" + (f"&agency={agency}" if agency else ""),
            letters=letters,
            names=names,
            listing=listing,
            agency=agency,
        )

    @post(
        "/dead-letters/{agency_id:uuid}/{letter_id:uuid}/replay",
        name="web.admin.dead_letters.replay",
        status_code=303,
    )
    async def replay(
        self,
        request: Request[Any, Any, Any],
        admin: NamedDependency[Admin],
        upstream: NamedDependency[Upstream],
        agency_id: FromPath[uuid.UUID],
        letter_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Redirect:
        check_same_origin(request)
        admin.require_admin()
        path = (
            f"/api/v1/operator/dead-letters/{agency_id}/{letter_id}/replay"
            if admin.operator
            else f"/api/v1/dead-letters/{letter_id}/replay"
        )
        raw = await upstream.call(admin.caller, "POST", "interchange", path)
        letter = as_type(raw, DeadLetter)
        # A replay refused again keeps the letter open, with the new reason on its row.
        notice = "replay_failed" if letter.state == "open" else "replayed"
        # Back to the list as it was filtered, at the letter's row.
        back = text(data, "back")
        if not back.startswith("/admin/dead-letters") or "#" in back:
            back = "/admin/dead-letters"
        return done(back, notice, anchor=f"letter-{letter_id}")
