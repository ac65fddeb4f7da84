"""The interchange service's schema: connectors, packets, the sending queue, the inbox, the
receipts of axis items, dead letters, and the shared event tables. Every table but the event
ledger's is a tenant table under row-level security (migration interchange_0002)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from services.common.db import service_metadata
from services.common.outbox import outbox_table, processed_event_table

SCHEMA = "interchange"
metadata = service_metadata(SCHEMA)
outbox = outbox_table(metadata)
processed_event = processed_event_table(metadata)

Timestamp = sa.DateTime(timezone=True)

# One connection to the national axis (or a provincial LGSP) per agency: credentials (the
# secret Fernet-encrypted), schedule, rate limit, its health, and the identity that signs the
# agency's packets (migration interchange_0003).
connector = sa.Table(
    "connector",
    metadata,
    sa.Column("tenant_id", sa.Uuid, primary_key=True),
    sa.Column("kind", sa.String(8), nullable=False),  # vdxp | lgsp
    sa.Column("endpoint", sa.String(500), nullable=False),
    sa.Column("system_id", sa.String(200), nullable=False),
    sa.Column("secret", sa.LargeBinary, nullable=False),
    # The code this agency has on the axis (QCVN 102), as identity knew it at set-up.
    sa.Column("agency_code", sa.String(13), nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("poll_seconds", sa.Integer, nullable=False),
    sa.Column("rate_per_minute", sa.Integer, nullable=False),
    sa.Column("timeout_seconds", sa.Float, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Column("next_poll_at", Timestamp, nullable=True),
    sa.Column("last_poll_at", Timestamp, nullable=True),
    sa.Column("last_success_at", Timestamp, nullable=True),
    sa.Column("last_error_at", Timestamp, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
    # Backoff after failures: nothing goes to this axis before then.
    sa.Column("retry_at", Timestamp, nullable=True),
    # Items waiting in the agency's axis mailbox at the last poll (beyond one batch).
    sa.Column("axis_backlog", sa.Integer, nullable=False, server_default="0"),
    sa.Column("rate_window_start", Timestamp, nullable=True),
    sa.Column("rate_window_count", sa.Integer, nullable=False, server_default="0"),
    # The packet-signing key (PKCS#8 PEM, Fernet-encrypted like `secret`) and its certificate
    # chain (PEM, the signer first); both or neither.
    sa.Column("signing_key", sa.LargeBinary, nullable=True),
    sa.Column("signing_chain", sa.Text, nullable=True),
    sa.Column("signing_set_at", Timestamp, nullable=True),
)

# edXML bytes: what we built and send, and refused packets (for the dead-letter list). One
# packet may go to many recipients. The bytes are purged a while after every delivery of the
# packet is final (`deliveries/purge.py`); the row, its hash and size stay.
packet = sa.Table(
    "packet",
    metadata,
    sa.Column("tenant_id", sa.Uuid, primary_key=True),
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=True),  # None once purged
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("purged_at", Timestamp, nullable=True),
)

# Documents this agency sends (from `document.issued`): the request, then the built packet.
sent_document = sa.Table(
    "sent_document",
    metadata,
    sa.Column("tenant_id", sa.Uuid, primary_key=True),
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("seq", sa.BigInteger, sa.Identity(always=True), nullable=False),
    # The docs service's id of the outgoing document: one packet per document.
    sa.Column("outgoing_id", sa.Uuid, nullable=False),
    sa.Column("business", sa.String(8), nullable=False),  # new | revoke | update | replace
    sa.Column("request", JSONB, nullable=False),
    sa.Column("state", sa.String(8), nullable=False),  # pending | built | failed
    sa.Column("edxml_document_id", sa.String(100), nullable=True),
    # For revoke, update and replace: the DocumentId of the document acted on.
    sa.Column("target_document_id", sa.String(100), nullable=True),
    sa.Column("packet_id", sa.Uuid, nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", Timestamp, nullable=False),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("built_at", Timestamp, nullable=True),
)

# The sending queue: one row per packet and recipient, sent in `seq` order per recipient.
outgoing = sa.Table(
    "outgoing",
    metadata,
    sa.Column("tenant_id", sa.Uuid, primary_key=True),
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("seq", sa.BigInteger, sa.Identity(always=True), nullable=False),
    sa.Column("kind", sa.String(6), nullable=False),  # edoc | status
    sa.Column("dedupe_key", sa.String(400), nullable=False),
    sa.Column("sent_document_id", sa.Uuid, nullable=True),
    sa.Column("inbox_id", sa.Uuid, nullable=True),
    sa.Column("packet_id", sa.Uuid, nullable=False),
    # The DocumentId a status about this delivery will name (ResponseFor/DocumentId).
    sa.Column("edxml_document_id", sa.String(100), nullable=False),
    sa.Column("business", sa.String(8), nullable=True),
    sa.Column("status_code", sa.String(2), nullable=True),
    sa.Column("sender_code", sa.String(13), nullable=False),
    sa.Column("recipient_code", sa.String(35), nullable=False),
    sa.Column("recipient_name", sa.String(300), nullable=False, server_default=""),
    sa.Column("state", sa.String(8), nullable=False),  # pending | sent | failed
    sa.Column("route", sa.String(6), nullable=True),  # local | axis, once sent
    sa.Column("recipient_tenant_id", sa.Uuid, nullable=True),
    sa.Column("axis_doc_id", sa.String(100), nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", Timestamp, nullable=False),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("sent_at", Timestamp, nullable=True),
    # The recipient's business status of a document (01-06), and its answer to a revoke or
    # update request (15/16), from the status packets that came back.
    sa.Column("receipt_code", sa.String(2), nullable=True),
    sa.Column("receipt_description", sa.Text, nullable=True),
    sa.Column("receipt_at", Timestamp, nullable=True),
    sa.Column("change_code", sa.String(2), nullable=True),
)

# What this agency received and accepted: documents (the id is the delivery id given to the
# docs service) and status packets about documents it sent.
inbox = sa.Table(
    "inbox",
    metadata,
    sa.Column("tenant_id", sa.Uuid, primary_key=True),
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("seq", sa.BigInteger, sa.Identity(always=True), nullable=False),
    sa.Column("kind", sa.String(6), nullable=False),  # edoc | status
    sa.Column("business", sa.String(8), nullable=True),
    # new:<DocumentId>, revoke:<DocumentId>, update:<DocumentId>:<hash>, status:<...>
    sa.Column("dedupe_key", sa.String(400), nullable=False),
    sa.Column("source", sa.String(6), nullable=False),  # axis | local
    sa.Column("axis_doc_id", sa.String(100), nullable=True),
    sa.Column("edxml_document_id", sa.String(100), nullable=False),
    sa.Column("sender_code", sa.String(13), nullable=False),
    sa.Column("sender_name", sa.String(300), nullable=False),
    sa.Column("recipient_code", sa.String(13), nullable=False),
    sa.Column("recipient_name", sa.String(300), nullable=False),
    sa.Column("code_text", sa.String(100), nullable=True),
    sa.Column("promulgation_date", sa.Date, nullable=True),
    sa.Column("target_id", sa.Uuid, nullable=True),
    sa.Column("status_code", sa.String(2), nullable=True),
    sa.Column("state", sa.String(8), nullable=False),  # received | revoked
    sa.Column("received_at", Timestamp, nullable=False),
    # Who signed the packet (XML-DSig, verified on arrival; trusting the certificate is not
    # decided here): the certificate's subject and SHA-256 fingerprint. None when unsigned.
    sa.Column("signer_subject", sa.Text, nullable=True),
    sa.Column("signer_fingerprint", sa.String(64), nullable=True),
)

# Every axis item this agency took (or refused): the axis docId is never processed twice.
axis_receipt = sa.Table(
    "axis_receipt",
    metadata,
    sa.Column("tenant_id", sa.Uuid, primary_key=True),
    sa.Column("axis_doc_id", sa.String(100), primary_key=True),
    sa.Column("message_type", sa.String(6), nullable=False),
    sa.Column("outcome", sa.String(10), nullable=False),  # accepted | duplicate | refused
    sa.Column("inbox_id", sa.Uuid, nullable=True),
    sa.Column("dead_letter_id", sa.Uuid, nullable=True),
    sa.Column("received_at", Timestamp, nullable=False),
)

# What could not be delivered or taken, with the reason, for an operator to inspect and replay.
dead_letter = sa.Table(
    "dead_letter",
    metadata,
    sa.Column("tenant_id", sa.Uuid, primary_key=True),
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("direction", sa.String(8), nullable=False),  # incoming | outgoing | event
    sa.Column("reason", sa.String(60), nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("path", sa.String(300), nullable=True),
    sa.Column("source", sa.String(6), nullable=True),
    sa.Column("message_type", sa.String(6), nullable=True),  # of a refused incoming packet
    sa.Column("axis_doc_id", sa.String(100), nullable=True),
    sa.Column("edxml_document_id", sa.String(100), nullable=True),
    sa.Column("sender_code", sa.String(35), nullable=True),
    sa.Column("recipient_code", sa.String(35), nullable=True),
    sa.Column("outgoing_id", sa.Uuid, nullable=True),
    sa.Column("sent_document_id", sa.Uuid, nullable=True),
    sa.Column("packet_id", sa.Uuid, nullable=True),
    sa.Column("event", JSONB, nullable=True),  # {"topic", "payload"} of a refused event
    sa.Column("state", sa.String(8), nullable=False),  # open | replayed
    sa.Column("replays", sa.Integer, nullable=False, server_default="0"),
    sa.Column("replayed_at", Timestamp, nullable=True),
    sa.Column("replay_error", sa.Text, nullable=True),
)
