variable "files_bucket" {
  description = "Attachments and drafts (QLVB_STORAGE_BUCKET)."
  type        = string
  default     = "qlvb-files"
}

variable "locked_bucket" {
  description = "Issued documents under retention (QLVB_STORAGE_LOCKED_BUCKET). S3 allows object lock only at creation."
  type        = string
  default     = "qlvb-issued"
}

variable "storage_user" {
  description = "The MinIO user of the storage service (QLVB_S3_ACCESS_KEY); nothing else gets access to the buckets."
  type        = string
  default     = "qlvb-storage"
}

variable "storage_secret_key" {
  description = "Its secret key (QLVB_S3_SECRET_KEY), at least 8 characters."
  type        = string
  sensitive   = true

  validation {
    condition     = length(var.storage_secret_key) >= 8
    error_message = "storage_secret_key must have at least 8 characters (MinIO's minimum)."
  }
}
