"""XML-DSig of the packet (spec §1.8): signed packets verify and name their signer; any change
after signing is refused; the official sample's layout (edXML namespace, SHA-1, inclusive c14n)
verifies too."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree  # type: ignore[import-untyped]

from services.interchange.edxml import (
    EdxmlError,
    SigningIdentity,
    build_document,
    build_status,
    parse_document,
    read_document,
    read_status,
)
from services.interchange.edxml.signature import RSA_SHA1, RSA_SHA256
from tests.interchange import samples

SIGNATURE_PATH = "edXML/edXMLEnvelope/edXMLHeader/Signature"


def refusal(data: bytes) -> EdxmlError:
    with pytest.raises(EdxmlError) as caught:
        parse_document(data)
    return caught.value


def test_signed_document_reads_back_with_its_signer(identity: SigningIdentity) -> None:
    packet = samples.new_document()
    received = read_document(build_document(packet, signer=identity))
    assert received.packet == packet
    assert received.signature is not None
    certificate = identity.certificate
    assert received.signature.subject == certificate.subject.rfc4514_string()
    assert "Văn thư UBND tỉnh Nghệ An" in received.signature.subject
    assert received.signature.serial_number == f"{certificate.serial_number:x}"
    assert received.signature.fingerprint_sha256 == certificate.fingerprint(hashes.SHA256()).hex()
    assert received.signature.certificate == certificate.public_bytes(Encoding.DER)
    assert received.signature.signature_method == RSA_SHA256


def test_signed_status_reads_back_with_its_signer(identity: SigningIdentity) -> None:
    status = samples.status()
    received = read_status(build_status(status, signer=identity))
    assert received.packet == status
    assert received.signature is not None


def test_signature_replaces_the_empty_placeholder(identity: SigningIdentity) -> None:
    data = build_document(samples.revoke_document(), signer=identity)
    assert b"DigitalSignature" not in data
    header_end = data.index(b"</edXML:edXMLHeader>")
    assert data.rindex(b'<Signature xmlns="http://www.w3.org/2000/09/xmldsig#">', 0, header_end) > 0
    assert data.index(b"</Signature></edXML:edXMLHeader>") > 0


def test_unsigned_packet_has_no_signature() -> None:
    assert read_document(build_document(samples.new_document())).signature is None


def test_changed_subject_is_detected(identity: SigningIdentity) -> None:
    data = build_document(samples.new_document(), signer=identity)
    tampered = data.replace("V/v báo cáo".encode(), "V/v huỷ bỏ".encode(), 1)
    error = refusal(tampered)
    assert error.reason == "signature-invalid"
    assert error.path == f"{SIGNATURE_PATH}/SignedInfo/Reference[1]"


def test_changed_attachment_is_detected(identity: SigningIdentity) -> None:
    data = build_document(samples.new_document(), signer=identity)
    start = data.index(b"JVBERi0xLjcK") + 40  # inside the first attachment's base64
    swapped = b"A" if data[start : start + 1] != b"A" else b"B"
    assert refusal(data[:start] + swapped + data[start + 1 :]).reason == "signature-invalid"


def test_changed_signature_value_is_detected(identity: SigningIdentity) -> None:
    data = build_document(samples.new_document(), signer=identity)
    start = data.index(b"<SignatureValue>") + len(b"<SignatureValue>")
    swapped = b"A" if data[start : start + 1] != b"A" else b"B"
    error = refusal(data[:start] + swapped + data[start + 1 :])
    assert (error.reason, error.path) == ("signature-invalid", f"{SIGNATURE_PATH}/SignatureValue")


def test_another_certificate_does_not_verify(
    identity: SigningIdentity, other_identity: SigningIdentity
) -> None:
    data = build_document(samples.new_document(), signer=identity)
    mine = base64.b64encode(identity.certificate.public_bytes(Encoding.DER))
    theirs = base64.b64encode(other_identity.certificate.public_bytes(Encoding.DER))
    assert refusal(data.replace(mine, theirs)).reason == "signature-invalid"


def test_reference_to_a_fragment_is_refused(identity: SigningIdentity) -> None:
    data = build_document(samples.new_document(), signer=identity)
    assert refusal(data.replace(b'<Reference URI="">', b'<Reference URI="#x">')).reason == (
        "signature-unsupported"
    )


def test_two_signatures_are_refused(identity: SigningIdentity) -> None:
    data = build_document(samples.new_document(), signer=identity)
    start = data.index(b"<Signature ")
    end = data.index(b"</Signature>") + len(b"</Signature>")
    doubled = data[:end] + data[start:end] + data[end:]
    assert refusal(doubled).reason == "signature-invalid"


def test_official_sample_layout_verifies(identity: SigningIdentity) -> None:
    """Signed here independently, as the VPCP sample lays it out [S1]: `Signature` in the edXML
    default namespace, pretty-printed, SignedInfo by inclusive c14n, RSA-SHA1 and SHA-1."""
    packet = samples.new_document()
    unsigned = build_document(packet)
    gap_before, gap_after = b"\n      ", b"\n    "
    # The enveloped transform removes the element, not the whitespace around it.
    without = unsigned.replace(b"<edXML:DigitalSignature/>", gap_before + gap_after)
    digest = hashlib.sha1(  # noqa: S324 (the sample's algorithm, verified not chosen)
        etree.tostring(etree.fromstring(without).getroottree(), method="c14n", exclusive=True)
    ).digest()
    signed_info = (
        "<SignedInfo>"
        '<CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>'
        '<SignatureMethod Algorithm="http://www.w3.org/2000/09/xmldsig#rsa-sha1"/>'
        '<Reference URI=""><Transforms>'
        '<Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>'
        '<Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></Transforms>'
        '<DigestMethod Algorithm="http://www.w3.org/2000/09/xmldsig#sha1"/>'
        f"<DigestValue>{base64.b64encode(digest).decode()}</DigestValue>"
        "</Reference></SignedInfo>"
    )
    der = base64.b64encode(identity.certificate.public_bytes(Encoding.DER)).decode()
    element = (
        f"<Signature>{signed_info}<SignatureValue>VALUE</SignatureValue><KeyInfo><X509Data>"
        f"<X509SubjectName>CN=x</X509SubjectName><X509Certificate>{der}</X509Certificate>"
        "</X509Data></KeyInfo></Signature>"
    ).encode()
    draft = unsigned.replace(b"<edXML:DigitalSignature/>", gap_before + element + gap_after)
    in_context = etree.fromstring(draft).find(".//{*}SignedInfo")
    canonical = etree.tostring(in_context, method="c14n")  # inclusive: inherits xmlns, xmlns:edXML
    value = identity.private_key.sign(canonical, padding.PKCS1v15(), hashes.SHA1())  # noqa: S303
    final = draft.replace(b"VALUE", base64.b64encode(value))

    received = read_document(final)
    assert received.packet == packet
    assert received.signature is not None
    assert received.signature.signature_method == RSA_SHA1
