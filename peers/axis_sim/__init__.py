"""A simulated national document interchange axis (VDXP), the test peer of
`services/interchange/axis`: the HTTP operations and signed headers of spec §3, a mailbox per
agency code, an agency directory and fault switches. Run it with
`python -m peers.axis_sim --port N`."""

from peers.axis_sim.app import AxisSimulator, create_app
from peers.axis_sim.config import Agency, Faults, Limits, SimulatorConfig, System

__all__ = ["Agency", "AxisSimulator", "Faults", "Limits", "SimulatorConfig", "System", "create_app"]
