# The buckets of the storage service, as devstack/bootstrap_minio.py creates them locally, and the
# one MinIO user the storage service connects as. Files are private: browsers get presigned links.

resource "minio_s3_bucket" "files" {
  bucket         = var.files_bucket
  acl            = "private"
  object_locking = false
  force_destroy  = false
}

# Issued documents: the storage service copies a file here with a retention (COMPLIANCE by
# default) when a clerk locks it. No default retention on the bucket: each object gets its own.
resource "minio_s3_bucket" "issued" {
  bucket         = var.locked_bucket
  acl            = "private"
  object_locking = true
  force_destroy  = false
}

# Exactly what services/storage/objects/s3.py calls: put, stat, get (presigned), copy with
# retention, extend retention, remove, multipart for large files. No BypassGovernanceRetention.
resource "minio_iam_policy" "storage" {
  name = "${var.storage_user}-rw"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid    = "Buckets"
        Effect = "Allow"
        Action = [
          "s3:GetBucketLocation",
          "s3:ListBucket",
          "s3:ListBucketMultipartUploads",
          "s3:GetBucketObjectLockConfiguration",
        ]
        Resource = [
          "arn:aws:s3:::${minio_s3_bucket.files.bucket}",
          "arn:aws:s3:::${minio_s3_bucket.issued.bucket}",
        ]
      },
      {
        Sid    = "Objects"
        Effect = "Allow"
        Action = [
          "s3:GetObject",
          "s3:PutObject",
          "s3:DeleteObject",
          "s3:AbortMultipartUpload",
          "s3:ListMultipartUploadParts",
          "s3:GetObjectRetention",
          "s3:PutObjectRetention",
          "s3:GetObjectLegalHold",
        ]
        Resource = [
          "arn:aws:s3:::${minio_s3_bucket.files.bucket}/*",
          "arn:aws:s3:::${minio_s3_bucket.issued.bucket}/*",
        ]
      },
    ]
  })
}

resource "minio_iam_user" "storage" {
  name          = var.storage_user
  secret        = var.storage_secret_key
  force_destroy = false
}

resource "minio_iam_user_policy_attachment" "storage" {
  user_name   = minio_iam_user.storage.id
  policy_name = minio_iam_policy.storage.id
}
