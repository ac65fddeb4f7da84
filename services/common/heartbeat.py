"""Heartbeats of the background processes (relay, consumers, worker), which serve no HTTP.

Each loop of such a process beats on every turn (`beat`). A task of the process (`keep`) touches
the heartbeat file every few seconds, but only while every loop that has beaten has done so
recently; the pod's liveness probe restarts a process whose file has gone stale. A loop that
hangs (a call that never returns, a deadlock) stops beating, and so the file stops being
touched; an event loop blocked by synchronous code cannot run `keep` at all. A loop counts from
its first beat, so a process is stale until each of its loops has turned once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from pathlib import Path

logger = logging.getLogger("qlvb.heartbeat")

# Where the chart's probes look (the pod's /tmp is a writable emptyDir); tests running several
# processes on one machine give each a file of its own.
DEFAULT_HEARTBEAT_FILE = "/tmp/qlvb-heartbeat"  # noqa: S108
HEARTBEAT_FILE = Path(os.environ.get("QLVB_HEARTBEAT_FILE", DEFAULT_HEARTBEAT_FILE))
# A loop that has not beaten for this long is stuck: the longest turn of a loop (a consumer
# blocks one second on Redis; the worker's measure runs every fifteen) with a wide margin.
STALE_SECONDS = 60.0
TOUCH_SECONDS = 5.0

_last_beats: dict[str, float] = {}


def beat(loop: str) -> None:
    """`loop` has just turned (cheap: one dictionary write)."""
    _last_beats[loop] = time.monotonic()


def stuck_loops(now: float | None = None, stale_seconds: float = STALE_SECONDS) -> list[str]:
    """The loops that have not beaten for `stale_seconds`."""
    now = time.monotonic() if now is None else now
    return sorted(name for name, at in _last_beats.items() if now - at >= stale_seconds)


def touch(path: Path = HEARTBEAT_FILE, stale_seconds: float = STALE_SECONDS) -> bool:
    """Touch the file if some loop has beaten and none is stuck; whether it was touched."""
    if not _last_beats or stuck_loops(stale_seconds=stale_seconds):
        return False
    path.touch()
    return True


async def keep(
    stop: asyncio.Event,
    path: Path = HEARTBEAT_FILE,
    *,
    every: float = TOUCH_SECONDS,
    stale_seconds: float = STALE_SECONDS,
) -> None:
    """Touch the heartbeat file every `every` seconds while the process is healthy, until
    `stop`; a stuck loop is logged once when it stops beating."""
    reported: set[str] = set()
    while not stop.is_set():
        try:
            touch(path, stale_seconds)
        except OSError:
            logger.exception("heartbeat_touch_failed", extra={"path": str(path)})
        stuck = set(stuck_loops(stale_seconds=stale_seconds))
        for loop in sorted(stuck - reported):
            logger.error("loop_stuck", extra={"loop": loop, "stale_seconds": stale_seconds})
        reported = stuck
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)
