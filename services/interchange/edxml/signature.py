"""XML-DSig of an edXML packet (spec §1.8; conventions, choice 9), with lxml's c14n and
`cryptography`, without a dedicated XML-DSig library: the profile is one fixed shape.

Signing: one `Reference URI=""` (the whole document) with the transforms `enveloped-signature`
and exclusive c14n, digest SHA-256, `SignedInfo` canonicalised by exclusive c14n and signed
RSA PKCS#1 v1.5 SHA-256, the certificate in `KeyInfo/X509Data`.

Verifying accepts what senders are known to write and nothing looser: exactly one signature in
`edXMLHeader`, in the XML-DSig namespace or the edXML one (the official sample's), one
reference to the whole document (no `#id` references, so no signature-wrapping games), the
enveloped transform first, inclusive or exclusive c14n, SHA-256 or the sample's SHA-1, RSA.
The result names the certificate that signed; whether that certificate is trusted (its chain,
its validity on the signing date, revocation) is the caller's decision, not the codec's."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import msgspec
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding

# lxml ships no type information (see parsing.py).
from lxml import etree  # type: ignore[import-untyped]

from services.interchange.edxml.conventions import DSIG_NAMESPACE
from services.interchange.edxml.errors import EdxmlError, quote
from services.interchange.edxml.parsing import Node, local_name, parse_xml

C14N: Final = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
C14N_WITH_COMMENTS: Final = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments"
EXC_C14N: Final = "http://www.w3.org/2001/10/xml-exc-c14n#"
EXC_C14N_WITH_COMMENTS: Final = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments"
ENVELOPED: Final = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
RSA_SHA256: Final = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
RSA_SHA1: Final = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
SHA256: Final = "http://www.w3.org/2001/04/xmlenc#sha256"
SHA1: Final = "http://www.w3.org/2000/09/xmldsig#sha1"

# algorithm -> (exclusive, with comments)
_CANONICALISATIONS: Final = {
    C14N: (False, False),
    C14N_WITH_COMMENTS: (False, True),
    EXC_C14N: (True, False),
    EXC_C14N_WITH_COMMENTS: (True, True),
}
_SIGNATURE_HASHES: Final[dict[str, type[hashes.HashAlgorithm]]] = {
    RSA_SHA256: hashes.SHA256,
    RSA_SHA1: hashes.SHA1,
}
_DIGESTS: Final = {SHA256: "sha256", SHA1: "sha1"}
_ESCAPES: Final = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})


@dataclass(frozen=True)
class SigningIdentity:
    """The agency's key and certificate that sign outgoing packets."""

    private_key: rsa.RSAPrivateKey
    certificate: x509.Certificate


class VerifiedSignature(msgspec.Struct, frozen=True, kw_only=True):
    """A packet's valid signature: who signed (as the certificate says) and how."""

    subject: str  # RFC 4514
    issuer: str
    serial_number: str  # hex
    fingerprint_sha256: str  # hex, of the DER certificate
    not_before: datetime
    not_after: datetime
    signature_method: str
    digest_method: str
    certificate: bytes  # DER

    def __repr__(self) -> str:
        return f"VerifiedSignature(subject={self.subject!r}, serial={self.serial_number})"


def _invalid(
    detail_vi: str, detail_en: str, path: str, reason: str = "signature-invalid"
) -> EdxmlError:
    return EdxmlError(detail_vi, detail_en, reason=reason, path=path)


def _unsupported(path: str, algorithm: str) -> EdxmlError:
    return _invalid(
        f"thuật toán {quote(algorithm)} không được hỗ trợ.",
        f"algorithm {quote(algorithm)} is not supported.",
        path,
        reason="signature-unsupported",
    )


class _Digest:
    """A write-only file that hashes what lxml's c14n writes into it."""

    def __init__(self, name: str) -> None:
        self.hash = hashlib.new(name)

    def write(self, data: bytes) -> int:
        self.hash.update(data)
        return len(data)


def _document_digest(
    root: Any, digest: str, exclusive: bool, with_comments: bool, prefixes: list[str] | None
) -> bytes:
    sink = _Digest(digest)
    root.getroottree().write_c14n(
        sink, exclusive=exclusive, with_comments=with_comments, inclusive_ns_prefixes=prefixes
    )
    return sink.hash.digest()


