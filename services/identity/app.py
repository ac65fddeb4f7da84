"""The identity service: `create_app` lists everything it serves."""

from __future__ import annotations

from litestar import Litestar
from litestar.di import Provide

from services.common.app_factory import build_app
from services.common.whoami import whoami
from services.identity.agencies.controller import AgencyController, ReorganisationController
from services.identity.audit.controller import AuditController
from services.identity.delegations.controller import DelegationController
from services.identity.departments.controller import DepartmentController
from services.identity.directory.controller import DirectoryController
from services.identity.imports.controller import ImportController
from services.identity.keycloak_sync.client import KeycloakGateway
from services.identity.login.controller import LoginController
from services.identity.people.controller import MembershipController, PeopleController
from services.identity.settings import IdentitySettings, load


def create_app(
    settings: IdentitySettings | None = None, accounts: KeycloakGateway | None = None
) -> Litestar:
    settings = settings or load()
    # The realm's admin API, for what must happen while the admin waits (a temporary
    # password); everything else reaches Keycloak through the reconciliation push.
    gateway = accounts or KeycloakGateway.from_settings(settings)
    app = build_app(
        settings,
        [
            whoami,
            AgencyController,
            ReorganisationController,
            DepartmentController,
            DirectoryController,
            PeopleController,
            MembershipController,
            DelegationController,
            AuditController,
            LoginController,
            ImportController,
        ],
        dependencies={"accounts": Provide(lambda: gateway, sync_to_thread=False)},
    )
    app.state["accounts"] = gateway
    if accounts is None:
        app.on_shutdown.append(gateway.close)
    return app
