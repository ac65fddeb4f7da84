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

# Hồ sơ công việc: an entry of the agency's yearly catalogue (danh mục hồ sơ), then the dossier
# from opening to closing, transfer to the agency archive and, when its retention ends, disposal.
dossier = sa.Table(
    "dossier",
    metadata,
    sa.Column("tenant_id", sa.Uuid, primary_key=True),
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("year", sa.SmallInteger, nullable=False),
    sa.Column("code", sa.String(20), nullable=False),
    sa.Column("heading", sa.String(200), nullable=False, server_default=""),
    sa.Column("title", sa.String(500), nullable=False),
    sa.Column("retention_years", sa.SmallInteger, nullable=True),  # NULL: permanent
    sa.Column("responsible", sa.String(64), nullable=False),
    sa.Column("responsible_name", sa.String(200), nullable=False),
    sa.Column("department", sa.String(200), nullable=False, server_default=""),
    sa.Column("language", sa.String(50), nullable=False),
    sa.Column("access", sa.String(12), nullable=False),
    sa.Column("description", sa.String(500), nullable=False, server_default=""),
    sa.Column("state", sa.String(10), nullable=False),
    sa.Column("start_on", sa.Date, nullable=True),
    sa.Column("end_on", sa.Date, nullable=True),
    # The gapless ordinal series of the dossier's documents.
    sa.Column("last_ordinal", sa.Integer, nullable=False, server_default="0"),
    sa.Column("transfer_due_on", sa.Date, nullable=True),
    sa.Column("retention_ends_on", sa.Date, nullable=True),
    sa.Column("receipt_number", sa.String(50), nullable=True),
    sa.Column("accepted_on", sa.Date, nullable=True),
    sa.Column("accepted_by", sa.String(64), nullable=True),
    sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
)

