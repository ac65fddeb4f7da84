"""`qlvb`: the one command line of the platform (serve, migrate, seed-demo, relay, worker).

It lives beside the services, not in the shared kernel, because it names each service."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import signal
import sys
from pathlib import Path

SERVICES = ("identity", "storage", "docs", "interchange")


def _settings(service: str):  # type: ignore[no-untyped-def]
    return importlib.import_module(f"services.{service}.settings").load()


def serve(service: str) -> None:
    import uvicorn

    settings = _settings(service)
    uvicorn.run(
        f"services.{service}.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        proxy_headers=True,
    )


def migrate(service: str) -> None:
    from services.common.migrations import upgrade

    targets = SERVICES if service == "all" else (service,)
    for name in targets:
        settings = _settings(name)
        upgrade(name, settings.migration_database_url)
        print(f"migrated {name}")


def seed_demo(path: Path) -> None:
    from services.common.db import Database
    from services.identity.agencies.seed import seed_province

    data = json.loads(path.read_text(encoding="utf-8"))

    async def run() -> int:
        db = Database.from_url(_settings("identity").database_url, pool_size=1)
        try:
            return await seed_province(db, data)
        finally:
            await db.dispose()

    print(f"seeded {asyncio.run(run())} agencies from {path}")


def relay(service: str) -> None:
    from redis.asyncio import Redis

    from services.common.db import Database
    from services.common.outbox import OutboxRelay

    settings = _settings(service)
    tables = importlib.import_module(f"services.{service}.tables")

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        db = Database.from_url(settings.relay_database_url, pool_size=2)
        redis = Redis.from_url(settings.redis_url)
        try:
            await OutboxRelay(db, redis, tables.outbox).run(stop)
        finally:
            await redis.aclose()
            await db.dispose()

    asyncio.run(run())


def consume(service: str) -> None:
    from redis.asyncio import Redis

    from services.common.db import Database
    from services.common.outbox import EventConsumer

    settings = _settings(service)
    consumers = importlib.import_module(f"services.{service}.consumers").CONSUMERS
    tables = importlib.import_module(f"services.{service}.tables")

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        db = Database.from_url(settings.database_url, pool_size=4)
        redis = Redis.from_url(settings.redis_url)
        try:
            await asyncio.gather(
                *(
                    EventConsumer(
                        redis=redis,
                        db=db,
                        processed=tables.processed_event,
                        group=group,
                        topics=topics,
                        handler=handler,
                    ).run(stop)
                    for group, topics, handler in consumers
                )
            )
        finally:
            await redis.aclose()
            await db.dispose()

    asyncio.run(run())


def worker(service: str) -> None:
    from services.common.worker import make_worker, run_worker

    jobs = importlib.import_module(f"services.{service}.jobs")
    asyncio.run(run_worker(make_worker(_settings(service), jobs.FUNCTIONS, jobs.CRON_JOBS)))


def audit_verify(tenant: str) -> int:
    import uuid

    from services.common.db import Database
    from services.docs.audit.chain import verify

    tenant_id = uuid.UUID(tenant)

    async def run() -> int:
        db = Database.from_url(_settings("docs").database_url, pool_size=1)
        try:
            async with db.transaction(tenant_id, read_only=True) as conn:
                report = await verify(conn, tenant_id)
        finally:
            await db.dispose()
        if report.intact:
            print(f"audit chain of {tenant_id}: {report.entries} entries, intact")
            return 0
        print(
            f"audit chain of {tenant_id}: BROKEN at entry {report.first_broken_seq} "
            f"({report.reason}); {report.entries} entries read"
        )
        return 1

    return asyncio.run(run())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="qlvb", description="QLVB platform command line")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("serve", help="run one service's HTTP API")
    p.add_argument("service", choices=SERVICES)
    p = sub.add_parser("migrate", help="upgrade a service's schema to the newest migration")
    p.add_argument("service", choices=(*SERVICES, "all"))
    p = sub.add_parser("seed-demo", help="load a province's agencies from a JSON file")
    p.add_argument("file", type=Path)
    p = sub.add_parser("relay", help="relay a service's outbox to Redis Streams")
    p.add_argument("service", choices=SERVICES)
    p = sub.add_parser("consume", help="run a service's event consumers")
    p.add_argument("service", choices=SERVICES)
    p = sub.add_parser("worker", help="run a service's background jobs (saq)")
    p.add_argument("service", choices=SERVICES)
    p = sub.add_parser("audit-verify", help="verify an agency's audit chain (docs service)")
    p.add_argument("tenant", help="the agency's id")
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve(args.service)
    elif args.command == "migrate":
        migrate(args.service)
    elif args.command == "seed-demo":
        seed_demo(args.file)
    elif args.command == "relay":
        relay(args.service)
    elif args.command == "consume":
        consume(args.service)
    elif args.command == "worker":
        worker(args.service)
    elif args.command == "audit-verify":
        return audit_verify(args.tenant)
    return 0


if __name__ == "__main__":
    sys.exit(main())
