"""Dossiers (hồ sơ công việc) in the browser: the year's catalogue, a new dossier, the dossier
card with its documents, and each step of its life (open, add, remove, close, reopen, the
archive package) as a form over `DossierService` and `PackageBuilder`.

Document cards offer "add to dossier" through a small picker loaded into them, so a document
joins a dossier from where the person is reading it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, QueryParameter
from litestar.response import Redirect, Stream, Template
from sqlalchemy import and_, select

from services.common.auth.principal import Principal, Role
from services.common.db import Database
from services.common.problems import InvalidInput
from services.docs.dossiers.disposition import attachment
from services.docs.dossiers.package import PackageBuilder, stream_zip
from services.docs.dossiers.rules import KEEPERS, UNREGISTERED_STATES
from services.docs.dossiers.schemas import (
    AddDocuments,
    CloseRequest,
    DocumentRef,
    DossierCard,
    DossierCreate,
    OpenRequest,
    ReopenRequest,
)
from services.docs.dossiers.service import DossierService
from services.docs.incoming.schemas import DocumentSummary
from services.docs.incoming.service import Directory, IncomingService, today
from services.docs.tables import dossier, dossier_item
from services.docs.web.auth import Viewer, check_same_origin
from services.docs.web.downloads import DownloadToken, delivered
from services.docs.web.forms import convert, day, text
from services.docs.web.frame import page
from services.docs.web.worklist import OutgoingItem, Worklist

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
Kind = Literal["incoming", "outgoing"]
STATES = ("planned", "open", "closed", "archived", "disposed")
# Retention periods of the agency's retention schedule (TT 10/2022/TT-BNV), in years.
RETENTIONS = (1, 2, 3, 5, 10, 15, 20, 30, 50, 70)
# Candidates shown on a dossier card: enough to find a document, few enough to read.
CANDIDATES = 10
PICKER_LIMIT = 200


@dataclass(frozen=True)
class ShelfEntry:
    id: uuid.UUID
    year: int
    code: str
    title: str
    state: str
    # The document's number in this dossier, for the dossiers that already hold it.
    ordinal: int | None = None


def may_change(principal: Principal, responsible: str) -> bool:
    """The rule of `dossiers/rules.py`: the keeper, the clerk, the leaders, the administrator."""
    return principal.username == responsible or principal.has_role(*KEEPERS)


class DossierShelf:
    """What a document card asks about dossiers: which open ones the person may add it to and
    which already hold it. Reads the catalogue only (it is the agency's, not a person's)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def open_for(self, tenant_id: uuid.UUID, principal: Principal) -> list[ShelfEntry]:
        statement = select(
            dossier.c.id, dossier.c.year, dossier.c.code, dossier.c.title, dossier.c.state
        ).where(dossier.c.tenant_id == tenant_id, dossier.c.state == "open")
        if not principal.has_role(*KEEPERS):
            statement = statement.where(dossier.c.responsible == principal.username)
        statement = statement.order_by(dossier.c.year.desc(), dossier.c.code).limit(PICKER_LIMIT)
        async with self.db.transaction(tenant_id, read_only=True) as conn:
            rows = (await conn.execute(statement)).all()
        return [ShelfEntry(r.id, r.year, r.code, r.title, r.state) for r in rows]

    async def holding(
        self, tenant_id: uuid.UUID, kind: Kind, document_id: uuid.UUID
    ) -> list[ShelfEntry]:
        column = dossier_item.c.document_id if kind == "incoming" else dossier_item.c.outgoing_id
        statement = (
            select(
                dossier.c.id,
                dossier.c.year,
                dossier.c.code,
                dossier.c.title,
                dossier.c.state,
                dossier_item.c.ordinal,
            )
            .select_from(
                dossier_item.join(
                    dossier,
                    and_(
                        dossier.c.tenant_id == dossier_item.c.tenant_id,
                        dossier.c.id == dossier_item.c.dossier_id,
                    ),
                )
            )
            .where(dossier_item.c.tenant_id == tenant_id, column == document_id)
            .order_by(dossier.c.year.desc(), dossier.c.code)
        )
        async with self.db.transaction(tenant_id, read_only=True) as conn:
            rows = (await conn.execute(statement)).all()
        return [ShelfEntry(r.id, r.year, r.code, r.title, r.state, r.ordinal) for r in rows]