# A document in a dossier: a link, never a copy; one document may sit in many dossiers.
dossier_item = sa.Table(
    "dossier_item",
    metadata,
    sa.Column("tenant_id", sa.Uuid, primary_key=True),
    sa.Column("dossier_id", sa.Uuid, primary_key=True),
    sa.Column("ordinal", sa.Integer, primary_key=True),
    sa.Column("document_id", sa.Uuid, nullable=True),  # an incoming document
    sa.Column("outgoing_id", sa.Uuid, nullable=True),  # an outgoing or internal document
    sa.Column("added_by", sa.String(64), nullable=False),
    sa.Column("added_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

# Transfer reminders already sent, one per dossier and due date.
dossier_reminder = sa.Table(
    "dossier_reminder",
    metadata,
    sa.Column("tenant_id", sa.Uuid, primary_key=True),
    sa.Column("dossier_id", sa.Uuid, primary_key=True),
    sa.Column("due_on", sa.Date, primary_key=True),
    sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

# The disposal list (danh sách tiêu hủy) and the decision on each entry.
dossier_disposal = sa.Table(
    "dossier_disposal",
    metadata,
    sa.Column("tenant_id", sa.Uuid, primary_key=True),
    sa.Column("dossier_id", sa.Uuid, primary_key=True),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("listed_by", sa.String(64), nullable=False),
    sa.Column(
        "listed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.Column("decision_number", sa.String(50), nullable=True),
    sa.Column("decided_on", sa.Date, nullable=True),
    sa.Column("decided_by", sa.String(64), nullable=True),
    sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("note", sa.Text, nullable=False, server_default=""),
)

# A person's named search over incoming documents, private to them in one agency.
saved_search = sa.Table(
    "saved_search",
    metadata,
    sa.Column("tenant_id", sa.Uuid, primary_key=True),
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("owner", sa.String(64), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("params", JSONB, nullable=False),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
)


# Signatures made in the outgoing flow (ADR 0019): reviewers' initials, the competent person's
# signature and the agency's seal signature, each one a new stored object that extends the
# previous one (an incremental update), per draft version.
outgoing_signature = sa.Table(
    "outgoing_signature",
    metadata,
    sa.Column("tenant_id", sa.Uuid, primary_key=True),
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("outgoing_id", sa.Uuid, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(8), nullable=False),  # initials | leader | seal
    sa.Column("field_name", sa.String(40), nullable=False),
    sa.Column("signer", sa.String(64), nullable=False),
    sa.Column("signer_name", sa.String(200), nullable=False),
    sa.Column("acting_for", sa.String(64), nullable=True),  # the delegator (X-Acting-For)
    sa.Column("method", sa.String(8), nullable=False),  # pkcs12 | remote
    sa.Column("certificate_subject", sa.Text, nullable=False),
    sa.Column("certificate_serial", sa.String(80), nullable=False),
    sa.Column("certificate_issuer", sa.Text, nullable=False),
    sa.Column("certificate_sha256", sa.String(64), nullable=False),
    sa.Column("level", sa.String(5), nullable=False),
    sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("object_id", sa.Uuid, nullable=False),
    sa.Column("file_name", sa.String(255), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("placement", JSONB, nullable=False),
    # The agency's signature only: the number and date written into the PDF before it.
    sa.Column("number_symbol", sa.String(100), nullable=True),
    sa.Column("dated", sa.Date, nullable=True),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
)

# Keys to sign with: a person's (initials, the leader's signature) or the agency's seal. The
# server holds a PKCS#12 (encrypted twice: by its PIN, and by the service's Fernet keys) or
# only the certificate, for keys that sign elsewhere (USB token, remote signing).
signing_credential = sa.Table(
    "signing_credential",
    metadata,
    sa.Column("tenant_id", sa.Uuid, primary_key=True),
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("owner_kind", sa.String(8), nullable=False),  # person | agency
    sa.Column("owner", sa.String(64), nullable=False),  # a username; "" for the agency
    sa.Column("method", sa.String(8), nullable=False),  # pkcs12 | remote
    sa.Column("display_name", sa.String(200), nullable=False),
    sa.Column("position", sa.String(200), nullable=False, server_default=""),
    sa.Column("certificate", sa.LargeBinary, nullable=False),  # DER
    sa.Column("chain", sa.LargeBinary, nullable=False),  # PEM, the CAs above it
    sa.Column("certificate_sha256", sa.String(64), nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("serial", sa.String(80), nullable=False),
    sa.Column("issuer", sa.Text, nullable=False),
    sa.Column("not_after", sa.DateTime(timezone=True), nullable=False),
    sa.Column("sealed_key", sa.LargeBinary, nullable=True),
    sa.Column("image_png", sa.LargeBinary, nullable=False),  # signature or seal image
    sa.Column("initials_png", sa.LargeBinary, nullable=True),
    sa.Column("failed_attempts", sa.SmallInteger, nullable=False, server_default="0"),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
)

# A signature prepared for a key the server does not hold, waiting for the signature value.
signing_session = sa.Table(
    "signing_session",
    metadata,
    sa.Column("tenant_id", sa.Uuid, primary_key=True),
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("outgoing_id", sa.Uuid, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(8), nullable=False),
    sa.Column("signer", sa.String(64), nullable=False),
    sa.Column("signer_name", sa.String(200), nullable=False),
    sa.Column("acting_for", sa.String(64), nullable=True),
    sa.Column("credential_id", sa.Uuid, nullable=False),
    sa.Column("base_sha256", sa.String(64), nullable=False),  # the bytes it was prepared over
    sa.Column("prepared", sa.LargeBinary, nullable=False),  # PreparedSignature, msgpack
    sa.Column("placement", JSONB, nullable=False),
    sa.Column("number_symbol", sa.String(100), nullable=True),
    sa.Column("dated", sa.Date, nullable=True),
    sa.Column("state", sa.String(10), nullable=False),  # open | completed | superseded
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
)

# Roots an agency's signatures must chain to, besides the operator's (settings); the demo CA of
# `qlvb seed-demo` lives here. Written by operators' tools only, never through the API.
signing_trust_anchor = sa.Table(
    "signing_trust_anchor",
    metadata,
    sa.Column("tenant_id", sa.Uuid, primary_key=True),
    sa.Column("sha256", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(300), nullable=False),
    sa.Column("certificate", sa.LargeBinary, nullable=False),  # DER
    sa.Column("added_by", sa.String(64), nullable=False),
    sa.Column("added_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

# A revocation (thu hồi) or update (cập nhật) of an issued document, sent to its recipients
# (edXML business 1 and 2). The issued document itself never changes; a replacement (3) is a
# new outgoing document whose target_id names the one it replaces.
outgoing_change = sa.Table(
    "outgoing_change",
    metadata,
    sa.Column("tenant_id", sa.Uuid, primary_key=True),
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("outgoing_id", sa.Uuid, nullable=False),
    sa.Column("business", sa.String(8), nullable=False),  # revoke | update
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("subject", sa.Text, nullable=True),  # update: the corrected subject
    sa.Column("reply_due_on", sa.Date, nullable=True),  # update: the corrected reply date
    sa.Column("requested_by", sa.String(64), nullable=False),
    sa.Column("requested_name", sa.String(200), nullable=False),
    sa.Column(
        "requested_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
)

# Each recipient's answer to a change: agreed (change_accepted) or refused (change_rejected).
outgoing_change_recipient = sa.Table(
    "outgoing_change_recipient",
    metadata,
    sa.Column("tenant_id", sa.Uuid, primary_key=True),
    sa.Column("change_id", sa.Uuid, primary_key=True),
    sa.Column("code", sa.String(35), primary_key=True),
    sa.Column("name", sa.String(300), nullable=False),
    sa.Column("status", sa.String(20), nullable=False, server_default="sending"),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column(
        "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
)

# A revocation (thu hồi), update (cập nhật) or replacement (thay thế) an incoming document's
# sender asked for (edXML business 1-3), waiting for the clerk's or leader's answer, which goes
# back as status 15 (agreed) or 16 (refused). `delivery_id` is the interchange's id of the
# request itself (what the answer names; unique, so a request is recorded once); a request
# about a document never received here has no `document_id` and is refused at once.
incoming_change = sa.Table(
    "incoming_change",
    metadata,
    sa.Column("tenant_id", sa.Uuid, primary_key=True),
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("business", sa.String(8), nullable=False),  # revoke | update | replace
    sa.Column("delivery_id", sa.Uuid, nullable=False),
    sa.Column("target_delivery_id", sa.Uuid, nullable=True),  # the delivery acted on
    sa.Column("document_id", sa.Uuid, nullable=True),
    sa.Column("replacement_id", sa.Uuid, nullable=True),  # replace: the new incoming document
    sa.Column("edxml_document_id", sa.String(100), nullable=True),
    sa.Column("sender_code", sa.String(35), nullable=True),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("fields", JSONB, nullable=True),  # update: the corrected fields
    sa.Column("files", JSONB, nullable=True),  # update: the files sent again
    sa.Column("previous", JSONB, nullable=True),  # update accepted: the fields and files replaced
    sa.Column("state", sa.String(10), nullable=False),  # pending | accepted | refused
    sa.Column("answer_reason", sa.Text, nullable=True),
    sa.Column("answered_by", sa.String(64), nullable=True),
    sa.Column("answered_name", sa.String(200), nullable=True),
    sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column(
        "received_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
)

# The signature validation report of a file (issue 6): of an incoming document's file, or of a
# signed file of an outgoing one, for exactly the bytes it names. The worker writes it after a
# document gets its files; "check again" replaces it.
signature_report = sa.Table(
    "signature_report",
    metadata,
    sa.Column("tenant_id", sa.Uuid, primary_key=True),
    sa.Column("object_id", sa.Uuid, primary_key=True),
    sa.Column("sha256", sa.String(64), primary_key=True),
    sa.Column("document_id", sa.Uuid, nullable=True),  # an incoming document
    sa.Column("outgoing_id", sa.Uuid, nullable=True),  # or an outgoing one
    sa.Column("file_name", sa.String(255), nullable=False),
    sa.Column(
        "checked_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.Column("checked_by", sa.String(64), nullable=False),  # a username, or the docs service
    sa.Column("verdict", sa.String(13), nullable=False),  # valid | invalid | indeterminate
    sa.Column("signatures", sa.SmallInteger, nullable=False),
    sa.Column("report", JSONB, nullable=False),  # ValidationReport as JSON
    sa.Column("summary_vi", sa.Text, nullable=False),
)
