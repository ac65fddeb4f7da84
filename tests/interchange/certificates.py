"""Keys and certificates for the packet-signing tests, made with `cryptography`: a small CA and
agency certificates under it, good and bad in each of the ways an operator can get one wrong,
and the two forms the connector API takes them in (PKCS#12 in base64, PEM)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Ban Cơ yếu Chính phủ (thử nghiệm)"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _usage(digital_signature: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=True,
        key_encipherment=not digital_signature,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


class Ca:
    """A test CA that issues agency certificates."""

    def __init__(self, common_name: str = "CA chuyên dùng Chính phủ thử nghiệm") -> None:
        self.key = rsa_key()
        self.name = name(common_name)
        now = datetime.now(UTC)
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(self.name)
            .issuer_name(self.name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=30))
            .not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(self.key, hashes.SHA256())
        )

    def issue(
        self,
        key: PrivateKey,
        common_name: str,
        *,
        valid_from: timedelta = timedelta(days=-1),
        valid_to: timedelta = timedelta(days=365),
        digital_signature: bool = True,
    ) -> x509.Certificate:
        """A certificate for `key`, valid from now+valid_from to now+valid_to."""
        now = datetime.now(UTC)
        return (
            x509.CertificateBuilder()
            .subject_name(name(common_name))
            .issuer_name(self.name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now + valid_from)
            .not_valid_after(now + valid_to)
            .add_extension(_usage(digital_signature), critical=True)
            .sign(self.key, hashes.SHA256())
        )


def pkcs12_body(
    key: PrivateKey, certificate: x509.Certificate, chain: list[x509.Certificate], password: str
) -> dict[str, Any]:
    data = pkcs12.serialize_key_and_certificates(
        b"packet-signing",
        key,
        certificate,
        chain or None,
        serialization.BestAvailableEncryption(password.encode()),
    )
    return {"pkcs12": base64.b64encode(data).decode(), "password": password}


def pem_body(key: PrivateKey, chain: list[x509.Certificate]) -> dict[str, Any]:
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    chain_pem = "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in chain)
    return {"private_key_pem": key_pem, "certificate_chain_pem": chain_pem}