def _canonical(element: Any, exclusive: bool, with_comments: bool) -> bytes:
    return bytes(
        etree.tostring(element, method="c14n", exclusive=exclusive, with_comments=with_comments)
    )


# ---------------------------------------------------------------------------------------------
# Signing


def sign(unsigned: bytes, identity: SigningIdentity) -> bytes:
    """The `Signature` element for `unsigned`, to be placed as the last child of its
    `edXMLHeader` (where the writer leaves the slot)."""
    root = parse_xml(unsigned)
    digest = _document_digest(root, "sha256", exclusive=True, with_comments=False, prefixes=None)
    signed_info = (
        "<SignedInfo>"
        f'<CanonicalizationMethod Algorithm="{EXC_C14N}"></CanonicalizationMethod>'
        f'<SignatureMethod Algorithm="{RSA_SHA256}"></SignatureMethod>'
        '<Reference URI=""><Transforms>'
        f'<Transform Algorithm="{ENVELOPED}"></Transform>'
        f'<Transform Algorithm="{EXC_C14N}"></Transform>'
        f'</Transforms><DigestMethod Algorithm="{SHA256}"></DigestMethod>'
        f"<DigestValue>{base64.b64encode(digest).decode()}</DigestValue>"
        "</Reference></SignedInfo>"
    )
    opening = f'<Signature xmlns="{DSIG_NAMESPACE}">'
    # Canonicalised as it will stand in the document: exclusive c14n makes that independent
    # of the ancestors, so the fragment alone gives the same bytes.
    fragment = etree.fromstring(f"{opening}{signed_info}</Signature>".encode())
    value = identity.private_key.sign(
        _canonical(fragment[0], exclusive=True, with_comments=False),
        padding.PKCS1v15(),
        hashes.SHA256(),
    )
    certificate = identity.certificate
    subject = certificate.subject.rfc4514_string().translate(_ESCAPES)
    der = base64.b64encode(certificate.public_bytes(Encoding.DER)).decode()
    return (
        f"{opening}{signed_info}"
        f"<SignatureValue>{base64.b64encode(value).decode()}</SignatureValue>"
        f"<KeyInfo><X509Data><X509SubjectName>{subject}</X509SubjectName>"
        f"<X509Certificate>{der}</X509Certificate></X509Data></KeyInfo>"
        "</Signature>"
    ).encode()


# ---------------------------------------------------------------------------------------------
# Verifying


def _b64(node: Node) -> bytes:
    try:
        return base64.b64decode("".join(node.text().split()), validate=True)
    except (binascii.Error, ValueError) as error:
        raise _invalid("không phải base64 hợp lệ.", "is not valid base64.", node.path) from error


def _algorithm(node: Node) -> str:
    return str(node.element.get("Algorithm", ""))


def find_signature(header: Node) -> Node | None:
    """The header's signature: a `Signature` child of `edXMLHeader`, or inside its
    `DigitalSignature`; an empty `DigitalSignature` means an unsigned packet."""
    found = [
        node
        for node in header.descendants("Signature")
        if local_name(node.element.getparent()) in ("edXMLHeader", "DigitalSignature")
    ]
    if len(found) > 1:
        raise _invalid(
            "gói tin có nhiều hơn một chữ ký.",
            "the packet carries more than one signature.",
            header.path,
        )
    return found[0] if found else None


