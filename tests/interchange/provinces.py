"""Two provinces around one simulated axis, for the delivery tests: province A in `qlvb_test`,
province B in `qlvb_test2`, each agency with a connector to the simulator under its province's
system id (one system id per province, shared by its agencies, as spec §3.4 allows)."""

from __future__ import annotations

import secrets
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import msgspec

from devstack.environment import TEST_DATABASE
from peers.axis_sim import Agency as SimAgency
from peers.axis_sim import Faults
from peers.axis_sim import System as SimSystem
from peers.axis_sim.state import VIETNAM, Item
from tests.interchange.conftest import ServedSimulator
from tests.interchange.foreign import ForeignSystem
from tests.interchange.platforms import (
    SECOND_DATABASE,
    Bus,
    Instance,
    Tenant,
    open_instance,
    settle,
)


@dataclass
class Provinces:
    a: Instance
    b: Instance
    bus: Bus
    axis_url: str
    admin: httpx.AsyncClient
    systems: dict[str, SimSystem] = field(default_factory=dict)
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    async def agencies(self, instance: Instance, *names: str, connect: bool = True) -> list[Tenant]:
        """New agencies of a province, known to the axis directory, attached to the province's
        system and (unless told otherwise) with a connector."""
        tenants = [await instance.add_agency(name) for name in names]
        system = self.systems.get(instance.name)
        if system is None:
            system = SimSystem(
                system_id=f"vxp.test.{instance.name.lower()}-{secrets.token_hex(4)}",
                secret=secrets.token_urlsafe(24),
                agencies=[],
            )
            self.systems[instance.name] = system
        system.agencies.extend(t.code for t in tenants)
        await self._admin("POST", "/admin/systems", msgspec.to_builtins(system))
        await self._admin(
            "POST",
            "/admin/agencies",
            [msgspec.to_builtins(SimAgency(code=t.code, name=t.name)) for t in tenants],
        )
        if connect:
            for tenant in tenants:
                await instance.connect(tenant, self.axis_url, system)
        return tenants

    async def foreign(self) -> ForeignSystem:
        """A system of a province outside the platform, with one agency, on the same axis."""
        system = ForeignSystem(self.axis_url)
        await self._admin("POST", "/admin/systems", msgspec.to_builtins(system.system))
        await self._admin(
            "POST", "/admin/agencies", [{"code": system.code, "name": "Sở KH&ĐT tỉnh C"}]
        )
        self.closers.append(system.close)
        return system

    async def axis_pending(self) -> int:
        """Items waiting in the simulated mailboxes of our agencies."""
        ours = {code for system in self.systems.values() for code in system.agencies}
        pending: dict[str, int] = (await self.stats())["pending"]
        return sum(count for code, count in pending.items() if code in ours)

    async def settle(self, **options: Any) -> int:
        return await settle(self.bus, axis_pending=self.axis_pending, **options)

    async def faults(self, **switches: Any) -> None:
        await self._admin("PUT", "/admin/faults", msgspec.to_builtins(Faults(**switches)))

    async def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._admin("GET", "/admin/stats")
        return result

    async def _admin(self, method: str, path: str, body: Any = None) -> Any:
        response = await self.admin.request(method, path, json=body)
        response.raise_for_status()
        return response.json() if response.content else None


@asynccontextmanager
async def two_provinces(axis_url: str, **settings: Any) -> AsyncIterator[Provinces]:
    a = await open_instance("A", TEST_DATABASE, **settings)
    b = await open_instance("B", SECOND_DATABASE, **settings)
    try:
        async with httpx.AsyncClient(base_url=axis_url, timeout=10) as admin:
            provinces = Provinces(a=a, b=b, bus=Bus([a, b]), axis_url=axis_url, admin=admin)
            try:
                yield provinces
            finally:
                for close in provinces.closers:
                    await close()
    finally:
        await a.close()
        await b.close()


@asynccontextmanager
async def one_province(axis_url: str, **settings: Any) -> AsyncIterator[Provinces]:
    """Province A alone (both `a` and `b` name it), for tests that need no second database."""
    a = await open_instance("A", TEST_DATABASE, **settings)
    try:
        async with httpx.AsyncClient(base_url=axis_url, timeout=10) as admin:
            provinces = Provinces(a=a, b=a, bus=Bus([a]), axis_url=axis_url, admin=admin)
            try:
                yield provinces
            finally:
                for close in provinces.closers:
                    await close()
    finally:
        await a.close()


def inject(
    served: ServedSimulator, *, sender: str, recipient: str, data: bytes, kind: str = "edoc"
) -> str:
    """Put bytes straight into a simulated mailbox, past the checks the axis does on sendEdoc
    (a malformed packet must still be refused by us when some axis lets it through)."""
    axis = served.simulator.axis
    item = Item(
        doc_id=secrets.token_hex(12),
        sender_doc_id=secrets.token_hex(12),
        sequence=next(axis._sequence),
        from_code=sender,
        to_code=recipient,
        message_type=kind,
        service_type="eDoc",
        created=datetime.now(VIETNAM).replace(microsecond=0),
        data=data,
    )
    axis.mailboxes.setdefault(recipient, OrderedDict())[item.doc_id] = item
    axis.items[item.doc_id] = item
    axis.stored_bytes += len(data)
    return item.doc_id
