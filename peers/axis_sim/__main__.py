"""`python -m peers.axis_sim --port N [--host H] [--config FILE] [--system ID:SECRET:CODE,...]`

`--config` is a JSON `SimulatorConfig` (systems, agencies, faults, limits, seed, admin token);
`--system` adds a connected system and registers its agency codes in the directory. Both can
also be done later through `/admin`."""

from __future__ import annotations

import argparse
from pathlib import Path

import msgspec
import uvicorn

from peers.axis_sim.app import create_app
from peers.axis_sim.config import Agency, SimulatorConfig, System


def _system(text: str) -> System:
    system_id, _, rest = text.partition(":")
    secret, _, codes = rest.partition(":")
    if not system_id or not secret:
        raise argparse.ArgumentTypeError("expected ID:SECRET[:CODE,CODE...]")
    return System(system_id=system_id, secret=secret, agencies=[c for c in codes.split(",") if c])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m peers.axis_sim", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--config", type=Path)
    parser.add_argument("--system", type=_system, action="append", default=[])
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    config = (
        msgspec.json.decode(args.config.read_bytes(), type=SimulatorConfig)
        if args.config
        else SimulatorConfig()
    )
    for system in args.system:
        config.systems.append(system)
        known = {agency.code for agency in config.agencies}
        config.agencies.extend(
            Agency(code=code, name=code) for code in system.agencies if code not in known
        )
    uvicorn.run(create_app(config), host=args.host, port=args.port, log_level=args.log_level)


if __name__ == "__main__":
    main()
