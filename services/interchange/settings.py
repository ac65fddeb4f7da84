"""Settings of the interchange service: `QLVB_INTERCHANGE_*` variables over `QLVB_*`."""

from __future__ import annotations

from services.common.settings import ServiceSettings, load_settings

MiB = 1 << 20


class InterchangeSettings(ServiceSettings, frozen=True, kw_only=True):
    # The identity service (which agency codes belong to tenants of this platform).
    identity_url: str = "http://127.0.0.1:8102"
    # The storage service (attachments of packets, both ways).
    storage_url: str = "http://127.0.0.1:8103"
    # Fernet keys that encrypt connector secrets, comma-separated, NEWEST FIRST: the first one
    # encrypts, all of them decrypt, so a key is rotated by putting a new one in front and
    # running `qlvb connector-keys rotate`. Empty outside production: a development key is
    # derived from the client secret (connectors/secrets.py).
    connector_keys: str = ""
    # Largest edXML packet taken from the axis or built for it (the axis limit is unconfirmed,
    # spec §3.4). Attachments are base64 inside it, so files are about 3/4 of this.
    max_packet_bytes: int = 100 * MiB
    # Capped exponential backoff after a failure to reach a connector's axis or the storage
    # service: base * 2^(failures-1), at most `backoff_cap_seconds`, with jitter.
    backoff_base_seconds: float = 30.0
    backoff_cap_seconds: float = 900.0
    # A message that could not be sent for this long becomes a dead letter (the axis down for
    # hours is not a reason to give up; days are).
    give_up_after_seconds: int = 3 * 24 * 3600
    # Work per job run: rows sent, mailbox items taken.
    send_batch: int = 200
    poll_batch: int = 200
    # Recipients of one tenant sent to in parallel (each recipient's queue is sequential).
    recipients_in_parallel: int = 4
    # How long the list of the platform's agencies is trusted (codes are never reused; new
    # agencies are found on a miss, at most once per `agency_miss_seconds`).
    agency_cache_seconds: float = 300.0
    agency_miss_seconds: float = 5.0
    # Bound on one per-tenant job (saq timeout): a hung axis cannot hold a worker slot longer.
    job_timeout_seconds: int = 300
    # How long a packet's bytes are kept once every delivery of it is final (sent, or a dead
    # letter replayed); the delivery rows stay for good. Revoking an older document rebuilds
    # its header from the request (outbound.py).
    packet_retention_days: int = 90
    # Packets purged per agency and transaction by the nightly purge.
    purge_batch: int = 500


def load() -> InterchangeSettings:
    return load_settings(InterchangeSettings, "interchange")
