"""Stopping and restarting a real server of the local stack from a test, wherever the stack
was started from: the process is found by its listening address, and restarted with exactly
the command line, environment and working directory it had."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ServerProcess:
    pid: int
    argv: list[str]
    env: dict[str, str]
    cwd: str


def find_server(program: str, marker: str) -> ServerProcess:
    """The process whose command line names `program` and contains the argument `marker`."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = [a.decode() for a in (entry / "cmdline").read_bytes().split(b"\0") if a]
            if not argv or program not in Path(argv[0]).name or marker not in argv:
                continue
            raw_env = (entry / "environ").read_bytes().split(b"\0")
            env = dict(e.decode().split("=", 1) for e in raw_env if b"=" in e)
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        return ServerProcess(int(entry.name), argv, env, cwd)
    raise LookupError(f"no {program} process with {marker}")


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def kill(server: ServerProcess, port: int) -> None:
    os.kill(server.pid, signal.SIGKILL)
    for _ in range(200):  # bounded: the kernel frees the port promptly after SIGKILL
        if not port_open(port):
            return
        time.sleep(0.05)
    raise AssertionError(f"port {port} still open after killing {server.pid}")


def restart(server: ServerProcess, port: int) -> None:
    subprocess.Popen(
        server.argv,
        env=server.env,
        cwd=server.cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    for _ in range(1200):
        if port_open(port):
            return
        time.sleep(0.05)
    raise AssertionError(f"{server.argv[0]} did not come back on port {port}")
