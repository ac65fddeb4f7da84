"""Settings of the storage service: `QLVB_STORAGE_*` variables over `QLVB_*`."""

from __future__ import annotations

from typing import Literal

from services.common.settings import ServiceSettings, load_settings

MiB = 1 << 20
GiB = 1 << 30


class StorageSettings(ServiceSettings, frozen=True, kw_only=True):
    # Any S3-compatible server: only the plain S3 API is used (MinIO locally).
    s3_endpoint: str
    s3_access_key: str
    s3_secret_key: str
    s3_secure: bool = True
    s3_region: str = "us-east-1"
    # Where browsers reach the S3 server for presigned links; the internal endpoint if empty.
    s3_public_endpoint: str = ""
    bucket: str = "qlvb-files"
    # Created with object lock enabled (S3 allows that only at bucket creation).
    locked_bucket: str = "qlvb-issued"
    # COMPLIANCE: nobody, administrators included, can shorten or remove a retention.
    lock_mode: Literal["COMPLIANCE", "GOVERNANCE"] = "COMPLIANCE"
    max_object_bytes: int = 2 * GiB
    # Files whose safety depends on their whole content are spooled and inspected first.
    max_inspected_bytes: int = 200 * MiB
    max_xml_bytes: int = 50 * MiB
    default_quota_bytes: int = 500 * GiB
    # An upload holds `part_size` bytes per part in flight, plus the one being filled:
    # (parallel_parts + 1) * part_size (twice the parts in flight at worst, if hashing ever
    # fell behind the network; see objects/s3_put.py). Parts in flight let the next part
    # arrive while earlier ones are written to S3; S3's smallest part is 5 MiB. Fewer, larger
    # parts are also faster to read back. Measured (bench/storage_throughput, 100 MiB, against
    # the SDK with 16 MiB parts): 3 x 5 MiB uploads 0.85-0.99 and downloads 0.65-0.79;
    # 3 x 8 MiB 0.95-1.03 and 0.72-0.88, memory growth 37 MiB on a 1 GiB upload; 3 x 16 MiB
    # grew 75 MiB.
    part_size: int = 8 * MiB
    parallel_parts: int = 3
    pending_ttl_seconds: int = 3600
    soft_delete_days: int = 30
    presign_seconds: int = 300
    scrub_batch: int = 200


def load() -> StorageSettings:
    return load_settings(StorageSettings, "storage")