def _card_url(dossier_id: uuid.UUID, notice: str) -> Redirect:
    return Redirect(f"/dossiers/{dossier_id}?ok={notice}", status_code=303)


def _kind(raw: str) -> Kind:
    if raw == "incoming":
        return "incoming"
    if raw in ("outgoing", "internal"):
        return "outgoing"
    raise InvalidInput("Loại văn bản không hợp lệ.", "Not a valid kind of document.")


def _uuid(raw: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError as exc:
        raise InvalidInput(
            "Hãy chọn hồ sơ." if field == "dossier_id" else "Văn bản không hợp lệ.",
            f"{field} is not valid.",
        ) from exc


def _retention(raw: str) -> int | str:
    if raw == "permanent":
        return raw
    try:
        return int(raw)
    except ValueError as exc:
        raise InvalidInput("Hãy chọn thời hạn bảo quản.", "Choose the retention period.") from exc


async def _add(
    dossiers: DossierService, viewer: Viewer, dossier_id: uuid.UUID, data: dict[str, Any]
) -> Redirect:
    ref = DocumentRef(
        kind=_kind(text(data, "kind")), id=_uuid(text(data, "document_id"), "document_id")
    )
    await dossiers.add_documents(
        viewer.tenant_id, viewer.principal, dossier_id, AddDocuments(documents=[ref])
    )
    return _card_url(dossier_id, "document_added")


class DossierPages(Controller):
    path = "/dossiers"

    @get("", name="web.dossiers")
    async def catalogue(
        self,
        request: Request[Any, Any, Any],
        viewer: NamedDependency[Viewer],
        dossiers: NamedDependency[DossierService],
        year: Annotated[int | None, QueryParameter(ge=1945, le=2100)] = None,
        dossier_state: Annotated[str | None, QueryParameter(name="state", max_length=10)] = None,
    ) -> Template:
        chosen_year = year or today().year
        state = dossier_state if dossier_state in STATES else None
        found = await dossiers.list(viewer.tenant_id, chosen_year, state)
        headings: dict[str, list[Any]] = {}
        for summary in found:
            headings.setdefault(summary.heading, []).append(summary)
        return await page(
            request,
            viewer,
            "dossier_list.html.j2",
            year=chosen_year,
            state=state or "",
            states=STATES,
            headings=headings,
            total=len(found),
        )

    @get("/new", name="web.dossiers.new")
    async def new_dossier(
        self,
        request: Request[Any, Any, Any],
        viewer: NamedDependency[Viewer],
        dossiers: NamedDependency[DossierService],
        directory: NamedDependency[Directory],
    ) -> Template:
        on = today()
        names_others = viewer.principal.has_role(*KEEPERS, Role.DEPARTMENT_HEAD)
        members = await directory.members(viewer.tenant_id) if names_others else []
        existing = await dossiers.list(viewer.tenant_id, on.year)
        return await page(
            request,
            viewer,
            "dossier_new.html.j2",
            year=on.year,
            retentions=RETENTIONS,
            members=members,
            headings=sorted({d.heading for d in existing if d.heading}),
        )

    @post("/new", name="web.dossiers.create", status_code=303)
    async def create(
        self,
        request: Request[Any, Any, Any],
        viewer: NamedDependency[Viewer],
        dossiers: NamedDependency[DossierService],
        data: Form,
    ) -> Redirect:
        check_same_origin(request)
        fields: dict[str, Any] = {
            name: text(data, name)
            for name in ("year", "code", "title", "responsible", "heading", "access", "description")
        }
        fields["retention"] = _retention(text(data, "retention"))
        body = convert(fields, DossierCreate)
        card = await dossiers.create(viewer.tenant_id, viewer.principal, body)
        if text(data, "open_now") == "on":
            await dossiers.open(viewer.tenant_id, viewer.principal, card.id, OpenRequest())
            return _card_url(card.id, "dossier_opened")
        return _card_url(card.id, "dossier_created")

    @get("/picker", name="web.dossiers.picker")
    async def picker(
        self,
        request: Request[Any, Any, Any],
        viewer: NamedDependency[Viewer],
        dossiers: NamedDependency[DossierService],
        kind: Annotated[str, QueryParameter(max_length=10)],
        document_id: Annotated[uuid.UUID, QueryParameter()],
    ) -> Template:
        """The "add to dossier" box of a document card: a fragment for htmx, or a page of its
        own for a browser without scripts."""
        document_kind = _kind(kind)
        shelf = DossierShelf(dossiers.db)
        holding = await shelf.holding(viewer.tenant_id, document_kind, document_id)
        held = {h.id for h in holding}
        choices = [
            d for d in await shelf.open_for(viewer.tenant_id, viewer.principal) if d.id not in held
        ]
        return await page(
            request,
            viewer,
            # A boosted link (a browser that followed the card's fallback link) wants a page.
            "dossier_picker.html.j2"
            if viewer.htmx and request.headers.get("hx-boosted") != "true"
            else "dossier_picker_page.html.j2",
            kind=document_kind,
            document_id=document_id,
            holding=holding,
            choices=choices,
        )

    @post("/add", name="web.dossiers.add_from_card", status_code=303)
    async def add_from_card(
        self,
        request: Request[Any, Any, Any],
        viewer: NamedDependency[Viewer],
        dossiers: NamedDependency[DossierService],
        data: Form,
    ) -> Redirect:
        check_same_origin(request)
        return await _add(dossiers, viewer, _uuid(text(data, "dossier_id"), "dossier_id"), data)

    @get("/{dossier_id:uuid}", name="web.dossiers.card")
    async def card(
        self,
        request: Request[Any, Any, Any],
        viewer: NamedDependency[Viewer],
        dossiers: NamedDependency[DossierService],
        incoming: NamedDependency[IncomingService],
        worklist: NamedDependency[Worklist],
        dossier_id: FromPath[uuid.UUID],
        q: Annotated[str | None, QueryParameter(max_length=200)] = None,
    ) -> Template:
        card = await dossiers.card(viewer.tenant_id, viewer.principal, dossier_id)
        keeper = may_change(viewer.principal, card.responsible)
        can = {
            "open": keeper and card.state == "planned",
            "change": keeper and card.state == "open",
            "close": keeper and card.state == "open" and bool(card.items),
            "reopen": keeper and card.state == "closed",
            "package": card.state in ("closed", "archived"),
        }
        found_in: list[DocumentSummary] = []
        found_out: list[OutgoingItem] = []
        if can["change"]:
            found_in, found_out = await _candidates(incoming, worklist, viewer, card, q or "")
        return await page(
            request,
            viewer,
            "dossier_card.html.j2",
            card=card,
            can=can,
            q=q or "",
            found_in=found_in,
            found_out=found_out,
            today=today(),
        )

    @post("/{dossier_id:uuid}/open", name="web.dossiers.open", status_code=303)
    async def open_dossier(
        self,
        request: Request[Any, Any, Any],
        viewer: NamedDependency[Viewer],
        dossiers: NamedDependency[DossierService],
        dossier_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Redirect:
        check_same_origin(request)
        body = OpenRequest(start_on=day(text(data, "start_on")))
        await dossiers.open(viewer.tenant_id, viewer.principal, dossier_id, body)
        return _card_url(dossier_id, "dossier_opened")

    @post("/{dossier_id:uuid}/documents", name="web.dossiers.add", status_code=303)
    async def add_document(
        self,
        request: Request[Any, Any, Any],
        viewer: NamedDependency[Viewer],
        dossiers: NamedDependency[DossierService],
        dossier_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Redirect:
        check_same_origin(request)
        return await _add(dossiers, viewer, dossier_id, data)

    @post(
        "/{dossier_id:uuid}/documents/{ordinal:int}/remove",
        name="web.dossiers.remove",
        status_code=303,
    )
    async def remove_document(
        self,
        request: Request[Any, Any, Any],
        viewer: NamedDependency[Viewer],
        dossiers: NamedDependency[DossierService],
        dossier_id: FromPath[uuid.UUID],
        ordinal: FromPath[int],
    ) -> Redirect:
        check_same_origin(request)
        await dossiers.remove_item(viewer.tenant_id, viewer.principal, dossier_id, ordinal)
        return _card_url(dossier_id, "document_removed")

    @post("/{dossier_id:uuid}/close", name="web.dossiers.close", status_code=303)
    async def close(
        self,
        request: Request[Any, Any, Any],
        viewer: NamedDependency[Viewer],
        dossiers: NamedDependency[DossierService],
        dossier_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Redirect:
        check_same_origin(request)
        body = convert({"end_on": text(data, "end_on"), "note": text(data, "note")}, CloseRequest)
        await dossiers.close(viewer.tenant_id, viewer.principal, dossier_id, body)
        return _card_url(dossier_id, "dossier_closed")

    @post("/{dossier_id:uuid}/reopen", name="web.dossiers.reopen", status_code=303)
    async def reopen(
        self,
        request: Request[Any, Any, Any],
        viewer: NamedDependency[Viewer],
        dossiers: NamedDependency[DossierService],
        dossier_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Redirect:
        check_same_origin(request)
        reason = text(data, "reason")
        if len(reason) < 3:
            raise InvalidInput(
                "Hãy ghi lý do mở lại hồ sơ (ít nhất 3 ký tự).", "Give the reason for reopening."
            )
        body = convert({"reason": reason}, ReopenRequest)
        await dossiers.reopen(viewer.tenant_id, viewer.principal, dossier_id, body)
        return _card_url(dossier_id, "dossier_reopened")

    @get("/{dossier_id:uuid}/package", name="web.dossiers.package")
    async def package(
        self,
        viewer: NamedDependency[Viewer],
        packages: NamedDependency[PackageBuilder],
        dossier_id: FromPath[uuid.UUID],
        download: DownloadToken = None,
    ) -> Stream:
        # Gathered, validated and joined before the answer starts: a failure is a page.
        package = await packages.prepare(viewer.tenant_id, viewer.principal, dossier_id)
        return delivered(
            Stream(
                stream_zip(package),
                media_type="application/zip",
                headers={
                    "Content-Disposition": attachment(package.file_name),
                    "Cache-Control": "private, no-store",
                },
            ),
            download,
        )


async def _candidates(
    incoming: IncomingService,
    worklist: Worklist,
    viewer: Viewer,
    card: DossierCard,
    q: str,
) -> tuple[list[DocumentSummary], list[OutgoingItem]]:
    """Documents that could join the dossier: incoming ones matching the search (or the latest
    registered), and the latest issued outgoing ones; those already in it are left out."""
    present = {item.document_id for item in card.items}
    listed = await incoming.list(
        viewer.tenant_id, viewer.principal, query=q or None, limit=CANDIDATES * 2
    )
    found_in = [
        d for d in listed.items if d.id not in present and d.state not in UNREGISTERED_STATES
    ][:CANDIDATES]
    found_out: list[OutgoingItem] = []
    if not q:
        issued = await worklist.outgoing(
            viewer.tenant_id, viewer.principal, state="issued", limit=CANDIDATES * 2
        )
        found_out = [o for o in issued if o.id not in present][:CANDIDATES]
    return found_in, found_out
