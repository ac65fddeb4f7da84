"""What a simulated axis starts with: connected systems, the agency directory, limits, faults.

The same structs are the bodies of the admin endpoints and the `--config` JSON file."""

from __future__ import annotations

import msgspec


class System(msgspec.Struct, kw_only=True):
    """A connected QLVB system: its credentials and the agencies it may act for."""

    system_id: str
    secret: str
    agencies: list[str] = []


class Agency(msgspec.Struct, kw_only=True):
    """An entry of the national agency directory."""

    code: str  # QCVN 102 code (code102)
    name: str
    parent_code: str = ""
    mail: str = ""
    code_qd20: str = ""
    old_code: str = ""


class Faults(msgspec.Struct, kw_only=True):
    """Fault switches. Rates are probabilities per request (0 off, 1 always), drawn from the
    simulator's seeded generator, so a run is reproducible."""

    latency_seconds: float = 0.0  # added before every operation
    error_rate: float = 0.0  # answer 503 instead of doing the operation
    hang_rate: float = 0.0  # hold the request without an answer (the client times out)
    hang_seconds: float = 300.0  # how long a hung request is held at most (then 504)
    duplicate_rate: float = 0.0  # deliver a document twice, under two axis ids
    reorder: bool = False  # list received items in a shuffled order
    drop_upload_rate: float = 0.0  # sendEdoc: read part of the upload, then cut the connection
    drop_response_rate: float = 0.0  # do the operation, then cut the connection unanswered


class Limits(msgspec.Struct, kw_only=True):
    """Bounds that keep the simulator's memory finite."""

    max_packet_bytes: int = 100 << 20
    max_stored_bytes: int = 1 << 30  # all undelivered packets together
    max_items_per_mailbox: int = 100_000
    max_sent_records: int = 200_000  # delivery tracking kept for getSentEdocList


class SimulatorConfig(msgspec.Struct, kw_only=True):
    systems: list[System] = []
    agencies: list[Agency] = []
    faults: Faults = msgspec.field(default_factory=Faults)
    limits: Limits = msgspec.field(default_factory=Limits)
    seed: int = 0
    admin_token: str | None = None  # required as X-Admin-Token on /admin when set
    # How long an LGSP bearer token lives (Lạng Sơn's: 30 minutes, per S6).
    lgsp_token_seconds: int = 1800
