"""The docs service's schema: registers, the working-day calendar, the audit chain, events."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from services.common.db import service_metadata
from services.common.outbox import outbox_table, processed_event_table

SCHEMA = "docs"
metadata = service_metadata(SCHEMA)
outbox = outbox_table(metadata)
processed_event = processed_event_table(metadata)

# Sổ văn bản: an agency keeps incoming and outgoing registers, several if it wants (e.g. one for
# confidential documents, which NĐ 30 requires to be numbered separately).
register = sa.Table(
    "register",
    metadata,
    sa.Column("tenant_id", sa.Uuid, primary_key=True),
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("direction", sa.String(8), nullable=False),  # incoming | outgoing
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("confidential", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
)

# The last number given in a register's year; numbers restart at 1 on 1 January.
register_counter = sa.Table(
    "register_counter",
    metadata,
    sa.Column("tenant_id", sa.Uuid, primary_key=True),
    sa.Column("register_id", sa.Uuid, primary_key=True),
    sa.Column("year", sa.SmallInteger, primary_key=True),
    sa.Column("last_number", sa.Integer, nullable=False),
)

# Days off and make-up working days, platform-wide (an operator edits them each year).
calendar_day = sa.Table(
    "calendar_day",
    metadata,
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("kind", sa.String(8), nullable=False),  # holiday | workday
    sa.Column("name", sa.String(200), nullable=False),
)

# Append-only, hash-chained log of everything done to documents, per tenant.
audit_entry = sa.Table(
    "audit_entry",
    metadata,
    sa.Column("tenant_id", sa.Uuid, primary_key=True),
    sa.Column("seq", sa.BigInteger, primary_key=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("actor_name", sa.String(200), nullable=False),
    sa.Column("acting_for", sa.String(64), nullable=True),
    sa.Column("action", sa.String(60), nullable=False),
    sa.Column("entity", sa.String(40), nullable=False),
    sa.Column("entity_id", sa.Uuid, nullable=True),
    sa.Column("data", JSONB, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)

# The end of each tenant's chain; its row lock orders appends.
audit_head = sa.Table(
    "audit_head",
    metadata,
    sa.Column("tenant_id", sa.Uuid, primary_key=True),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)

# A document of the agency. Incoming ones wait for registration (`waiting`), are registered with
# an arrival number, then assigned, processed and completed; or returned to the sender.
document = sa.Table(
    "document",
    metadata,
    sa.Column("tenant_id", sa.Uuid, primary_key=True),
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("direction", sa.String(8), nullable=False),
    sa.Column("state", sa.String(12), nullable=False),
    sa.Column("source", sa.String(12), nullable=False),  # paper | electronic
    sa.Column("delivery_id", sa.Uuid, nullable=True),
    sa.Column("edxml_document_id", sa.String(100), nullable=True),
    sa.Column("register_id", sa.Uuid, nullable=True),
    sa.Column("arrival_year", sa.SmallInteger, nullable=True),
    sa.Column("arrival_number", sa.Integer, nullable=True),
    sa.Column("arrived_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("registered_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("registered_by", sa.String(64), nullable=True),
    sa.Column("sender_code", sa.String(35), nullable=True),
    sa.Column("sender_name", sa.String(300), nullable=False),
    sa.Column("number_symbol", sa.String(100), nullable=False),
    sa.Column("doc_type", sa.String(10), nullable=False),
    sa.Column("issued_on", sa.Date, nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("signer", sa.String(200), nullable=False, server_default=""),
    sa.Column("urgency", sa.String(16), nullable=False),
    sa.Column("confidentiality", sa.String(12), nullable=False),
    sa.Column("pages", sa.Integer, nullable=True),
    sa.Column("due_on", sa.Date, nullable=True),
    sa.Column("ocr_text", sa.Text, nullable=True),
    sa.Column("result", sa.Text, nullable=True),
    sa.Column("reply_document_id", sa.Uuid, nullable=True),
    sa.Column("return_reason", sa.Text, nullable=True),
    sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.Column("created_by", sa.String(64), nullable=False),
)

document_file = sa.Table(
    "document_file",
    metadata,
    sa.Column("tenant_id", sa.Uuid, primary_key=True),
    sa.Column("document_id", sa.Uuid, primary_key=True),
    sa.Column("object_id", sa.Uuid, primary_key=True),
    sa.Column("role", sa.String(12), nullable=False),  # main | attachment | ocr
    sa.Column("file_name", sa.String(255), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
)

# Who handles a document: lead (chủ trì), cooperating (phối hợp) or for information (để biết).
assignment = sa.Table(
    "assignment",
    metadata,
    sa.Column("tenant_id", sa.Uuid, primary_key=True),
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("document_id", sa.Uuid, nullable=False),
    sa.Column("parent_id", sa.Uuid, nullable=True),
    sa.Column("role", sa.String(10), nullable=False),
    sa.Column("assignee", sa.String(64), nullable=False),
    sa.Column("assignee_name", sa.String(200), nullable=False),
    sa.Column("department", sa.String(200), nullable=False, server_default=""),
    sa.Column("deadline", sa.Date, nullable=True),
    sa.Column("direction", sa.Text, nullable=False, server_default=""),
    sa.Column("assigned_by", sa.String(64), nullable=False),
    sa.Column(
        "assigned_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.Column("state", sa.String(12), nullable=False),
    sa.Column("requested_deadline", sa.Date, nullable=True),
    sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
)

reminder = sa.Table(
    "reminder",
    metadata,
    sa.Column("tenant_id", sa.Uuid, primary_key=True),
    sa.Column("assignment_id", sa.Uuid, primary_key=True),
    sa.Column("kind", sa.String(10), primary_key=True),
    sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

# An outgoing (or internal) document from draft to issue. Once issued it never changes; a
# revocation, update or replacement is a new outgoing document pointing at it.
outgoing = sa.Table(
    "outgoing",
    metadata,
    sa.Column("tenant_id", sa.Uuid, primary_key=True),
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("state", sa.String(12), nullable=False),
    sa.Column("internal", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("business", sa.String(8), nullable=False, server_default="new"),
    sa.Column("target_id", sa.Uuid, nullable=True),
    sa.Column("doc_type", sa.String(10), nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("drafter", sa.String(64), nullable=False),
    sa.Column("drafter_name", sa.String(200), nullable=False),
    sa.Column("signer", sa.String(64), nullable=False),
    sa.Column("signer_name", sa.String(200), nullable=False),
    sa.Column("authority", sa.String(5), nullable=False, server_default=""),
    sa.Column("urgency", sa.String(16), nullable=False),
    sa.Column("confidentiality", sa.String(12), nullable=False),
    sa.Column("reply_due_on", sa.Date, nullable=True),
    sa.Column("answers_id", sa.Uuid, nullable=True),
    sa.Column("issuer_abbr", sa.String(20), nullable=False),
    sa.Column("unit_abbr", sa.String(20), nullable=False, server_default=""),
    sa.Column("legal", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("register_id", sa.Uuid, nullable=True),
    sa.Column("number_year", sa.SmallInteger, nullable=True),
    sa.Column("number", sa.Integer, nullable=True),
    sa.Column("number_symbol", sa.String(100), nullable=True),
    sa.Column("issued_on", sa.Date, nullable=True),
    sa.Column("issued_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("issued_by", sa.String(64), nullable=True),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
)

outgoing_version = sa.Table(
    "outgoing_version",
    metadata,
    sa.Column("tenant_id", sa.Uuid, primary_key=True),
    sa.Column("outgoing_id", sa.Uuid, primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("object_id", sa.Uuid, nullable=False),
    sa.Column("file_name", sa.String(255), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("note", sa.Text, nullable=False, server_default=""),
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
)

outgoing_recipient = sa.Table(
    "outgoing_recipient",
    metadata,
    sa.Column("tenant_id", sa.Uuid, primary_key=True),
    sa.Column("outgoing_id", sa.Uuid, primary_key=True),
    sa.Column("code", sa.String(35), primary_key=True),
    sa.Column("name", sa.String(300), nullable=False),
    sa.Column("electronic", sa.Boolean, nullable=False),
    sa.Column("status", sa.String(20), nullable=False, server_default="pending"),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column(
        "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
)

# Review steps (content, form, approval) and opinion requests on a draft.
outgoing_step = sa.Table(
    "outgoing_step",
    metadata,
    sa.Column("tenant_id", sa.Uuid, primary_key=True),
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("outgoing_id", sa.Uuid, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("assignee", sa.String(64), nullable=False),
    sa.Column("assignee_name", sa.String(200), nullable=False),
    sa.Column("state", sa.String(10), nullable=False),
    sa.Column("comment", sa.Text, nullable=False, server_default=""),
    sa.Column("due_on", sa.Date, nullable=True),
    sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
)

# Numbers set aside for documents signed by hand on paper, used at registration.
number_reservation = sa.Table(
    "number_reservation",
    metadata,
    sa.Column("tenant_id", sa.Uuid, primary_key=True),
    sa.Column("register_id", sa.Uuid, primary_key=True),
    sa.Column("year", sa.SmallInteger, primary_key=True),
    sa.Column("number", sa.Integer, primary_key=True),
    sa.Column("reserved_by", sa.String(64), nullable=False),
    sa.Column(
        "reserved_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.Column("outgoing_id", sa.Uuid, nullable=True),
)
