"""The signature check of a document's PDF, in plain Vietnamese: who signed, whether the
signature holds, whether the file changed since, and what is still unknown."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from services.common.db import Database
from services.common.problems import InvalidInput
from services.docs.files.storage_client import StorageClient
from services.docs.incoming.service import IncomingService
from services.docs.outgoing.service import OutgoingService
from services.docs.signatures.trust import Signers
from services.docs.signing.validation import summary_vi, validate_pdf
from services.docs.web.auth import Viewer
from services.docs.web.forms import CardFile, incoming_file, outgoing_file
from services.docs.web.frame import page

# A signed PDF is read whole to be validated; scans of hundreds of pages stay well below this.
MAX_PDF_BYTES = 200 * 1024 * 1024


class SignaturePages(Controller):
    path = "/"

    @get("/incoming/{document_id:uuid}/files/{object_id:uuid}/signatures", name="web.incoming.sig")
    async def incoming_file(
        self,
        request: Request[Any, Any, Any],
        viewer: NamedDependency[Viewer],
        incoming: NamedDependency[IncomingService],
        storage: NamedDependency[StorageClient],
        db: NamedDependency[Database],
        signers: NamedDependency[Signers],
        document_id: FromPath[uuid.UUID],
        object_id: FromPath[uuid.UUID],
    ) -> Template:
        card = await incoming.card(viewer.tenant_id, viewer.principal, document_id)
        return await _check(request, viewer, storage, db, signers, incoming_file(card, object_id))

    @get("/outgoing/{outgoing_id:uuid}/files/{object_id:uuid}/signatures", name="web.outgoing.sig")
    async def outgoing_file(
        self,
        request: Request[Any, Any, Any],
        viewer: NamedDependency[Viewer],
        outgoing: NamedDependency[OutgoingService],
        storage: NamedDependency[StorageClient],
        db: NamedDependency[Database],
        signers: NamedDependency[Signers],
        outgoing_id: FromPath[uuid.UUID],
        object_id: FromPath[uuid.UUID],
    ) -> Template:
        card = await outgoing.card(viewer.tenant_id, outgoing_id)
        return await _check(request, viewer, storage, db, signers, outgoing_file(card, object_id))


async def _check(
    request: Request[Any, Any, Any],
    viewer: Viewer,
    storage: StorageClient,
    db: Database,
    signers: Signers,
    found: CardFile,
) -> Template:
    if not found.file_name.lower().endswith(".pdf"):
        raise InvalidInput(
            "Chỉ kiểm tra được chữ ký số trên tệp PDF.", "Only PDF signatures can be checked."
        )
    data = await storage.read(viewer.tenant_id, found.object_id, found.sha256, MAX_PDF_BYTES)
    async with db.transaction(viewer.tenant_id, read_only=True) as conn:
        trust = await signers.trust(conn, viewer.tenant_id)
    # Without trusted roots nothing can be confirmed, and the CAs are not worth asking.
    report = await validate_pdf(data, trust, allow_fetching=bool(trust.roots))
    return await page(
        request,
        viewer,
        "signature_check.html.j2",
        report=report,
        summary=summary_vi(report).splitlines(),
        file_name=found.file_name,
    )