def verify(root: Any, signature: Node) -> VerifiedSignature:
    """Check `signature` over the document of `root`; raise `EdxmlError` unless it holds."""
    signed_info = signature.required("SignedInfo")
    method = signed_info.required("CanonicalizationMethod")
    if _algorithm(method) not in _CANONICALISATIONS:
        raise _unsupported(method.path, _algorithm(method))
    info_exclusive, info_comments = _CANONICALISATIONS[_algorithm(method)]
    signature_method = signed_info.required("SignatureMethod")
    hash_type = _SIGNATURE_HASHES.get(_algorithm(signature_method))
    if hash_type is None:
        raise _unsupported(signature_method.path, _algorithm(signature_method))
    references = signed_info.repeated("Reference")
    if len(references) != 1 or references[0].element.get("URI") != "":
        raise _invalid(
            'chữ ký phải có đúng một Reference URI="" (toàn bộ gói tin).',
            'the signature must have exactly one Reference URI="" (the whole packet).',
            signed_info.path,
            reason="signature-unsupported",
        )
    reference = references[0]
    transforms = reference.required("Transforms").repeated("Transform")
    if not transforms or _algorithm(transforms[0]) != ENVELOPED or len(transforms) > 2:
        raise _invalid(
            "Transforms phải là enveloped-signature, có thể kèm một phép c14n.",
            "Transforms must be enveloped-signature, optionally followed by one c14n.",
            reference.path,
            reason="signature-unsupported",
        )
    exclusive, comments, prefixes = False, False, None
    if len(transforms) == 2:
        algorithm = _algorithm(transforms[1])
        if algorithm not in _CANONICALISATIONS:
            raise _unsupported(transforms[1].path, algorithm)
        exclusive, comments = _CANONICALISATIONS[algorithm]
        inclusive = transforms[1].optional("InclusiveNamespaces")
        if inclusive is not None:
            prefixes = str(inclusive.element.get("PrefixList", "")).split()
    digest_method = reference.required("DigestMethod")
    digest_name = _DIGESTS.get(_algorithm(digest_method))
    if digest_name is None:
        raise _unsupported(digest_method.path, _algorithm(digest_method))
    expected = _b64(reference.required("DigestValue"))
    value = _b64(signature.required("SignatureValue"))
    certificate_node = (
        signature.required("KeyInfo").required("X509Data").required("X509Certificate")
    )
    try:
        certificate = x509.load_der_x509_certificate(_b64(certificate_node))
    except ValueError as error:
        raise _invalid(
            "chứng thư số không đọc được.", "the certificate cannot be read.", certificate_node.path
        ) from error
    public_key = certificate.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise _invalid(
            "chỉ nhận chứng thư số khoá RSA.",
            "only certificates with an RSA key are accepted.",
            certificate_node.path,
            reason="signature-unsupported",
        )

    # Canonicalised before the digest: taking the signature out of the tree and putting it
    # back lets lxml re-prefix the element (its namespace may have two prefixes here).
    canonical_info = _canonical(signed_info.element, info_exclusive, info_comments)
    actual = _digest_without(root, signature.element, digest_name, exclusive, comments, prefixes)
    if not hmac.compare_digest(actual, expected):
        raise _invalid(
            "nội dung gói tin đã bị thay đổi sau khi ký.",
            "the packet was changed after it was signed.",
            reference.path,
        )
    try:
        public_key.verify(value, canonical_info, padding.PKCS1v15(), hash_type())
    except InvalidSignature as error:
        raise _invalid(
            "giá trị chữ ký không khớp với chứng thư số.",
            "the signature value does not match the certificate.",
            f"{signature.path}/SignatureValue",
        ) from error
    return VerifiedSignature(
        subject=certificate.subject.rfc4514_string(),
        issuer=certificate.issuer.rfc4514_string(),
        serial_number=f"{certificate.serial_number:x}",
        fingerprint_sha256=certificate.fingerprint(hashes.SHA256()).hex(),
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
        signature_method=_algorithm(signature_method),
        digest_method=_algorithm(digest_method),
        certificate=certificate.public_bytes(Encoding.DER),
    )


def _digest_without(
    root: Any,
    signature: Any,
    digest: str,
    exclusive: bool,
    with_comments: bool,
    prefixes: list[str] | None,
) -> bytes:
    """The digest of the document with the signature element taken out (the enveloped
    transform). lxml keeps the text after an element as the element's `tail`; that text is not
    part of the signature, so it stays in the document. The element is put back afterwards,
    possibly with other prefixes for the same namespaces: nothing reads its form again."""
    parent = signature.getparent()
    index = parent.index(signature)
    previous = signature.getprevious()
    tail = signature.tail
    saved = previous.tail if previous is not None else parent.text
    if tail:
        if previous is not None:
            previous.tail = (saved or "") + tail
        else:
            parent.text = (saved or "") + tail
    parent.remove(signature)
    try:
        return _document_digest(root, digest, exclusive, with_comments, prefixes)
    finally:
        if previous is not None:
            previous.tail = saved
        else:
            parent.text = saved
        signature.tail = tail
        parent.insert(index, signature)
