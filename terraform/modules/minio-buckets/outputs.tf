output "files_bucket" {
  value = minio_s3_bucket.files.bucket
}

output "locked_bucket" {
  value = minio_s3_bucket.issued.bucket
}

output "access_key" {
  description = "QLVB_S3_ACCESS_KEY of the storage service."
  value       = minio_iam_user.storage.id
}
