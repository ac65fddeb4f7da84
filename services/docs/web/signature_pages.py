"""The signature check of a document's PDF, in plain Vietnamese: who signed, whether the
signature holds, whether the file changed since, and what is still unknown.

The page shows the report stored with the file (signatures/reports.py) when it describes the
file's bytes; a file nobody checked yet is checked now and its report stored. "Check again"
validates anew and replaces the stored report: trust and revocation change with time."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from services.docs.files.listed import CardFile
from services.docs.incoming.service import IncomingService
from services.docs.outgoing.service import OutgoingService
from services.docs.signatures.reports import SYSTEM, NotCheckedYet, SignatureReports, Target
from services.docs.signatures.schemas import StoredReport
from services.docs.signatures.targets import incoming_target, outgoing_target
from services.docs.web.auth import Viewer, check_same_origin
from services.docs.web.frame import page

INCOMING = "/incoming/{document_id:uuid}/files/{object_id:uuid}/signatures"
OUTGOING = "/outgoing/{outgoing_id:uuid}/files/{object_id:uuid}/signatures"


class SignaturePages(Controller):
    path = "/"

    @get(INCOMING, name="web.incoming.sig")
    async def incoming_file(
        self,
        request: Request[Any, Any, Any],
        viewer: NamedDependency[Viewer],
        incoming: NamedDependency[IncomingService],
        signature_reports: NamedDependency[SignatureReports],
        document_id: FromPath[uuid.UUID],
        object_id: FromPath[uuid.UUID],
    ) -> Template:
        target, found = await incoming_target(
            incoming, viewer.tenant_id, viewer.principal, document_id, object_id
        )
        stored = await _stored_or_checked(viewer, signature_reports, target, found)
        return await _page(request, viewer, target, found, stored)

    @post(INCOMING, name="web.incoming.sig_again", status_code=303)
    async def incoming_again(
        self,
        request: Request[Any, Any, Any],
        viewer: NamedDependency[Viewer],
        incoming: NamedDependency[IncomingService],
        signature_reports: NamedDependency[SignatureReports],
        document_id: FromPath[uuid.UUID],
        object_id: FromPath[uuid.UUID],
    ) -> Redirect:
        check_same_origin(request)
        target, found = await incoming_target(
            incoming, viewer.tenant_id, viewer.principal, document_id, object_id
        )
        await signature_reports.check(viewer.tenant_id, viewer.principal, target, found, again=True)
        return _checked(request)

    @get(OUTGOING, name="web.outgoing.sig")
    async def outgoing_file(
        self,
        request: Request[Any, Any, Any],
        viewer: NamedDependency[Viewer],
        outgoing: NamedDependency[OutgoingService],
        signature_reports: NamedDependency[SignatureReports],
        outgoing_id: FromPath[uuid.UUID],
        object_id: FromPath[uuid.UUID],
    ) -> Template:
        target, found = await outgoing_target(outgoing, viewer.tenant_id, outgoing_id, object_id)
        stored = await _stored_or_checked(viewer, signature_reports, target, found)
        return await _page(request, viewer, target, found, stored)

    @post(OUTGOING, name="web.outgoing.sig_again", status_code=303)
    async def outgoing_again(
        self,
        request: Request[Any, Any, Any],
        viewer: NamedDependency[Viewer],
        outgoing: NamedDependency[OutgoingService],
        signature_reports: NamedDependency[SignatureReports],
        outgoing_id: FromPath[uuid.UUID],
        object_id: FromPath[uuid.UUID],
    ) -> Redirect:
        check_same_origin(request)
        target, found = await outgoing_target(outgoing, viewer.tenant_id, outgoing_id, object_id)
        await signature_reports.check(viewer.tenant_id, viewer.principal, target, found, again=True)
        return _checked(request)


async def _stored_or_checked(
    viewer: Viewer, reports: SignatureReports, target: Target, found: CardFile
) -> StoredReport:
    try:
        return await reports.report(viewer.tenant_id, found)
    except NotCheckedYet:
        # The worker has not come to it yet: check it now, and keep the report for everyone.
        return await reports.check(viewer.tenant_id, viewer.principal, target, found, again=False)


def _checked(request: Request[Any, Any, Any]) -> Redirect:
    return Redirect(f"{request.url.path}?ok=signatures_checked", status_code=303)


async def _page(
    request: Request[Any, Any, Any],
    viewer: Viewer,
    target: Target,
    found: CardFile,
    stored: StoredReport,
) -> Template:
    return await page(
        request,
        viewer,
        "signature_check.html.j2",
        stored=stored,
        report=stored.report,
        summary=stored.summary_vi.splitlines(),
        file_name=found.file_name,
        by_system=stored.checked_by == SYSTEM.username,
        card_path=f"/{target.kind}/{target.id}",
    )
