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
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from types import FrameType

    from services.identity.audit.service import Actor
    from services.identity.imports.apply import ApplyReport
    from services.identity.keycloak_sync.reconcile import SyncReport

SERVICES = ("identity", "storage", "docs", "interchange")


def _settings(service: str):  # type: ignore[no-untyped-def]
    return importlib.import_module(f"services.{service}.settings").load()


def _background(service: str):  # type: ignore[no-untyped-def]
    """Settings of a background process (relay, worker, consumer), with the same JSON logs and
    telemetry as the service's HTTP process, so its work joins the request's trace."""
    from services.common.telemetry import configure_logging, configure_telemetry

    settings = _settings(service)
    configure_logging(settings.log_level)
    configure_telemetry(service, settings.telemetry)
    return settings


def _exit_normally(signum: int, frame: FrameType | None) -> None:
    sys.exit(0)


def serve(service: str) -> None:
    import uvicorn

    settings = _settings(service)
    # uvicorn shuts down gracefully on SIGTERM and then raises it again. Its default action
    # would kill the process before the telemetry providers flush at exit, losing the last
    # spans and metrics of every pod Kubernetes stops; a normal exit lets them flush.
    signal.signal(signal.SIGTERM, _exit_normally)
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
    print(f"seeded {asyncio.run(_seed_signing(data))} demo signing credentials")


async def _seed_signing(data: dict[str, object]) -> int:
    """Demo certificates and keys so the demo people can sign (PIN in the JSON's `signing`)."""
    from services.common.db import Database
    from services.docs.signatures.demo import seed_demo_signing
    from services.docs.signatures.desk import credential_box

    settings = _settings("docs")
    box = credential_box(settings)
    if box is None or settings.environment == "production":
        return 0  # demo keys never go into a production database
    db = Database.from_url(settings.database_url, pool_size=1)
    try:
        return await seed_demo_signing(db, data, box)
    finally:
        await db.dispose()


def relay(service: str) -> None:
    from redis.asyncio import Redis

    from services.common import heartbeat
    from services.common.db import Database
    from services.common.outbox import OutboxRelay

    settings = _background(service)
    tables = importlib.import_module(f"services.{service}.tables")

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        db = Database.from_url(settings.relay_database_url, pool_size=2)
        redis = Redis.from_url(settings.redis_url)
        try:
            await asyncio.gather(
                OutboxRelay(db, redis, tables.outbox).run(stop), heartbeat.keep(stop)
            )
        finally:
            await redis.aclose()
            await db.dispose()

    asyncio.run(run())


def consume(service: str) -> None:
    from redis.asyncio import Redis

    from services.common import heartbeat
    from services.common.db import Database
    from services.common.outbox import EventConsumer
    from services.common.telemetry import instrument_engine

    settings = _background(service)
    consumers = importlib.import_module(f"services.{service}.consumers").CONSUMERS
    tables = importlib.import_module(f"services.{service}.tables")

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        db = Database.from_url(settings.database_url, pool_size=4)
        instrument_engine(db.engine)  # SQL spans only inside sampled traces
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
                ),
                heartbeat.keep(stop),
            )
        finally:
            await redis.aclose()
            await db.dispose()

    asyncio.run(run())


def worker(service: str) -> None:
    from services.common.worker import make_worker, run_worker

    jobs = importlib.import_module(f"services.{service}.jobs")
    asyncio.run(run_worker(make_worker(_background(service), jobs.FUNCTIONS, jobs.CRON_JOBS)))


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


def _cli_actor() -> Actor:
    import getpass

    from services.identity.audit.service import Actor

    # The audit trail names who ran the command on which machine account.
    return Actor(subject="qlvb-cli", username=f"cli:{getpass.getuser()}")


