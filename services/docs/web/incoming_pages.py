"""Incoming documents in the browser: the list with search, the card with its files and
history, and every step of the workflow as a form over `IncomingService`."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any
from urllib.parse import urlencode

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, QueryParameter
from litestar.response import File, Redirect, Stream, Template

from services.common.auth.principal import Role
from services.common.problems import Conflict, InvalidInput
from services.docs.catalog.types import DOCUMENT_TYPES
from services.docs.dossiers.disposition import attachment
from services.docs.files.listed import incoming_file
from services.docs.files.storage_client import StorageClient
from services.docs.incoming.changes import IncomingChanges
from services.docs.incoming.schemas import (
    Assign,
    AssignmentRequest,
    Completion,
    IncomingFields,
    PaperDocument,
    Registration,
    Return,
)
from services.docs.incoming.service import (
    ASSIGNERS,
    CLERKS,
    Directory,
    IncomingService,
    today,
)
from services.docs.saved_searches import export
from services.docs.saved_searches.schemas import (
    ExportFormat,
    SavedSearchCreate,
    SavedSearchView,
    SearchParams,
)
from services.docs.saved_searches.service import SavedSearchService
from services.docs.web.auth import Viewer, check_same_origin
from services.docs.web.downloads import DownloadToken, delivered
from services.docs.web.forms import (
    convert,
    store_upload,
    stored_file,
    text,
    values,
)
from services.docs.web.frame import page

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
Multipart = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# What a clerk enters or confirms of an incoming document (IncomingFields).
FIELD_NAMES = tuple(field.name for field in msgspec.structs.fields(IncomingFields))
STATES = ("waiting", "registered", "assigned", "processing", "completed", "returned")


def _done(document_id: uuid.UUID, notice: str) -> Redirect:
    return Redirect(f"/incoming/{document_id}?ok={notice}", status_code=303)


def _search_params(q: str | None, state: str | None, mine: bool, overdue: bool) -> SearchParams:
    """The list's conditions as a saved search and an export take them."""
    # Unknown states mean "all", as the list itself takes them.
    known = msgspec.convert({"state": state}, SearchParams) if state in STATES else SearchParams()
    return SearchParams(state=known.state, q=q or None, mine=mine, overdue=overdue)


def _search_query(params: SearchParams) -> str:
    """The conditions as the list's query string (export links, the "save" form's origin)."""
    fields = {"q": params.q or "", "state": params.state or ""}
    fields.update({k: "true" for k in ("mine", "overdue") if getattr(params, k)})
    return urlencode({k: v for k, v in fields.items() if v})


async def _my_searches(
    saved_searches: SavedSearchService, viewer: Viewer
) -> tuple[list[SavedSearchView], str]:
    """The person's saved searches, or why they cannot be shown; the list itself still works."""
    try:
        return await saved_searches.list(viewer.tenant_id, viewer.principal), ""
    except Conflict as exc:  # a search saved under conditions the list no longer has
        return [], viewer.t.problem(exc.detail_vi, exc.detail_en)


async def _export(
    incoming: IncomingService,
    viewer: Viewer,
    params: SearchParams,
    file_format: ExportFormat,
    download: str | None,
) -> Stream:
    """The results of the list's search as a file, built by the same code as the API's export
    (the same rows the list shows this person, the same cap)."""
    await export.check_size(incoming, viewer.tenant_id, viewer.principal, params)
    rows = export.pages(incoming, viewer.tenant_id, viewer.principal, params)
    headers = {
        "Content-Disposition": attachment(f"van-ban-den-{today():%Y%m%d}.{file_format}"),
        "Cache-Control": "private, no-store",
    }
    if file_format == "csv":
        stream = Stream(
            export.csv_stream(rows), media_type="text/csv; charset=utf-8", headers=headers
        )
    else:
        directory = await export.xlsx_file(rows)
        stream = Stream(export.file_stream(directory), media_type=XLSX, headers=headers)
    return delivered(stream, download)


