"""The docs service: `create_app` lists everything it serves."""

from __future__ import annotations

from litestar import Litestar
from litestar.di import Provide

from services.common.app_factory import Resources, build_app
from services.common.auth.service_tokens import ServiceTokens
from services.common.whoami import whoami
from services.docs.incoming.controller import AssignmentController, IncomingController
from services.docs.incoming.directory import IdentityDirectory
from services.docs.incoming.service import Directory, IncomingService
from services.docs.settings import DocsSettings, load


def create_app(
    settings: DocsSettings | None = None, directory: Directory | None = None
) -> Litestar:
    settings = settings or load()
    resources = Resources(settings)
    if directory is None:
        tokens = ServiceTokens(
            settings.oidc, settings.client_id, settings.client_secret, resources.http
        )
        directory = IdentityDirectory(settings.identity_url, resources.http, tokens)
    incoming = IncomingService(resources.db, directory)

    async def provide_incoming() -> IncomingService:
        return incoming

    return build_app(
        settings,
        [whoami, IncomingController, AssignmentController],
        resources=resources,
        dependencies={"incoming": Provide(provide_incoming)},
    )
