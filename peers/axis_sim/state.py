"""The simulated axis itself: the agency directory, connected systems, a mailbox per agency
code, delivery tracking. In memory and bounded (`Limits`): it is the external world of the
tests, not a store of ours.

A sent packet becomes one mailbox item per recipient, each with its own axis id (`docId`); the
sender gets a sender id for `getSentEdocList`. An item stays in the recipient's received list
until it is acknowledged with `updateStatus` `done` or `fail`; its bytes are then dropped and
only its tracking row is kept.

The same mailboxes serve the provincial LGSP surface (`lgsp.py`), whose callers also hold
bearer tokens: issued here, expiring after `lgsp_token_seconds` or when `/admin` says so."""

from __future__ import annotations

import itertools
import json
import random
import secrets
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from lxml import etree  # type: ignore[import-untyped]

from peers.axis_sim import wire
from peers.axis_sim.config import Agency, Faults, SimulatorConfig, System
from peers.axis_sim.wire import AxisFailure

VIETNAM = timezone(timedelta(hours=7))
TIME_FORMAT = "%d/%m/%Y %H:%M:%S"
MESSAGE_TYPES = ("edoc", "status")
TRANSPORT_STATUSES = ("done", "fail", "processing")
FINAL_STATUSES = ("done", "fail")


def _now() -> datetime:
    return datetime.now(VIETNAM).replace(microsecond=0)


def _new_id() -> str:
    return secrets.token_hex(12)  # 24 hex characters, the shape of real axis ids


@dataclass
class Item:
    """One delivery: a packet in one recipient's mailbox."""

    doc_id: str
    sender_doc_id: str
    sequence: int
    from_code: str
    to_code: str
    message_type: str
    service_type: str
    created: datetime
    data: bytes | None
    status: str = "initial"
    status_desc: str = ""
    updated: datetime | None = None

    def listing(self) -> dict[str, Any]:
        return {
            "docId": self.doc_id,
            "serviceType": self.service_type,
            "messageType": self.message_type,
            "created_time": self.created.strftime(TIME_FORMAT),
            "updated_time": (self.updated or self.created).strftime(TIME_FORMAT),
            "from": self.from_code,
            "to": self.to_code,
            "status": self.status,
            "status_desc": self.status_desc,
        }


@dataclass
class SentRecord:
    sender_doc_id: str
    from_code: str
    message_type: str
    service_type: str
    title: str
    notation: str
    sent: datetime
    deliveries: list[Item] = field(default_factory=list)


@dataclass
class Token:
    """An LGSP bearer token: whose, and until when."""

    system_id: str
    expires: datetime


@dataclass
class DirectoryEntry:
    agency: Agency
    version: int
    modified: datetime
    deleted: bool = False


def _safe_root(data: bytes) -> Any:
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as error:
        raise AxisFailure(400, wire.BAD_EDXML, f"Sai định dạng edXML: {error}") from error
    if root.getroottree().docinfo.doctype or etree.QName(root).localname != "edXML":
        raise AxisFailure(400, wire.BAD_EDXML, "Sai định dạng edXML")
    return root


def _first_text(root: Any, *path: str) -> str:
    """The text of the first element at that local-name path below any depth of `root`."""
    expression = "//" + "/".join(f"*[local-name()='{name}']" for name in path)
    found = root.xpath(expression)
    return str(found[0].text or "").strip() if found else ""