class IncomingPages(Controller):
    path = "/incoming"

    @get("", name="web.incoming")
    async def list_page(
        self,
        request: Request[Any, Any, Any],
        viewer: NamedDependency[Viewer],
        incoming: NamedDependency[IncomingService],
        saved_searches: NamedDependency[SavedSearchService],
        q: Annotated[str | None, QueryParameter(max_length=200)] = None,
        document_state: Annotated[str | None, QueryParameter(name="state", max_length=20)] = None,
        mine: Annotated[bool, QueryParameter()] = False,
        overdue: Annotated[bool, QueryParameter()] = False,
        cursor: Annotated[str | None, QueryParameter(max_length=200)] = None,
        saved: Annotated[uuid.UUID | None, QueryParameter()] = None,
    ) -> Template:
        if saved is not None:
            # A saved search runs with the conditions it was saved with (the service's own run).
            params = (await saved_searches.get(viewer.tenant_id, viewer.principal, saved)).params
            result = await saved_searches.run(
                viewer.tenant_id, viewer.principal, saved, cursor=cursor or None, limit=50
            )
        else:
            params = _search_params(q, document_state, mine, overdue)
            result = await incoming.list(
                viewer.tenant_id,
                viewer.principal,
                state=params.state,
                query=params.q,
                assigned_to_me=params.mine,
                overdue=params.overdue,
                cursor=cursor or None,
                limit=50,
            )
        filters = {
            "q": params.q or "",
            "state": params.state or "",
            "mine": params.mine,
            "overdue": params.overdue,
        }
        if cursor and viewer.htmx:
            return await page(
                request, viewer, "incoming_rows.html.j2", page_=result, filters=filters
            )
        mine_saved, saved_error = await _my_searches(saved_searches, viewer)
        return await page(
            request,
            viewer,
            "incoming_list.html.j2",
            page_=result,
            filters=filters,
            states=STATES,
            query=_search_query(params),
            saved=saved,
            saved_searches=mine_saved,
            saved_error=saved_error,
        )

    @post("/searches", name="web.incoming.save_search", status_code=303)
    async def save_search(
        self,
        request: Request[Any, Any, Any],
        viewer: NamedDependency[Viewer],
        saved_searches: NamedDependency[SavedSearchService],
        data: Form,
    ) -> Redirect:
        check_same_origin(request)
        params = _search_params(
            text(data, "q"),
            text(data, "state"),
            text(data, "mine") == "true",
            text(data, "overdue") == "true",
        )
        body = convert(
            {"name": text(data, "name"), "params": msgspec.to_builtins(params)}, SavedSearchCreate
        )
        view = await saved_searches.create(viewer.tenant_id, viewer.principal, body)
        return Redirect(f"/incoming?saved={view.id}&ok=search_saved", status_code=303)

    @post("/searches/{search_id:uuid}/delete", name="web.incoming.delete_search", status_code=303)
    async def delete_search(
        self,
        request: Request[Any, Any, Any],
        viewer: NamedDependency[Viewer],
        saved_searches: NamedDependency[SavedSearchService],
        search_id: FromPath[uuid.UUID],
    ) -> Redirect:
        check_same_origin(request)
        await saved_searches.delete(viewer.tenant_id, viewer.principal, search_id)
        return Redirect("/incoming?ok=search_deleted", status_code=303)

    @get("/export.csv", name="web.incoming.export_csv")
    async def export_csv(
        self,
        viewer: NamedDependency[Viewer],
        incoming: NamedDependency[IncomingService],
        q: Annotated[str | None, QueryParameter(max_length=200)] = None,
        document_state: Annotated[str | None, QueryParameter(name="state", max_length=20)] = None,
        mine: Annotated[bool, QueryParameter()] = False,
        overdue: Annotated[bool, QueryParameter()] = False,
        download: DownloadToken = None,
    ) -> Stream:
        params = _search_params(q, document_state, mine, overdue)
        return await _export(incoming, viewer, params, "csv", download)

    @get("/export.xlsx", name="web.incoming.export_xlsx")
    async def export_xlsx(
        self,
        viewer: NamedDependency[Viewer],
        incoming: NamedDependency[IncomingService],
        q: Annotated[str | None, QueryParameter(max_length=200)] = None,
        document_state: Annotated[str | None, QueryParameter(name="state", max_length=20)] = None,
        mine: Annotated[bool, QueryParameter()] = False,
        overdue: Annotated[bool, QueryParameter()] = False,
        download: DownloadToken = None,
    ) -> Stream:
        params = _search_params(q, document_state, mine, overdue)
        return await _export(incoming, viewer, params, "xlsx", download)

    @get("/new", name="web.incoming.new")
    async def new_paper(
        self, request: Request[Any, Any, Any], viewer: NamedDependency[Viewer]
    ) -> Template:
        return await page(
            request, viewer, "incoming_new.html.j2", types=DOCUMENT_TYPES, today=dt.date.today()
        )

    @post("/new", name="web.incoming.receive", status_code=303)
    async def receive_paper(
        self,
        request: Request[Any, Any, Any],
        viewer: NamedDependency[Viewer],
        incoming: NamedDependency[IncomingService],
        storage: NamedDependency[StorageClient],
        data: Multipart,
    ) -> Redirect:
        check_same_origin(request)
        body = convert({name: text(data, name) for name in FIELD_NAMES}, PaperDocument)
        scan = await store_upload(storage, viewer.tenant_id, data.get("scan"), required=False)
        if scan is not None:
            body.files = [scan]
        card = await incoming.receive_paper(viewer.tenant_id, viewer.principal, body)
        return _done(card.id, "received")

    @get("/{document_id:uuid}", name="web.incoming.card")
    async def card(
        self,
        request: Request[Any, Any, Any],
        viewer: NamedDependency[Viewer],
        incoming: NamedDependency[IncomingService],
        directory: NamedDependency[Directory],
        document_id: FromPath[uuid.UUID],
    ) -> Template:
        card = await incoming.card(viewer.tenant_id, viewer.principal, document_id)
        me = viewer.principal.username
        leading = any(
            a.assignee == me and a.role == "lead" and a.state == "open" for a in card.assignments
        )
        involved = leading or any(a.assignee == me for a in card.assignments)
        can = {
            "register": card.state == "waiting" and viewer.principal.has_role(*CLERKS),
            "assign": card.state in ("registered", "assigned", "processing")
            and viewer.principal.has_role(*ASSIGNERS),
            "opinion": card.state in ("assigned", "processing")
            and (involved or viewer.principal.has_role(Role.LEADER, Role.DEPUTY_LEADER)),
            "complete": leading and card.state in ("assigned", "processing"),
            "reply": leading and card.state in ("assigned", "processing"),
            "answer_changes": viewer.principal.has_role(*ASSIGNERS),
        }
        members = await directory.members(viewer.tenant_id) if can["assign"] else []
        pdf = next((f for f in card.files if f.file_name.lower().endswith(".pdf")), None)
        ocr = _ocr_state(card)
        return await page(
            request,
            viewer,
            "incoming_card.html.j2",
            ocr=ocr,
            types=DOCUMENT_TYPES,
            card=card,
            can=can,
            members=members,
            pdf=pdf,
        )

    @get("/{document_id:uuid}/files/{object_id:uuid}", name="web.incoming.file")
    async def file(
        self,
        viewer: NamedDependency[Viewer],
        incoming: NamedDependency[IncomingService],
        storage: NamedDependency[StorageClient],
        document_id: FromPath[uuid.UUID],
        object_id: FromPath[uuid.UUID],
    ) -> File:
        # The card applies the document's visibility (confidential documents) first.
        card = await incoming.card(viewer.tenant_id, viewer.principal, document_id)
        found = incoming_file(card, object_id)
        return await stored_file(
            storage, viewer.tenant_id, object_id, found.sha256, found.file_name
        )

    @post("/{document_id:uuid}/register", name="web.incoming.register", status_code=303)
    async def register(
        self,
        request: Request[Any, Any, Any],
        viewer: NamedDependency[Viewer],
        incoming: NamedDependency[IncomingService],
        document_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Redirect:
        """The clerk confirms, and may correct, what the sender's packet declared."""
        check_same_origin(request)
        fields = convert({name: text(data, name) for name in FIELD_NAMES}, IncomingFields)
        await incoming.register(
            viewer.tenant_id, viewer.principal, document_id, Registration(fields=fields)
        )
        return _done(document_id, "registered")

    @post(
        "/{document_id:uuid}/changes/{change_id:uuid}",
        name="web.incoming.change",
        status_code=303,
    )
    async def answer_change(
        self,
        request: Request[Any, Any, Any],
        viewer: NamedDependency[Viewer],
        incoming: NamedDependency[IncomingService],
        document_id: FromPath[uuid.UUID],
        change_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Redirect:
        """The sender asked to revoke, update or replace the document: the clerk or a leader
        agrees or refuses (with a reason), and the answer goes back to the sender."""
        check_same_origin(request)
        changes = IncomingChanges(incoming)
        if text(data, "decision") == "refuse":
            await changes.refuse(
                viewer.tenant_id, viewer.principal, document_id, change_id, text(data, "reason")
            )
            return _done(document_id, "change_refused")
        await changes.accept(viewer.tenant_id, viewer.principal, document_id, change_id)
        return _done(document_id, "change_accepted")

    @post("/{document_id:uuid}/return", name="web.incoming.return", status_code=303)
    async def return_to_sender(
        self,
        request: Request[Any, Any, Any],
        viewer: NamedDependency[Viewer],
        incoming: NamedDependency[IncomingService],
        document_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Redirect:
        check_same_origin(request)
        body = convert({"reason": text(data, "reason")}, Return)
        await incoming.return_to_sender(
            viewer.tenant_id, viewer.principal, document_id, body.reason
        )
        return _done(document_id, "returned_to_sender")

    @post("/{document_id:uuid}/assign", name="web.incoming.assign", status_code=303)
    async def assign(
        self,
        request: Request[Any, Any, Any],
        viewer: NamedDependency[Viewer],
        incoming: NamedDependency[IncomingService],
        document_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Redirect:
        check_same_origin(request)
        deadline = text(data, "deadline")
        direction = text(data, "direction")
        requests: list[AssignmentRequest] = []
        lead = text(data, "lead")
        if lead:
            requests.append(
                convert(
                    {
                        "assignee": lead,
                        "role": "lead",
                        "deadline": deadline,
                        "direction": direction,
                    },
                    AssignmentRequest,
                )
            )
        for role in ("cooperate", "inform"):
            for username in values(data, role):
                if username and username != lead:
                    requests.append(
                        convert(
                            {"assignee": username, "role": role, "deadline": deadline},
                            AssignmentRequest,
                        )
                    )
        if not requests:
            raise InvalidInput("Hãy chọn ít nhất một người xử lý.", "Choose at least one person.")
        await incoming.assign(
            viewer.tenant_id, viewer.principal, document_id, Assign(assignments=requests)
        )
        return _done(document_id, "assigned")

    @post("/{document_id:uuid}/opinion", name="web.incoming.opinion", status_code=303)
    async def opinion(
        self,
        request: Request[Any, Any, Any],
        viewer: NamedDependency[Viewer],
        incoming: NamedDependency[IncomingService],
        document_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Redirect:
        check_same_origin(request)
        opinion = text(data, "text")
        if not opinion:
            raise InvalidInput("Hãy nhập ý kiến.", "Write the opinion.")
        await incoming.opinion(viewer.tenant_id, viewer.principal, document_id, opinion)
        return _done(document_id, "opinion")

    @post("/{document_id:uuid}/complete", name="web.incoming.complete", status_code=303)
    async def complete(
        self,
        request: Request[Any, Any, Any],
        viewer: NamedDependency[Viewer],
        incoming: NamedDependency[IncomingService],
        document_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Redirect:
        check_same_origin(request)
        body = convert({"result": text(data, "result")}, Completion)
        await incoming.complete(viewer.tenant_id, viewer.principal, document_id, body)
        return _done(document_id, "completed")


# OCR runs as a job after a scan is received; past this, a missing result is reported, not
# awaited (the job retried and gave up, or the worker is down).
OCR_PATIENCE = dt.timedelta(hours=1)


def _ocr_state(card: Any) -> str:
    """ "" (nothing to recognise), "pending", "done" or "failed", for the card's status line."""
    if card.source != "paper" or not any(
        f.role == "main" and f.file_name.lower().endswith(".pdf") for f in card.files
    ):
        return ""
    if any(h.action == "incoming.ocr_done" for h in card.history):
        return "done"
    waited = dt.datetime.now(dt.UTC) - card.arrived_at
    return "pending" if waited < OCR_PATIENCE else "failed"
