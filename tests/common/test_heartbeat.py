"""Heartbeats of the background processes: the file is touched while every loop turns, and left
to go stale (for the liveness probe to restart the pod) once one of them stops."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from services.common import heartbeat


@pytest.fixture(autouse=True)
def own_beats(monkeypatch: pytest.MonkeyPatch) -> None:
    # Relays and consumers run by other tests of this process beat too.
    monkeypatch.setattr(heartbeat, "_last_beats", {})


def test_no_file_before_every_loop_has_turned_and_none_once_one_is_stuck(tmp_path: Path) -> None:
    path = tmp_path / "heartbeat"
    assert heartbeat.touch(path) is False  # no loop has turned yet
    assert not path.exists()
    heartbeat.beat("relay docs")
    heartbeat.beat("consumer interchange-status")
    assert heartbeat.touch(path) is True
    assert path.exists()

    long_ago = time.monotonic() - heartbeat.STALE_SECONDS - 1
    heartbeat._last_beats["consumer interchange-status"] = long_ago
    assert heartbeat.stuck_loops() == ["consumer interchange-status"]
    os.utime(path, (0, 0))
    assert heartbeat.touch(path) is False
    assert path.stat().st_mtime == 0  # left stale


async def until(condition: Callable[[], bool]) -> None:
    """Wait for `condition`; the limit only guards a hang, it asserts no speed."""
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, "never happened"
        await asyncio.sleep(0.01)


async def test_keep_touches_while_loops_turn_and_reports_a_stuck_one_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "heartbeat"
    stop = asyncio.Event()
    turning = True

    async def loop(name: str) -> None:
        while not stop.is_set():
            if turning or name == "relay docs":
                heartbeat.beat(name)
            await asyncio.sleep(0.01)

    caplog.set_level(logging.ERROR, logger="qlvb.heartbeat")
    tasks = [asyncio.create_task(loop("relay docs")), asyncio.create_task(loop("worker docs"))]
    keeper = asyncio.create_task(heartbeat.keep(stop, path, every=0.05, stale_seconds=0.3))
    try:
        await until(path.exists)
        os.utime(path, (0, 0))
        await until(lambda: path.stat().st_mtime != 0)  # touched again while both turn

        turning = False  # the worker's loop hangs
        await until(lambda: bool(heartbeat.stuck_loops(stale_seconds=0.3)))
        await asyncio.sleep(0.15)  # a few more rounds of `keep`
        os.utime(path, (0, 0))
        await asyncio.sleep(0.15)
        assert path.stat().st_mtime == 0  # no longer touched
    finally:
        stop.set()
        await asyncio.gather(keeper, *tasks)
    stuck = [r for r in caplog.records if r.getMessage() == "loop_stuck"]
    assert [r.loop for r in stuck] == ["worker docs"]  # type: ignore[attr-defined]
