"""The storage service's schema: its one MetaData and the shared event tables."""

from __future__ import annotations

from services.common.db import service_metadata
from services.common.outbox import outbox_table, processed_event_table

SCHEMA = "storage"
metadata = service_metadata(SCHEMA)
outbox = outbox_table(metadata)
processed_event = processed_event_table(metadata)
