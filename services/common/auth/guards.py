"""Guards: small named functions over the principal, attached to route handlers."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from services.common.auth.principal import Principal, Role
from services.common.problems import Forbidden

# Coroutines: Litestar runs a synchronous guard in a worker thread, a hop that cost about half
# a millisecond per guard per request when measured (bench/docs_search).
Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Awaitable[None]]


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    user = connection.scope.get("user")
    if not isinstance(user, Principal):
        raise Forbidden("Không xác định được người dùng.", "No authenticated principal.")
    return user


def tenant_of(connection: ASGIConnection[Any, Any, Any, Any]) -> uuid.UUID:
    """The agency the caller acts in (chosen with X-Agency-Id when they have several): the
    tenant of every statement the request runs.

    Read from the request rather than provided as a dependency: Litestar resolves two or more
    dependencies of a handler in a task group of their own, which cost a tenth of the CPU of a
    short request such as an inbox page (bench/docs_search)."""
    tenant = principal_of(connection).active_agency_id
    if tenant is None:
        raise Forbidden(
            "Hãy chọn cơ quan đang làm việc (X-Agency-Id).",
            "Choose the agency you act in (X-Agency-Id).",
        )
    return tenant


async def requires_agency(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """The caller acts in one agency (chosen with X-Agency-Id when they have several)."""
    tenant_of(connection)


def requires_role(*roles: Role) -> Guard:
    names = ", ".join(sorted(r.value for r in roles))

    async def guard(
        connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
    ) -> None:
        await requires_agency(connection, handler)
        if not principal_of(connection).has_role(*roles):
            raise Forbidden(
                f"Chức năng này dành cho vai trò: {names}.",
                f"This action requires one of the roles: {names}.",
            )

    guard.__name__ = f"requires_role_{'_'.join(sorted(r.value for r in roles))}"
    return guard


async def requires_operator(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    if not principal_of(connection).is_operator:
        raise Forbidden("Chức năng dành cho người vận hành nền tảng.", "Platform operators only.")


def requires_service(*client_ids: str) -> Guard:
    allowed = frozenset(client_ids)

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal = principal_of(connection)
        if not principal.is_service or principal.client_id not in allowed:
            raise Forbidden("Chỉ dành cho dịch vụ nội bộ.", "Internal services only.")

    return guard
