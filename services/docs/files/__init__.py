"""Files of documents: the storage service client and derived files (OCR)."""
