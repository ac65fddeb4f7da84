"""Reading untrusted XML safely, and walking it by local names with element paths for errors.

The approach of `services/storage/objects/inspection.py`: no DTD at all (which closes billion
laughs and external entities at once), no network, and a size limit checked before the bytes
are read. The DOCTYPE check here is a scan of the prolog, the only place a DOCTYPE may stand,
so the document can then be parsed into a tree in one C call; the parser is also configured to
load nothing and expand nothing, should the scan ever be wrong. `huge_tree` lifts libxml2's
10 MB limit on one text node, which a base64 attachment exceeds; the size limit bounds it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import IO, Any

# lxml ships no type information; elements stay inside `Node`, whose methods are typed.
from lxml import etree  # type: ignore[import-untyped]

from services.interchange.edxml import errors
from services.interchange.edxml.errors import EdxmlError

Source = bytes | bytearray | memoryview | IO[bytes]

_READ_CHUNK = 1 << 20
_UTF8_BOM = b"\xef\xbb\xbf"
_WHITESPACE = b" \t\r\n"
_ENCODING = re.compile(rb"""encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


def read_limited(source: Source, max_bytes: int, declared_size: int | None = None) -> bytes:
    """The packet's bytes, refused as soon as they (or the size announced for them, such as a
    Content-Length) exceed `max_bytes`: a stream is read at most `max_bytes + 1` bytes far."""
    if declared_size is not None and declared_size > max_bytes:
        raise errors.too_large(max_bytes, declared_size, announced=True)
    if isinstance(source, bytes | bytearray | memoryview):
        if len(source) > max_bytes:
            raise errors.too_large(max_bytes, len(source))
        return bytes(source)
    buffer = bytearray()
    while chunk := source.read(min(_READ_CHUNK, max_bytes + 1 - len(buffer))):
        buffer += chunk
        if len(buffer) > max_bytes:
            raise errors.too_large(max_bytes)
    return bytes(buffer)


def _refuse(detail_vi: str, detail_en: str, reason: str) -> EdxmlError:
    return EdxmlError(detail_vi, detail_en, reason=reason)


def check_prolog(data: bytes) -> None:
    """Refuse a DOCTYPE (and anything not UTF-8) before the parser sees the document.

    XML allows only the declaration, comments, processing instructions and whitespace before
    the root element, and a DOCTYPE only there (XML 1.0 §2.8); later, it is a syntax error."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00<", b"<\x00")):
        raise _refuse(
            "Gói tin phải mã hoá UTF-8.", "The packet must be encoded in UTF-8.", "encoding"
        )
    position = len(_UTF8_BOM) if data.startswith(_UTF8_BOM) else 0
    size = len(data)
    while position < size:
        if data[position] in _WHITESPACE:
            position += 1
        elif data.startswith(b"<?", position):
            end = data.find(b"?>", position + 2)
            if end < 0:
                return  # unterminated: the parser reports it with a line and column
            if data.startswith(b"<?xml", position) and data[position + 5 : position + 6] in (
                b" ",
                b"\t",
                b"\r",
                b"\n",
            ):
                declared = _ENCODING.search(data, position, end)
                if declared and declared.group(1).lower() not in (b"utf-8", b"utf8"):
                    raise _refuse(
                        "Gói tin phải mã hoá UTF-8.",
                        "The packet must be encoded in UTF-8.",
                        "encoding",
                    )
            position = end + 2
        elif data.startswith(b"<!--", position):
            end = data.find(b"-->", position + 4)
            if end < 0:
                return
            position = end + 3
        elif data.startswith(b"<!", position):
            raise _refuse(
                "Gói tin chứa khai báo DOCTYPE; không nhận XML có DTD hay thực thể.",
                "The packet has a DOCTYPE declaration; XML with a DTD or entities is refused.",
                "doctype",
            )
        else:
            return


def parse_xml(data: bytes) -> Any:
    """The root element of a well-formed, DTD-free UTF-8 document."""
    check_prolog(data)
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=True,
        remove_comments=False,  # comments and PIs stay: a signature's c14n may need them
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as error:
        raise _refuse(
            f"XML sai cú pháp: {error}", f"Malformed XML: {error}", "malformed"
        ) from error
    if root.getroottree().docinfo.doctype:
        raise _refuse(
            "Gói tin chứa khai báo DOCTYPE; không nhận XML có DTD hay thực thể.",
            "The packet has a DOCTYPE declaration; XML with a DTD or entities is refused.",
            "doctype",
        )
    return root


def local_name(element: Any) -> str | None:
    """`{namespace}Name` -> `Name`; None for comments and processing instructions."""
    tag = element.tag
    if not isinstance(tag, str):
        return None
    return tag.rpartition("}")[2]


class Node:
    """An element with its path from the root, looked up by local name whatever its namespace:
    senders differ in prefixes and a few write elements unprefixed (spec §1.3, §2.1)."""

    __slots__ = ("_children", "element", "path")

    def __init__(self, element: Any, path: str) -> None:
        self.element = element
        self.path = path
        self._children: dict[str, list[Any]] | None = None

    @property
    def name(self) -> str:
        return local_name(self.element) or ""

    def _index(self) -> dict[str, list[Any]]:
        if self._children is None:
            index: dict[str, list[Any]] = {}
            for child in self.element:
                name = local_name(child)
                if name is not None:
                    index.setdefault(name, []).append(child)
            self._children = index
        return self._children

    def _find(self, names: tuple[str, ...]) -> tuple[str, list[Any]]:
        index = self._index()
        for name in names:
            if name in index:
                return name, index[name]
        return names[0], []

    def optional(self, *names: str) -> Node | None:
        """The one child of that name (the first name found wins for alternative spellings)."""
        name, found = self._find(names)
        if len(found) > 1:
            raise errors.duplicate(f"{self.path}/{name}")
        return Node(found[0], f"{self.path}/{name}") if found else None

    def required(self, *names: str) -> Node:
        node = self.optional(*names)
        if node is None:
            raise errors.missing(f"{self.path}/{names[0]}")
        return node

    def repeated(self, name: str) -> list[Node]:
        """Every child of that name, each path indexed from 1: `To[2]`."""
        _, found = self._find((name,))
        return [Node(child, f"{self.path}/{name}[{i}]") for i, child in enumerate(found, 1)]

    def text(self) -> str:
        """The element's text, "" when empty; child elements are not part of it."""
        text = self.element.text
        return "" if text is None else str(text)

    def optional_text(self, name: str) -> str | None:
        node = self.optional(name)
        return None if node is None else node.text()

    def required_text(self, name: str) -> str:
        return self.required(name).text()

    def descendants(self, *names: str) -> Iterator[Node]:
        """Elements of those names anywhere below, with paths (for blocks found by name)."""
        wanted = set(names)
        for element in self.element.iterdescendants():
            name = local_name(element)
            if name in wanted:
                yield Node(element, _path_of(element))


def _path_of(element: Any) -> str:
    names: list[str] = []
    while element is not None:
        names.append(local_name(element) or "?")
        element = element.getparent()
    return "/".join(reversed(names))