class _ProgressLine:
    """One line on stderr, redrawn in place: `Người: 12,000/20,000 (60%)`."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.shown = -1

    def __call__(self, done: int, total: int) -> None:
        percent = 100 * done // total if total else 100
        if percent == self.shown:
            return
        self.shown = percent
        end = "\n" if done >= total else ""
        print(f"\r{self.label}: {done:,}/{total:,} ({percent}%)", end=end, file=sys.stderr)
        sys.stderr.flush()


def import_file(kind: str, path: Path, dry_run: bool) -> int:
    """`qlvb import-agencies|import-people FILE [--dry-run]`: exit status 0 when the file was
    applied (or, in a dry run, would be), 1 when it has bad rows, 2 when it is rejected."""
    from services.common.db import Database
    from services.identity.imports.apply import apply_agencies, apply_people
    from services.identity.imports.parsing import (
        ImportFileRejected,
        parse_agencies,
        parse_people,
    )

    try:
        data = path.read_bytes()
    except OSError as exc:
        print(f"cannot read {path}: {exc}", file=sys.stderr)
        return 2
    progress = _ProgressLine("Cơ quan" if kind == "agencies" else "Người")

    async def run() -> ApplyReport:
        db = Database.from_url(_settings("identity").database_url, pool_size=1)
        try:
            if kind == "agencies":
                agencies = parse_agencies(data, path.name)
                return await apply_agencies(
                    db, agencies, _cli_actor(), dry_run=dry_run, progress=progress
                )
            people = parse_people(data, path.name)
            return await apply_people(db, people, _cli_actor(), dry_run=dry_run, progress=progress)
        finally:
            await db.dispose()

    try:
        report = asyncio.run(run())
    except ImportFileRejected as rejected:
        print(f"{path}: {rejected.detail_vi}\n{path}: {rejected.detail_en}", file=sys.stderr)
        return 2
    for error in report.errors:
        column = f" [{error.column_label or error.column}]" if error.column else ""
        print(f"{path}:{error.line}{column}: {error.reason_vi} | {error.reason_en}")
    if report.error_count > len(report.errors):
        print(f"... {report.error_count - len(report.errors)} more errors")
    verb = "would change" if dry_run else ("changed" if report.applied else "changed nothing")
    print(
        f"{path}: {report.total_lines} rows, {report.error_count} errors; {verb}: "
        f"created {report.created or '{}'}, updated {report.updated or '{}'}, "
        f"{report.unchanged} rows unchanged"
    )
    return 1 if report.error_count else 0


def sync_keycloak(dry_run: bool, deep: bool, username_prefix: str) -> int:
    """`qlvb sync-keycloak [--dry-run] [--deep]`: one reconciliation now, its drift and
    counts; it waits for a run already going on."""
    from services.common.db import Database
    from services.identity.keycloak_sync.client import KeycloakGateway
    from services.identity.keycloak_sync.desired import Scope
    from services.identity.keycloak_sync.reconcile import reconcile

    settings = _settings("identity")

    async def run() -> SyncReport:
        db = Database.from_url(settings.database_url, pool_size=2)
        gateway = KeycloakGateway.from_settings(settings)
        try:
            scope = Scope(username_prefix=username_prefix)
            return await reconcile(
                db, gateway, scope=scope, deep=deep, dry_run=dry_run, wait_seconds=3600
            )
        finally:
            await gateway.close()
            await db.dispose()

    report = asyncio.run(run())
    for drift in report.drift:
        print(f"drift {drift.kind} {drift.key}: {', '.join(drift.fields)}")
    if report.drift_count > len(report.drift):
        print(f"... {report.drift_count - len(report.drift)} more differences")
    for error in report.errors:
        print(f"error {error.key} {error.operation}: HTTP {error.status} {error.message}")
    counts = {k: v for k, v in msgspec_builtins(report.counts).items() if v}
    mode = ("deep" if deep else "quick") + (", dry run, nothing sent" if dry_run else "")
    print(
        f"keycloak sync ({mode}): {counts}; admin requests {report.admin_calls}; "
        f"{report.seconds:.1f} s"
    )
    return 1 if report.errors else 0


def msgspec_builtins(value: object) -> dict[str, int]:
    import msgspec

    result: dict[str, int] = msgspec.to_builtins(value)
    return result


def dead_letters(action: str, agency: str | None, state: str, limit: int, letter: str) -> int:
    """`qlvb dead-letters list|replay`: what the interchange service could not deliver or
    take, every agency's (read as the relay role); a replay runs as the agency's own service
    role and is picked up by the worker's next tick."""
    import uuid

    import httpx

    from services.common.db import Database
    from services.interchange.dead_letters import service
    from services.interchange.runtime import Interchange, build_context

    settings = _settings("interchange")
    tenant = uuid.UUID(agency) if agency else None

    async def run() -> int:
        platform = Database.from_url(settings.relay_database_url, pool_size=1)
        try:
            if action == "list":
                wanted: service.State | None = (
                    "open" if state == "open" else "replayed" if state == "replayed" else None
                )
                found = await service.list_all(
                    platform, tenant_id=tenant, state=wanted, limit=limit
                )
                for row in found:
                    print(
                        f"{row.created_at:%Y-%m-%d %H:%M:%S} {row.tenant_id} {row.id} "
                        f"{row.direction} {row.state} {row.reason} "
                        f"{row.recipient_code or row.sender_code or '-'} {row.detail[:120]}"
                    )
                print(f"{len(found)} dead letters")
                return 0
            letter_id = uuid.UUID(letter)
            owner = tenant or await service.owner(platform, letter_id)
            if owner is None:
                print(f"no dead letter {letter_id}", file=sys.stderr)
                return 1
            db = Database.from_url(settings.database_url, pool_size=2)
            http = httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=5.0))
            context = build_context(settings, db=db, http=http, platform_db=platform)
            try:
                replayed = await Interchange(context).replay(owner, letter_id)
            finally:
                await context.axis_http.aclose()
                await http.aclose()
                await db.dispose()
            outcome = "replayed" if replayed.state == "replayed" else "still refused"
            print(f"{replayed.id} {outcome}: {replayed.replay_error or replayed.reason}")
            return 0 if replayed.state == "replayed" else 1
        finally:
            await platform.dispose()

    return asyncio.run(run())


