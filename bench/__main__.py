"""`python -m bench [name ...]`: run the benchmarks one after another and summarise them.

Each runs in its own interpreter (as `python -m bench.<name>`), so one bench's global state (the
OpenTelemetry providers, instrumented libraries, the event loop) cannot colour another's figures.
A missed target is reported, not failed: the exit status is 0 unless a benchmark could not run."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

from bench.common import RESULT_PREFIX

BENCHES = (
    "auth_overhead",
    "tenant_session",
    "telemetry_overhead",
    "storage_throughput",
    "login",
    "edxml",
    "delivery",
    "docs_register",
    "docs_search",
    "web_pages",
    "numbering",
    "signing",
    "identity_sync",
    "principal",
    "stats",
)
# Each bench keeps itself under about a minute; this only stops one that hangs.
TIMEOUT_SECONDS = 180
# Except a push of 20,000 accounts into Keycloak, twice (the push and the bare loop), and the
# first runs of the benches that load a million documents.
TIMEOUTS = {"identity_sync": 1200, "docs_search": 600, "stats": 1200}
REPO = Path(__file__).resolve().parent.parent


def run_one(name: str) -> tuple[list[str], str | None]:
    """The bench's result lines (its output is passed through as it comes) and, if it could
    not run, why."""
    print(f"== bench/{name}", flush=True)
    started = time.monotonic()
    results: list[str] = []
    timed_out = threading.Event()
    with subprocess.Popen(
        [sys.executable, "-m", f"bench.{name}"], cwd=REPO, stdout=subprocess.PIPE, text=True
    ) as process:

        def stop_hung_bench() -> None:
            timed_out.set()
            process.kill()  # the one child this runner started, by its own handle

        timeout = TIMEOUTS.get(name, TIMEOUT_SECONDS)
        watchdog = threading.Timer(timeout, stop_hung_bench)
        watchdog.start()
        try:
            assert process.stdout is not None
            for line in process.stdout:
                print(line, end="", flush=True)
                if line.startswith(RESULT_PREFIX):
                    results.append(line.rstrip("\n"))
            code = process.wait()
        finally:
            watchdog.cancel()
    print(f"   ({time.monotonic() - started:.0f} s)", flush=True)
    if timed_out.is_set():
        return results, f"stopped after {timeout} s"
    if code != 0:
        return results, f"exit status {code}"
    if not results:
        return results, "printed no result line"
    return results, None


def main(argv: list[str]) -> int:
    names = argv or list(BENCHES)
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        print(f"unknown bench: {', '.join(unknown)}; known: {', '.join(BENCHES)}", file=sys.stderr)
        return 2
    summary: list[str] = []
    failures: list[str] = []
    for name in names:
        results, failure = run_one(name)
        summary.extend(results)
        if failure is not None:
            failures.append(f"bench/{name}: could not run ({failure})")
    print("\n== summary")
    for line in [*summary, *failures]:
        print(line)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
