"""The docs service: `create_app` lists everything it serves."""

from __future__ import annotations

import uuid

from litestar import Litestar
from litestar.di import Provide
from litestar.middleware.base import DefineMiddleware
from saq import Queue

from services.common.app_factory import Resources, build_app
from services.common.auth.oidc import OidcClient
from services.common.auth.service_tokens import ServiceTokens
from services.common.auth.web_sessions import SessionStore
from services.common.whoami import whoami
from services.common.worker import enqueue, make_queue
from services.docs.dossiers.archive import ArchiveService
from services.docs.dossiers.controller import DossierController
from services.docs.dossiers.package import PackageBuilder
from services.docs.dossiers.service import DossierService
from services.docs.files.storage_client import StorageClient
from services.docs.incoming.controller import AssignmentController, IncomingController
from services.docs.incoming.directory import IdentityDirectory
from services.docs.incoming.service import Directory, IncomingService
from services.docs.outgoing.agencies import Agencies, IdentityAgencies
from services.docs.outgoing.controller import OutgoingController
from services.docs.outgoing.service import OutgoingService
from services.docs.outgoing.signing import OutgoingSigning
from services.docs.saved_searches.controller import (
    IncomingExportController,
    SavedSearchController,
)
from services.docs.saved_searches.service import SavedSearchService
from services.docs.settings import DocsSettings, load
from services.docs.signatures.controller import (
    CredentialController,
    SignatureReportController,
    SigningCredentials,
)
from services.docs.signatures.delegations import (
    ActingForMiddleware,
    Delegations,
    IdentityDelegations,
)
from services.docs.signatures.desk import SignatureDesk
from services.docs.signatures.reports import (
    INCOMING_JOB,
    OUTGOING_JOB,
    SignatureReports,
    enqueue_check,
)
from services.docs.signing.trust import TrustStore
from services.docs.statistics.controller import StatisticsController
from services.docs.statistics.service import StatisticsService
from services.docs.web.admin_pages import AdminPages
from services.docs.web.admin_platform_pages import AdminPlatformPages
from services.docs.web.dossier_pages import DossierPages
from services.docs.web.frame import install as install_web
from services.docs.web.frame import template_config, web_router
from services.docs.web.incoming_pages import IncomingPages
from services.docs.web.outgoing_pages import OutgoingPages
from services.docs.web.oversight_pages import OversightPages
from services.docs.web.pages import HomePages
from services.docs.web.signature_pages import SignaturePages
from services.docs.web.statistics_pages import StatisticsPages
from services.docs.web.upstream import Upstream
from services.docs.web.worklist import Worklist


class SaqJobs:
    def __init__(self, queue: Queue) -> None:
        self._queue = queue

    async def ocr(self, tenant_id: uuid.UUID, document_id: uuid.UUID) -> None:
        await enqueue(self._queue, "ocr", tenant=str(tenant_id), document_id=str(document_id))

    async def check_signatures(self, tenant_id: uuid.UUID, document_id: uuid.UUID) -> None:
        await enqueue_check(self._queue, INCOMING_JOB, tenant_id, document_id)

    async def check_outgoing_signatures(self, tenant_id: uuid.UUID, outgoing_id: uuid.UUID) -> None:
        await enqueue_check(self._queue, OUTGOING_JOB, tenant_id, outgoing_id)


def create_app(
    settings: DocsSettings | None = None,
    directory: Directory | None = None,
    agencies: Agencies | None = None,
    storage: StorageClient | None = None,
    trust: TrustStore | None = None,
    delegations: Delegations | None = None,
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
    jobs = SaqJobs(make_queue(settings))
    incoming = IncomingService(resources.db, directory, jobs, files=files)

    desk = SignatureDesk.from_settings(settings, resources.db, files)
    signature_reports = SignatureReports(resources.db, files, desk.signers)
    outgoing = OutgoingService(
        resources.db,
        directory,
        agencies,
        files=files,
        signing=OutgoingSigning(desk, agencies, jobs=jobs),
    )
    signing_credentials = SigningCredentials(desk.credentials, directory, agencies)
    dossiers = DossierService(resources.db, directory)
    archive = ArchiveService(resources.db)
    # Archive packages validate signatures against the agency's roots (settings and its own
    # trust anchors), plus any the caller adds.
    packages = PackageBuilder(resources.db, files, agencies, desk.signers, extra_trust=trust)
    saved_searches = SavedSearchService(resources.db, incoming)
    # Statistics need the registry's tree, which a stand-in `agencies` may not offer.
    registry = (
        agencies
        if isinstance(agencies, IdentityAgencies)
        else IdentityAgencies(settings.identity_url, resources.http, tokens)
    )
    statistics = StatisticsService(resources.db, registry)

    async def provide_incoming() -> IncomingService:
        return incoming

    worklist = Worklist(resources.db)
    # The administration pages call identity and interchange as the person (web/upstream.py).
    upstream = Upstream(
        resources.http,
        identity_url=settings.identity_url,
        interchange_url=settings.interchange_url,
    )
    sessions = SessionStore(
        resources.redis,
        OidcClient(
            settings.oidc,
            settings.web.client_id,
            settings.web.client_secret,
            f"{settings.web_origin}/auth/callback",
            resources.http,
        ),
        resources.verifier,
        refresh_margin_seconds=settings.web.refresh_margin_seconds,
    )

    async def provide_outgoing() -> OutgoingService:
        return outgoing

    app = build_app(
        settings,
        [
            whoami,
            IncomingController,
            AssignmentController,
            OutgoingController,
            CredentialController,
            SignatureReportController,
            DossierController,
            SavedSearchController,
            IncomingExportController,
            StatisticsController,
            web_router(
                [
                    HomePages,
                    IncomingPages,
                    OutgoingPages,
                    AdminPages,
                    AdminPlatformPages,
                    DossierPages,
                    StatisticsPages,
                    OversightPages,
                    SignaturePages,
                ]
            ),
        ],
        resources=resources,
        dependencies={
            "incoming": Provide(provide_incoming),
            "outgoing": Provide(provide_outgoing),
            "signing_credentials": Provide(lambda: signing_credentials, sync_to_thread=False),
            "dossiers": Provide(lambda: dossiers, sync_to_thread=False),
            "archive": Provide(lambda: archive, sync_to_thread=False),
            "packages": Provide(lambda: packages, sync_to_thread=False),
            "saved_searches": Provide(lambda: saved_searches, sync_to_thread=False),
            "statistics": Provide(lambda: statistics, sync_to_thread=False),
            "worklist": Provide(lambda: worklist, sync_to_thread=False),
            "directory": Provide(lambda: directory, sync_to_thread=False),
            "storage": Provide(lambda: files, sync_to_thread=False),
            "signers": Provide(lambda: desk.signers, sync_to_thread=False),
            "signature_reports": Provide(lambda: signature_reports, sync_to_thread=False),
            "upstream": Provide(lambda: upstream, sync_to_thread=False),
        },
        template_config=template_config(),
        middleware=[
            DefineMiddleware(
                ActingForMiddleware,
                delegations=delegations
                or IdentityDelegations(settings.identity_url, resources.http),
            )
        ],
    )
    install_web(app.state, sessions, agencies)
    return app
