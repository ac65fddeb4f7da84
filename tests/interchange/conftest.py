"""Fixtures of the interchange tests: a signing identity, and the axis simulator served by a
real uvicorn server on a free port (connection faults need a real socket), fresh per test."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import msgspec
import pytest
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from peers.axis_sim import Agency, AxisSimulator, Faults, SimulatorConfig, System
from services.interchange.axis.client import AxisClient, AxisCredentials
from services.interchange.edxml import SigningIdentity
from tests.interchange import samples


def make_identity(common_name: str) -> SigningIdentity:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "UBND tỉnh Nghệ An & các Sở"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    return SigningIdentity(private_key=key, certificate=certificate)


@pytest.fixture(scope="session")
def identity() -> SigningIdentity:
    return make_identity("Văn thư UBND tỉnh Nghệ An")


@pytest.fixture(scope="session")
def other_identity() -> SigningIdentity:
    return make_identity("Kẻ mạo danh")


# ---------------------------------------------------------------------------------------------
# The simulated axis

PROVINCE_A = AxisCredentials(system_id="vxp.saas.tinh-a", secret="c2VjcmV0LW9mLXRpbmgtYQ==")
PROVINCE_B = AxisCredentials(system_id="vxp.saas.tinh-b", secret="c2VjcmV0LW9mLXRpbmgtYg==")
A_AGENCIES = [samples.NGHE_AN, samples.CAM_KHE]
B_AGENCIES = [samples.VPCP]


def simulator_config(**changes: Any) -> SimulatorConfig:
    names = {
        samples.NGHE_AN: "UBND tỉnh Nghệ An",
        samples.CAM_KHE: "UBND huyện Cẩm Khê",
        samples.VPCP: "Văn phòng Chính phủ",
        samples.TIEN_LUONG: "UBND xã Tiên Lương",
    }
    return SimulatorConfig(
        systems=[
            System(system_id=PROVINCE_A.system_id, secret=PROVINCE_A.secret, agencies=A_AGENCIES),
            System(system_id=PROVINCE_B.system_id, secret=PROVINCE_B.secret, agencies=B_AGENCIES),
        ],
        agencies=[Agency(code=code, name=name) for code, name in names.items()],
        seed=20250815,
        **changes,
    )


class ServedSimulator:
    """A simulator behind uvicorn in a thread of its own (its own event loop)."""

    def __init__(self, simulator: AxisSimulator) -> None:
        self.simulator = simulator
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        config = uvicorn.Config(
            simulator, log_level="critical", lifespan="off", timeout_graceful_shutdown=5
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    def start(self) -> None:
        self._thread.start()
        for _ in range(500):  # bounded wait for the listening socket
            if self._server.started:
                return
            time.sleep(0.01)
        raise AssertionError("the simulator did not start")

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()


@pytest.fixture
def served() -> Iterator[ServedSimulator]:
    server = ServedSimulator(AxisSimulator(simulator_config()))
    server.start()
    yield server
    server.stop()


@dataclass
class Axis:
    url: str
    admin: httpx.AsyncClient
    a: AxisClient  # the system of province A (Nghệ An, Cẩm Khê)
    b: AxisClient  # the system of province B (VPCP)

    def client(self, credentials: AxisCredentials, timeout: float = 5.0) -> AxisClient:
        return AxisClient(self.url, credentials, timeout=timeout)

    async def faults(self, **switches: Any) -> None:
        """Set the fault switches: the ones named, every other one off."""
        response = await self.admin.put(
            "/admin/faults", json=msgspec.to_builtins(Faults(**switches))
        )
        response.raise_for_status()

    async def stats(self) -> dict[str, Any]:
        response = await self.admin.get("/admin/stats")
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result


@pytest.fixture
async def axis(served: ServedSimulator) -> AsyncIterator[Axis]:
    async with (
        httpx.AsyncClient(base_url=served.url, timeout=5) as admin,
        AxisClient(served.url, PROVINCE_A, timeout=5) as a,
        AxisClient(served.url, PROVINCE_B, timeout=5) as b,
    ):
        yield Axis(served.url, admin, a, b)
