"""Events the identity service consumes, run by `qlvb consume identity`.

The account-state handler needs the Keycloak admin client; it is built from the service's
settings once per process, on the first event (the consumer command knows no settings of its
own to pass)."""

from __future__ import annotations

import functools

from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.outbox import Event, Handler
from services.identity.keycloak_sync.accounts import (
    ACCOUNT_STATE_GROUP,
    ACCOUNT_STATE_TOPICS,
    account_state_handler,
)
from services.identity.keycloak_sync.client import KeycloakGateway
from services.identity.settings import load


@functools.cache
def _account_state() -> Handler:
    return account_state_handler(KeycloakGateway.from_settings(load()))


async def on_account_state(conn: AsyncConnection, event: Event) -> None:
    await _account_state()(conn, event)


# (consumer group, topics, handler)
CONSUMERS = [(ACCOUNT_STATE_GROUP, ACCOUNT_STATE_TOPICS, on_account_state)]
