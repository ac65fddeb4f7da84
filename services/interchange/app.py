"""The interchange service: `create_app` lists everything it serves."""

from __future__ import annotations

from litestar import Litestar
from litestar.di import Provide

from services.common.app_factory import Resources, build_app
from services.common.db import Database
from services.common.whoami import whoami
from services.common.worker import make_queue
from services.interchange.connectors.controller import ConnectorController
from services.interchange.context import Jobs
from services.interchange.dead_letters.controller import DeadLetterController
from services.interchange.deliveries.controller import DeliveryController, ReceivedController
from services.interchange.jobs import SaqJobs
from services.interchange.runtime import Interchange, axis_pool, build_context
from services.interchange.settings import InterchangeSettings, load


class InterchangeResources(Resources):
    """The kernel's resources, plus the relay-role reader (operators' lists across agencies)
    and the axis pool, closed with the rest."""

    def __init__(self, settings: InterchangeSettings) -> None:
        super().__init__(settings)
        self.platform_db = (
            Database.from_url(
                settings.relay_database_url,
                pool_size=2,
                application_name="qlvb-interchange-operators",
            )
            if settings.relay_database_url
            else None
        )
        self.axis_http = axis_pool()

    async def close(self) -> None:
        await self.axis_http.aclose()
        if self.platform_db is not None:
            await self.platform_db.dispose()
        await super().close()


def create_app(
    settings: InterchangeSettings | None = None,
    jobs: Jobs | None = None,
    interchange: Interchange | None = None,
) -> Litestar:
    """`interchange` replaces the machinery the app would build (tests wire their own)."""
    settings = settings or load()
    resources = InterchangeResources(settings)
    if interchange is None:
        context = build_context(
            settings,
            db=resources.db,
            http=resources.http,
            platform_db=resources.platform_db,
            axis_http=resources.axis_http,
            jobs=jobs or SaqJobs(make_queue(settings), settings),
        )
        interchange = Interchange(context)
    runtime = interchange

    async def provide_interchange() -> Interchange:
        return runtime

    return build_app(
        settings,
        [
            whoami,
            ConnectorController,
            DeadLetterController,
            DeliveryController,
            ReceivedController,
        ],
        resources=resources,
        dependencies={"interchange": Provide(provide_interchange)},
    )