class Axis:
    def __init__(self, config: SimulatorConfig) -> None:
        self.limits = config.limits
        self.faults = config.faults
        self.rng = random.Random(config.seed)  # noqa: S311 (fault draws, not secrets)
        self.systems: dict[str, System] = {}
        self.directory: dict[str, DirectoryEntry] = {}
        self.mailboxes: dict[str, OrderedDict[str, Item]] = {}
        self.items: dict[str, Item] = {}
        self.sent: OrderedDict[str, SentRecord] = OrderedDict()
        self.stored_bytes = 0
        self.counters: dict[str, int] = {}
        self.tokens: dict[str, Token] = {}
        self.token_seconds = config.lgsp_token_seconds
        self._sequence = itertools.count()
        self._version = itertools.count(1)
        for agency in config.agencies:
            self.add_agency(agency)
        for system in config.systems:
            self.add_system(system)

    # -- administration -------------------------------------------------------------------

    def count(self, name: str) -> None:
        self.counters[name] = self.counters.get(name, 0) + 1

    def add_agency(self, agency: Agency) -> None:
        self.directory[agency.code] = DirectoryEntry(agency, next(self._version), _now())

    def add_system(self, system: System) -> None:
        self.systems[system.system_id] = system

    def set_faults(self, faults: Faults) -> None:
        self.faults = faults

    def stats(self) -> dict[str, Any]:
        return {
            "counters": dict(self.counters),
            "stored_bytes": self.stored_bytes,
            "pending": {code: len(box) for code, box in self.mailboxes.items() if box},
            "sent_records": len(self.sent),
        }

    # -- LGSP tokens ------------------------------------------------------------------------

    def issue_token(self, system_id: str) -> tuple[str, int]:
        token = secrets.token_urlsafe(32)
        expires = _now() + timedelta(seconds=self.token_seconds)
        self.tokens[token] = Token(system_id=system_id, expires=expires)
        self.count("lgsp_tokens_issued")
        return token, self.token_seconds

    def token_valid(self, token: str, system_id: str) -> bool:
        found = self.tokens.get(token)
        if found is None or found.system_id != system_id:
            self.count("lgsp_token_unknown")
            return False
        if found.expires <= _now():
            self.count("lgsp_token_expired")
            del self.tokens[token]
            return False
        return True

    def expire_tokens(self) -> int:
        """Every token issued so far stops working now (as if half an hour had passed)."""
        past = _now() - timedelta(seconds=1)
        for token in self.tokens.values():
            token.expires = past
        return len(self.tokens)

    def secret_of(self, system_id: str) -> str | None:
        system = self.systems.get(system_id)
        return None if system is None else system.secret

    def _agencies_of(self, system_id: str) -> list[str]:
        return self.systems[system_id].agencies

    # -- directory --------------------------------------------------------------------------

    def agencies_list(self) -> list[dict[str, Any]]:
        return [
            {
                "id": entry.version,
                "code": entry.agency.code,
                "name": entry.agency.name,
                "pid": entry.agency.parent_code,
                "mail": entry.agency.mail,
                "oldCode": entry.agency.old_code,
            }
            for entry in self.directory.values()
            if not entry.deleted
        ]

    def agencies_list_qd20(self, level: str) -> list[dict[str, Any]]:
        rows = []
        for entry in self.directory.values():
            agency = entry.agency
            if entry.deleted or not agency.code_qd20:
                continue
            if level and agency.code_qd20.count(".") + 1 != int(level):
                continue
            rows.append(
                {
                    "id": entry.version,
                    "code": agency.code_qd20,
                    "code102": agency.code,
                    "name": agency.name,
                    "mail": agency.mail,
                }
            )
        return rows

    def synchronize_unit(self) -> list[dict[str, Any]]:
        return [
            {
                "id": entry.version,
                "code": entry.agency.code,
                "name": entry.agency.name,
                "pid": entry.agency.parent_code,
                "mail": entry.agency.mail,
                "version": entry.version,
                "centerCode": "",
                "deleted": entry.deleted,
                "modifyDate": entry.modified.strftime(TIME_FORMAT),
                "isAgency": True,
            }
            for entry in self.directory.values()
        ]

    def register_agency(self, system_id: str, body: dict[str, Any]) -> None:
        code = str(body.get("code", ""))
        if not code:
            raise AxisFailure(400, wire.PROCESSING_ERROR, "Thiếu mã đơn vị")
        self.add_agency(
            Agency(
                code=code,
                name=str(body.get("name", "")),
                parent_code=str(body.get("pcode", "")),
                mail=str(body.get("mail", "")),
            )
        )
        agencies = self._agencies_of(system_id)
        if code not in agencies:
            agencies.append(code)

    def delete_agency(self, system_id: str, code: str) -> None:
        agencies = self._agencies_of(system_id)
        entry = self.directory.get(code)
        if entry is None or code not in agencies:
            raise AxisFailure(400, wire.PROCESSING_ERROR, "Đơn vị không thuộc hệ thống")
        entry.deleted = True
        entry.version = next(self._version)
        entry.modified = _now()
        agencies.remove(code)

    # -- documents --------------------------------------------------------------------------

    def _recipients(self, params: dict[str, str], message_type: str, root: Any) -> list[str]:
        text = params.get("to", "")
        if text:
            try:
                recipients = json.loads(text)
            except ValueError as error:
                raise AxisFailure(400, wire.PROCESSING_ERROR, "Tham số to sai") from error
            if not isinstance(recipients, list) or not all(isinstance(r, str) for r in recipients):
                raise AxisFailure(400, wire.PROCESSING_ERROR, "Tham số to sai")
        elif message_type == "status":
            # A status goes back to the issuer of the document it is about (spec §3.4).
            issuer = _first_text(root, "ResponseFor", "OrganId")
            recipients = [issuer] if issuer else []
        else:
            recipients = []
        if not recipients:
            raise AxisFailure(400, wire.UNKNOWN_RECIPIENT, "Thiếu đơn vị nhận")
        for code in recipients:
            entry = self.directory.get(code)
            if entry is None:
                raise AxisFailure(400, wire.UNKNOWN_RECIPIENT, f"Đơn vị nhận không tồn tại: {code}")
            if entry.deleted:
                raise AxisFailure(400, wire.RECIPIENT_LOCKED, f"Đơn vị nhận đã khóa: {code}")
        return list(dict.fromkeys(recipients))

    def send(self, system_id: str, params: dict[str, str], data: bytes) -> str:
        message_type = params.get("messagetype", "").lower()
        service_type = params.get("servicetype", "")
        if message_type not in MESSAGE_TYPES or service_type.lower() != "edoc":
            raise AxisFailure(400, wire.PROCESSING_ERROR, "messagetype/servicetype không hợp lệ")
        sender = params.get("from", "")
        if sender not in self._agencies_of(system_id):
            raise AxisFailure(
                400, wire.SENDER_NOT_REGISTERED, f"Đơn vị gửi không đăng ký: {sender}"
            )
        if params.get("hash-file") != wire.sdk_hash_hex(data):
            raise AxisFailure(400, wire.INVALID_FILE, "File không hợp lệ: hash-file không khớp")
        root = _safe_root(data)
        recipients = self._recipients(params, message_type, root)
        copies = [
            code
            for code in recipients
            for _ in range(2 if self.rng.random() < self.faults.duplicate_rate else 1)
        ]
        if self.stored_bytes + len(data) * len(copies) > self.limits.max_stored_bytes or any(
            len(self.mailboxes.get(code, ())) >= self.limits.max_items_per_mailbox
            for code in copies
        ):
            raise AxisFailure(503, wire.SYSTEM_ERROR, "Lỗi hệ thống: hộp thư đầy")
        now = _now()
        record = SentRecord(
            sender_doc_id=_new_id(),
            from_code=sender,
            message_type=message_type,
            service_type=service_type,
            title=_first_text(root, "MessageHeader", "Subject"),
            notation=_first_text(root, "MessageHeader", "Code", "CodeNotation"),
            sent=now,
        )
        for code in copies:
            item = Item(
                doc_id=_new_id(),
                sender_doc_id=record.sender_doc_id,
                sequence=next(self._sequence),
                from_code=sender,
                to_code=code,
                message_type=message_type,
                service_type=service_type,
                created=now,
                data=data,
            )
            self.mailboxes.setdefault(code, OrderedDict())[item.doc_id] = item
            self.items[item.doc_id] = item
            self.stored_bytes += len(data)
            record.deliveries.append(item)
        if len(copies) > len(recipients):
            self.count("duplicated_deliveries")
        self.sent[record.sender_doc_id] = record
        while len(self.sent) > self.limits.max_sent_records:
            _, old = self.sent.popitem(last=False)
            for item in old.deliveries:
                if item.data is None:  # a pending delivery stays fetchable; its row goes
                    self.items.pop(item.doc_id, None)
        self.count("sent")
        return record.sender_doc_id

    def _pending(self, system_id: str, message_type: str) -> list[Item]:
        pending = [
            item
            for code in self._agencies_of(system_id)
            for item in self.mailboxes.get(code, {}).values()
            if item.message_type == message_type
        ]
        pending.sort(key=lambda item: item.sequence)
        return pending

    def received(self, system_id: str, params: dict[str, str]) -> list[dict[str, Any]]:
        message_type = params.get("messagetype", "edoc").lower()
        pending = self.listed(system_id, message_type)
        low, high = params.get("fromDate"), params.get("toDate")
        try:
            if low:
                start = datetime.strptime(low, TIME_FORMAT).replace(tzinfo=VIETNAM)
                pending = [item for item in pending if item.created >= start]
            if high:
                end = datetime.strptime(high, TIME_FORMAT).replace(tzinfo=VIETNAM)
                pending = [item for item in pending if item.created <= end]
        except ValueError as error:
            raise AxisFailure(
                400, wire.PROCESSING_ERROR, "fromDate/toDate sai định dạng"
            ) from error
        return [item.listing() for item in pending]

    def listed(self, system_id: str, message_type: str) -> list[Item]:
        """The items a received list shows: in order, unless the reorder fault is on."""
        pending = self._pending(system_id, message_type)
        if self.faults.reorder:
            self.rng.shuffle(pending)
        return pending

    def count_received(self, system_id: str, message_type: str) -> int:
        return len(self._pending(system_id, message_type.lower() or "edoc"))

    def _own_item(self, system_id: str, doc_id: str) -> Item:
        item = self.items.get(doc_id)
        if item is None or item.to_code not in self._agencies_of(system_id):
            raise AxisFailure(404, wire.PROCESSING_ERROR, f"Không tìm thấy văn bản {doc_id}")
        return item

    def fetch(self, system_id: str, doc_id: str) -> bytes:
        item = self._own_item(system_id, doc_id)
        if item.data is None:
            raise AxisFailure(404, wire.PROCESSING_ERROR, f"Văn bản {doc_id} đã được nhận xong")
        self.count("fetched")
        return item.data

    def update_status(self, system_id: str, doc_id: str, status: str, description: str) -> None:
        if status not in TRANSPORT_STATUSES:
            raise AxisFailure(400, wire.PROCESSING_ERROR, f"Trạng thái không hợp lệ: {status}")
        item = self._own_item(system_id, doc_id)
        item.status = status
        item.status_desc = description
        item.updated = _now()
        if status in FINAL_STATUSES and item.data is not None:
            self.stored_bytes -= len(item.data)
            item.data = None
            self.mailboxes[item.to_code].pop(item.doc_id, None)
        self.count(f"status_{status}")

    def sent_list(self, system_id: str, params: dict[str, str]) -> list[dict[str, Any]]:
        record = self.sent.get(params.get("docId", ""))
        if record is None or record.from_code not in self._agencies_of(system_id):
            raise AxisFailure(404, wire.PROCESSING_ERROR, "Không tìm thấy văn bản đã gửi")
        return [
            {
                "serviceType": record.service_type,
                "senderDocId": record.sender_doc_id,
                "receiverDocId": item.doc_id,
                "fromCode": record.from_code,
                "toCode": item.to_code,
                "title": record.title,
                "notation": record.notation,
                "messageType": record.message_type,
                "sentTime": record.sent.strftime(TIME_FORMAT),
                "receivedTime": item.updated.strftime(TIME_FORMAT) if item.updated else "",
                "sendStatus": "done",
                "sendStatusDesc": "",
                "receiveStatus": item.status,
                "receiveStatusDesc": item.status_desc,
            }
            for item in record.deliveries
        ]
