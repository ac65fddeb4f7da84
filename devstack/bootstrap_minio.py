"""Creates the local stack's buckets through the S3 API (no `mc`), idempotently."""

from __future__ import annotations

from minio import Minio

from devstack.environment import service_environment

# Attachments: ordinary bucket. Issued documents: object lock, which S3 allows only at creation.
BUCKETS = {
    "qlvb-files": False,
    "qlvb-issued": True,
    "qlvb-test-files": False,
    "qlvb-test-issued": True,
}


def main() -> None:
    env = service_environment()
    client = Minio(
        env["QLVB_S3_ENDPOINT"],
        access_key=env["QLVB_S3_ACCESS_KEY"],
        secret_key=env["QLVB_S3_SECRET_KEY"],
        secure=False,
    )
    for bucket, locked in BUCKETS.items():
        if not client.bucket_exists(bucket):
            client.make_bucket(bucket, object_lock=locked)


if __name__ == "__main__":
    main()
