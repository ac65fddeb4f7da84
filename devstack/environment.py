"""The environment of the local stack: one function turns devstack/*.env into the variables that
the services, the tests and the benchmarks read (services.common.settings reads them)."""

from __future__ import annotations

import shlex
from pathlib import Path

HERE = Path(__file__).resolve().parent
SERVICES = ("docs", "identity", "storage", "interchange")
DATABASE = "qlvb"
TEST_DATABASE = "qlvb_test"
REALM = "qlvb"


def read_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip()
    return values


def stack_values() -> dict[str, str]:
    values: dict[str, str] = {}
    for name in ("versions.env", "ports.env", "dev.env"):
        values |= read_env_file(HERE / name)
    return values


def service_environment(database: str = DATABASE) -> dict[str, str]:
    """Variables for every service, pointing at the local stack and the given database."""
    v = stack_values()
    host = "127.0.0.1"
    pg = f"{host}:{v['QLVB_PG_PORT']}"
    pw = v["QLVB_PG_ROLE_PASSWORD"]
    keycloak = f"http://localhost:{v['QLVB_KEYCLOAK_PORT']}"
    env = {
        "QLVB_ENVIRONMENT": "development",
        "QLVB_REDIS_URL": f"redis://{host}:{v['QLVB_REDIS_PORT']}/0",
        "QLVB_S3_ENDPOINT": f"{host}:{v['QLVB_MINIO_PORT']}",
        "QLVB_S3_ACCESS_KEY": v["QLVB_MINIO_ROOT_USER"],
        "QLVB_S3_SECRET_KEY": v["QLVB_MINIO_ROOT_PASSWORD"],
        "QLVB_S3_SECURE": "false",
        "QLVB_OIDC_ISSUER": f"{keycloak}/realms/{REALM}",
        "QLVB_TELEMETRY_EXPORTER": "none",
    }
    for service in SERVICES:
        prefix = f"QLVB_{service.upper()}_"
        env[prefix + "DATABASE_URL"] = (
            f"postgresql+asyncpg://qlvb_{service}_app:{pw}@{pg}/{database}"
        )
        env[prefix + "MIGRATION_DATABASE_URL"] = (
            f"postgresql+asyncpg://qlvb_{service}_owner:{pw}@{pg}/{database}"
        )
        env[prefix + "RELAY_DATABASE_URL"] = (
            f"postgresql+asyncpg://qlvb_{service}_relay:{pw}@{pg}/{database}"
        )
        env[prefix + "CLIENT_ID"] = f"qlvb-{service}"
        env[prefix + "CLIENT_SECRET"] = v["QLVB_CLIENT_SECRET"]
        env[prefix + "PORT"] = v[f"QLVB_{service.upper()}_PORT"]
    # The web UI's confidential client (login in identity, pages in docs).
    env["QLVB_WEB_CLIENT_SECRET"] = v["QLVB_CLIENT_SECRET"]
    # Browsers reach every service through the gateway's one host name (`make run`).
    env["QLVB_WEB_PUBLIC_URL"] = f"http://localhost:{v['QLVB_GATEWAY_PORT']}"
    return env


def main() -> None:
    for key, value in sorted(service_environment().items()):
        print(f"export {key}={shlex.quote(value)}")


if __name__ == "__main__":
    main()
