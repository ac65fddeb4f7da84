"""The identity service: `create_app` lists everything it serves."""

from __future__ import annotations

from litestar import Litestar

from services.common.app_factory import build_app
from services.common.whoami import whoami
from services.identity.agencies.controller import AgencyController, ReorganisationController
from services.identity.audit.controller import AuditController
from services.identity.delegations.controller import DelegationController
from services.identity.departments.controller import DepartmentController
from services.identity.directory.controller import DirectoryController
from services.identity.imports.controller import ImportController
from services.identity.login.controller import LoginController
from services.identity.people.controller import MembershipController, PeopleController
from services.identity.settings import IdentitySettings, load


def create_app(settings: IdentitySettings | None = None) -> Litestar:
    return build_app(
        settings or load(),
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
    )
