"""Outgoing documents in the browser: the list, a new draft with its file, the card with
versions, review steps, signatures and delivery status, and each step as a form over
`OutgoingService`."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, QueryParameter
from litestar.response import File, Redirect, Template

from services.common.auth.principal import Role
from services.common.problems import InvalidInput
from services.docs.catalog.types import DOCUMENT_TYPES
from services.docs.files.listed import outgoing_file
from services.docs.files.storage_client import StorageClient
from services.docs.incoming.service import Directory, IncomingService
from services.docs.outgoing.schemas import (
    DraftRequest,
    IssueRequest,
    PinSignRequest,
    SubmitRequest,
)
from services.docs.outgoing.service import OutgoingService
from services.docs.web.auth import Viewer, check_same_origin
from services.docs.web.forms import convert, store_upload, stored_file, text
from services.docs.web.frame import page
from services.docs.web.worklist import Worklist

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
Multipart = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
STATES = ("draft", "in_review", "approved", "issued", "cancelled")
SIGNER_ROLES = {Role.LEADER.value, Role.DEPUTY_LEADER.value}


def _done(outgoing_id: uuid.UUID, notice: str) -> Redirect:
    return Redirect(f"/outgoing/{outgoing_id}?ok={notice}", status_code=303)


class OutgoingPages(Controller):
    path = "/outgoing"

    @get("", name="web.outgoing")
    async def list_page(
        self,
        request: Request[Any, Any, Any],
        viewer: NamedDependency[Viewer],
        worklist: NamedDependency[Worklist],
        document_state: Annotated[str | None, QueryParameter(name="state", max_length=20)] = None,
        before: Annotated[dt.datetime | None, QueryParameter()] = None,
    ) -> Template:
        state = document_state if document_state in STATES else None
        items = await worklist.outgoing(
            viewer.tenant_id, viewer.principal, state=state, before=before
        )
        return await page(
            request, viewer, "outgoing_list.html.j2", items=items, state=state, states=STATES
        )

    @get("/new", name="web.outgoing.new")
    async def new_draft(
        self,
        request: Request[Any, Any, Any],
        viewer: NamedDependency[Viewer],
        directory: NamedDependency[Directory],
        incoming: NamedDependency[IncomingService],
        answers: Annotated[uuid.UUID | None, QueryParameter()] = None,
    ) -> Template:
        members = await directory.members(viewer.tenant_id)
        signers = [m for m in members if SIGNER_ROLES.intersection(m.roles)]
        # A reply starts from the incoming document it answers (visible to the person, or 404).
        answered = (
            await incoming.card(viewer.tenant_id, viewer.principal, answers) if answers else None
        )
        return await page(
            request,
            viewer,
            "outgoing_new.html.j2",
            types=DOCUMENT_TYPES,
            signers=signers,
            answered=answered,
        )

    @post("/new", name="web.outgoing.create", status_code=303)
    async def create(
        self,
        request: Request[Any, Any, Any],
        viewer: NamedDependency[Viewer],
        outgoing: NamedDependency[OutgoingService],
        storage: NamedDependency[StorageClient],
        data: Multipart,
    ) -> Redirect:
        check_same_origin(request)
        recipients = [
            {"code": code.strip()} for code in text(data, "recipients").splitlines() if code.strip()
        ]
        fields: dict[str, Any] = {
            name: text(data, name)
            for name in (
                "doc_type",
                "subject",
                "signer",
                "urgency",
                "confidentiality",
                "reply_due_on",
                "unit_abbr",
                "answers_id",
            )
        }
        fields["internal"] = text(data, "internal") == "on"
        fields["recipients"] = recipients
        # The file is stored only once the rest of the form is known to be acceptable.
        placeholder = {"object_id": str(uuid.UUID(int=0)), "file_name": "x.pdf", "size": 1}
        convert({**fields, "file": {**placeholder, "sha256": "0" * 64}}, DraftRequest)
        ref = await store_upload(storage, viewer.tenant_id, data.get("file"), required=True)
        assert ref is not None
        body = convert({**fields, "file": _ref_fields(ref)}, DraftRequest)
        card = await outgoing.create_draft(viewer.tenant_id, viewer.principal, body)
        return _done(card.id, "drafted")

    @get("/{outgoing_id:uuid}", name="web.outgoing.card")
    async def card(
        self,
        request: Request[Any, Any, Any],
        viewer: NamedDependency[Viewer],
        outgoing: NamedDependency[OutgoingService],
        directory: NamedDependency[Directory],
        outgoing_id: FromPath[uuid.UUID],
    ) -> Template:
        card = await outgoing.card(viewer.tenant_id, outgoing_id)
        me = viewer.principal.username
        current = next(
            (s for s in card.steps if s.state == "pending" and s.kind != "opinion"), None
        )
        version = card.current_file.version if card.current_file else None
        signed = any(s.kind == "leader" and s.version == version for s in card.signatures)
        can = {
            "submit": card.state == "draft" and card.drafter == me,
            "decide": card.state == "in_review"
            and current is not None
            and current.assignee == me
            and current.kind != "approval",
            "sign": card.signer == me and card.state in ("in_review", "approved") and not signed,
            "issue": card.state == "approved" and viewer.principal.has_role(Role.CLERK),
        }
        members = await directory.members(viewer.tenant_id) if can["submit"] else []
        # A signature needs a recent login: say so before the PIN is typed, not after.
        signing = outgoing.signing
        fresh_login = signing is None or signing.login_is_fresh(viewer.principal)
        return await page(
            request,
            viewer,
            "outgoing_card.html.j2",
            card=card,
            can=can,
            current=current,
            members=members,
            fresh_login=fresh_login,
        )

    @get("/{outgoing_id:uuid}/files/{object_id:uuid}", name="web.outgoing.file")
    async def file(
        self,
        viewer: NamedDependency[Viewer],
        outgoing: NamedDependency[OutgoingService],
        storage: NamedDependency[StorageClient],
        outgoing_id: FromPath[uuid.UUID],
        object_id: FromPath[uuid.UUID],
    ) -> File:
        card = await outgoing.card(viewer.tenant_id, outgoing_id)
        found = outgoing_file(card, object_id)
        return await stored_file(
            storage, viewer.tenant_id, object_id, found.sha256, found.file_name
        )

    @post("/{outgoing_id:uuid}/submit", name="web.outgoing.submit", status_code=303)
    async def submit(
        self,
        request: Request[Any, Any, Any],
        viewer: NamedDependency[Viewer],
        outgoing: NamedDependency[OutgoingService],
        outgoing_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Redirect:
        check_same_origin(request)
        body = convert(
            {
                "content_reviewer": text(data, "content_reviewer"),
                "form_reviewer": text(data, "form_reviewer"),
            },
            SubmitRequest,
        )
        await outgoing.submit(viewer.tenant_id, viewer.principal, outgoing_id, body)
        return _done(outgoing_id, "submitted")

    @post("/{outgoing_id:uuid}/steps/{step_id:uuid}", name="web.outgoing.decide", status_code=303)
    async def decide(
        self,
        request: Request[Any, Any, Any],
        viewer: NamedDependency[Viewer],
        outgoing: NamedDependency[OutgoingService],
        outgoing_id: FromPath[uuid.UUID],
        step_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Redirect:
        check_same_origin(request)
        comment = text(data, "comment")
        if text(data, "decision") == "return":
            if len(comment) < 3:
                raise InvalidInput(
                    "Hãy ghi lý do trả lại (ít nhất 3 ký tự).", "Give the reason for returning."
                )
            await outgoing.return_step(
                viewer.tenant_id, viewer.principal, outgoing_id, step_id, comment
            )
            return _done(outgoing_id, "returned")
        await outgoing.approve_step(
            viewer.tenant_id, viewer.principal, outgoing_id, step_id, comment
        )
        return _done(outgoing_id, "approved")

    @post("/{outgoing_id:uuid}/sign", name="web.outgoing.sign", status_code=303)
    async def sign(
        self,
        request: Request[Any, Any, Any],
        viewer: NamedDependency[Viewer],
        outgoing: NamedDependency[OutgoingService],
        outgoing_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Redirect:
        """The signer signs the file they were shown (its hash came with the form): a version
        added meanwhile is refused rather than signed unseen."""
        check_same_origin(request)
        body = convert(
            {"pin": text(data, "pin"), "document_sha256": text(data, "document_sha256")},
            PinSignRequest,
        )
        await outgoing.sign(viewer.tenant_id, viewer.principal, outgoing_id, body)
        return _done(outgoing_id, "signed")

    @post("/{outgoing_id:uuid}/issue", name="web.outgoing.issue", status_code=303)
    async def issue(
        self,
        request: Request[Any, Any, Any],
        viewer: NamedDependency[Viewer],
        outgoing: NamedDependency[OutgoingService],
        outgoing_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Redirect:
        check_same_origin(request)
        body = convert({"pin": text(data, "pin")}, IssueRequest)
        await outgoing.issue(viewer.tenant_id, viewer.principal, outgoing_id, body)
        return _done(outgoing_id, "issued")


def _ref_fields(ref: Any) -> dict[str, Any]:
    return {
        "object_id": str(ref.object_id),
        "file_name": ref.file_name,
        "sha256": ref.sha256,
        "size": ref.size,
    }