def rotate_connector_keys() -> int:
    """`qlvb connector-keys rotate`: re-encrypt every connector secret with the newest key."""
    import httpx

    from services.common.db import Database
    from services.interchange.connectors.service import rotate_secrets
    from services.interchange.runtime import build_context

    settings = _settings("interchange")

    async def run() -> int:
        db = Database.from_url(settings.database_url, pool_size=1)
        platform = Database.from_url(settings.relay_database_url, pool_size=1)
        http = httpx.AsyncClient()
        context = build_context(settings, db=db, http=http, platform_db=platform)
        try:
            return await rotate_secrets(context)
        finally:
            await context.axis_http.aclose()
            await http.aclose()
            await platform.dispose()
            await db.dispose()

    print(f"re-encrypted {asyncio.run(run())} connector secrets with the newest key")
    return 0


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
    for kind in ("agencies", "people"):
        p = sub.add_parser(f"import-{kind}", help=f"import {kind} from a CSV or XLSX file")
        p.add_argument("file", type=Path)
        p.add_argument("--dry-run", action="store_true", help="report bad rows, write nothing")
    p = sub.add_parser("sync-keycloak", help="push people, groups and roles into Keycloak")
    p.add_argument("--dry-run", action="store_true", help="report drift, send nothing")
    p.add_argument("--deep", action="store_true", help="read every account, not only changes")
    p.add_argument("--username-prefix", default="", help="only accounts with this prefix")
    p = sub.add_parser("dead-letters", help="list or replay the interchange's dead letters")
    p.add_argument("action", choices=("list", "replay"))
    p.add_argument("letter", nargs="?", default="", help="the dead letter's id (replay)")
    p.add_argument("--agency", help="only this agency's (its id)")
    p.add_argument("--state", choices=("open", "replayed", "all"), default="open")
    p.add_argument("--limit", type=int, default=100)
    p = sub.add_parser("connector-keys", help="re-encrypt connector secrets with the newest key")
    p.add_argument("action", choices=("rotate",))
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
    elif args.command in ("import-agencies", "import-people"):
        return import_file(args.command.removeprefix("import-"), args.file, args.dry_run)
    elif args.command == "sync-keycloak":
        return sync_keycloak(args.dry_run, args.deep, args.username_prefix)
    elif args.command == "dead-letters":
        if args.action == "replay" and not args.letter:
            parser.error("dead-letters replay needs the dead letter's id")
        return dead_letters(args.action, args.agency, args.state, args.limit, args.letter)
    elif args.command == "connector-keys":
        return rotate_connector_keys()
    return 0


if __name__ == "__main__":
    sys.exit(main())
