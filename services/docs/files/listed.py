"""The files a document's card lists, looked up by id: what a person may fetch or have checked
(the card applied the document's visibility first). A file the card does not list is not
found, whoever asks."""

from __future__ import annotations

import uuid

import msgspec

from services.common.problems import NotFound
from services.docs.incoming.schemas import DocumentCard
from services.docs.outgoing.schemas import OutgoingCard


class CardFile(msgspec.Struct, frozen=True):
    """A file a document's card lists."""

    object_id: uuid.UUID
    sha256: str
    file_name: str
    size: int | None = None


def incoming_file(card: DocumentCard, object_id: uuid.UUID) -> CardFile:
    found = next((f for f in card.files if f.object_id == object_id), None)
    if found is None:
        raise _no_such_file()
    return CardFile(found.object_id, found.sha256, found.file_name, found.size)


def outgoing_file(card: OutgoingCard, object_id: uuid.UUID) -> CardFile:
    """Draft versions, the signed file each signature produced, and the current file."""
    files = [CardFile(v.object_id, v.sha256, v.file_name, v.size) for v in card.versions]
    files += [
        CardFile(s.object_id, s.sha256, f"{s.kind}-v{s.version}.pdf") for s in card.signatures
    ]
    if card.current_file is not None:
        current = card.current_file
        files.append(CardFile(current.object_id, current.sha256, current.file_name, current.size))
    found = next((f for f in files if f.object_id == object_id), None)
    if found is None:
        raise _no_such_file()
    return found


def _no_such_file() -> NotFound:
    return NotFound("Văn bản không có tệp này.", "The document has no such file.")
