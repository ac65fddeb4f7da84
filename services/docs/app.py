"""The docs service: `create_app` lists everything it serves."""

from __future__ import annotations

import uuid

from litestar import Litestar
from litestar.di import Provide
from saq import Queue

from services.common.app_factory import Resources, build_app
from services.common.auth.service_tokens import ServiceTokens
from services.common.whoami import whoami
from services.common.worker import enqueue, make_queue
from services.docs.files.storage_client import StorageClient
from services.docs.incoming.controller import AssignmentController, IncomingController
from services.docs.incoming.directory import IdentityDirectory
from services.docs.incoming.service import Directory, IncomingService
from services.docs.outgoing.agencies import Agencies, IdentityAgencies
from services.docs.outgoing.controller import OutgoingController
from services.docs.outgoing.service import OutgoingService
from services.docs.settings import DocsSettings, load


class SaqJobs:
    def __init__(self, queue: Queue) -> None:
        self._queue = queue

    async def ocr(self, tenant_id: uuid.UUID, document_id: uuid.UUID) -> None:
        await enqueue(self._queue, "ocr", tenant=str(tenant_id), document_id=str(document_id))


def create_app(
    settings: DocsSettings | None = None,
    directory: Directory | None = None,
    agencies: Agencies | None = None,
    storage: StorageClient | None = None,
) -> Litestar:
    settings = settings or load()
    resources = Resources(settings)
    tokens = ServiceTokens(
        settings.oidc, settings.client_id, settings.client_secret, resources.http
    )
    if directory is None:
        directory = IdentityDirectory(settings.identity_url, resources.http, tokens)
    if agencies is None:
        agencies = IdentityAgencies(settings.identity_url, resources.http, tokens)
    files = storage or StorageClient(settings.storage_url, resources.http, tokens)
    incoming = IncomingService(resources.db, directory, SaqJobs(make_queue(settings)), files=files)

    outgoing = OutgoingService(resources.db, directory, agencies, files=files)

    async def provide_incoming() -> IncomingService:
        return incoming

    async def provide_outgoing() -> OutgoingService:
        return outgoing

    return build_app(
        settings,
        [whoami, IncomingController, AssignmentController, OutgoingController],
        resources=resources,
        dependencies={
            "incoming": Provide(provide_incoming),
            "outgoing": Provide(provide_outgoing),
        },
    )
