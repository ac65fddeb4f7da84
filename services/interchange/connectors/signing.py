"""The agency's packet-signing identity (spec §1.8): the RSA key and certificate that sign every
edXML packet it sends, held with its connector.

Operators give it once, as a PKCS#12 file with its password or as a PEM key with its PEM
certificate chain. It is checked before anything is stored (the key matches the certificate, the
certificate is valid now and allows digitalSignature, the key is RSA: the only key XML-DSig's
profile here signs with), then the key is kept like the axis secret, Fernet-encrypted
(`secrets.py`), and the chain in clear (certificates are public). Nothing of the key ever
comes back: a view names the certificate only.

Packets are signed when they are built (`packet_signer`), so the bytes kept and sent are the
bytes signed. A certificate that expired since it was set is not used: the packet goes unsigned
and a warning is logged, because the axis does not require the packet signature (spec §1.8)
while a document must not wait for a renewal; the connector's view shows the validity."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import logging
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

import msgspec
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from msgspec import UNSET, UnsetType
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.problems import InvalidInput, Problem
from services.interchange.connectors.secrets import SecretBox, SecretUnreadable
from services.interchange.edxml import SigningIdentity
from services.interchange.tables import connector

if TYPE_CHECKING:
    from services.interchange.context import Context

logger = logging.getLogger("qlvb.interchange.signing")

# A PKCS#12 file or a PEM chain of a few certificates is a few kilobytes; 256 KiB of base64 is
# far more than any real one and bounds what is parsed.
_MAX_TEXT = 256 << 10
Pkcs12Text = Annotated[str, msgspec.Meta(min_length=1, max_length=_MAX_TEXT)]
PemText = Annotated[str, msgspec.Meta(min_length=1, max_length=_MAX_TEXT)]
Password = Annotated[str, msgspec.Meta(max_length=1000)]


class SigningRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Either `pkcs12` (base64 of the .p12/.pfx file) with its `password`, or
    `private_key_pem` with `certificate_chain_pem` (the signer's certificate first; `password`
    if the PEM key is encrypted)."""

    pkcs12: Pkcs12Text | UnsetType = UNSET
    password: Password | UnsetType = UNSET
    private_key_pem: PemText | UnsetType = UNSET
    certificate_chain_pem: PemText | UnsetType = UNSET


class SigningView(msgspec.Struct, kw_only=True):
    """The certificate that signs the agency's packets; never anything of the key."""

    subject: str  # RFC 4514
    issuer: str
    serial_number: str  # hex
    not_before: dt.datetime
    not_after: dt.datetime


class SigningIdentityRefused(Problem):
    status: ClassVar[int] = 422
    code: ClassVar[str] = "signing-identity-invalid"
    title_vi: ClassVar[str] = "Không dùng được khoá và chứng thư số để ký gói tin"
    title_en: ClassVar[str] = "The packet-signing key and certificate cannot be used"

    def __init__(self, reason: str, detail_vi: str, detail_en: str) -> None:
        super().__init__(detail_vi, detail_en, reason=reason)
        self.reason = reason


@dataclass(frozen=True)
class Parsed:
    key: Any  # a private key of any kind, until `check` has seen it is RSA
    chain: list[x509.Certificate]  # the signer's certificate first


# ---------------------------------------------------------------------------------------------
# Reading what the operator gave


def _looks_like_pfx(data: bytes) -> bool:
    """A DER `PFX ::= SEQUENCE { version INTEGER (3), ... }` (RFC 7292): the bytes are a
    PKCS#12 file, so a failure to open it is the password's. cryptography says "invalid
    password or PKCS12 data" for both."""
    if len(data) < 8 or data[0] != 0x30:
        return False
    length = data[1]
    offset = 2 + (length & 0x7F if length & 0x80 else 0)
    return data[offset : offset + 3] == b"\x02\x01\x03"


def _from_pkcs12(encoded: str, password: str | None) -> Parsed:
    try:
        data = base64.b64decode("".join(encoded.split()), validate=True)
    except (binascii.Error, ValueError) as error:
        raise SigningIdentityRefused(
            "unreadable",
            "Trường pkcs12 không phải base64 hợp lệ.",
            "The pkcs12 field is not valid base64.",
        ) from error
    try:
        loaded = pkcs12.load_pkcs12(data, password.encode() if password is not None else None)
    except UnsupportedAlgorithm as error:
        raise SigningIdentityRefused(
            "unreadable",
            "Tệp PKCS#12 dùng thuật toán không được hỗ trợ.",
            "The PKCS#12 file uses an unsupported algorithm.",
        ) from error
    except ValueError as error:
        if _looks_like_pfx(data):
            raise SigningIdentityRefused(
                "wrong-password",
                "Mật khẩu của tệp PKCS#12 không đúng.",
                "The PKCS#12 password is wrong.",
            ) from error
        raise SigningIdentityRefused(
            "unreadable", "Tệp không phải PKCS#12.", "The file is not PKCS#12."
        ) from error
    if loaded.key is None or loaded.cert is None:
        raise SigningIdentityRefused(
            "incomplete",
            "Tệp PKCS#12 phải chứa cả khoá bí mật và chứng thư số.",
            "The PKCS#12 file must hold both the private key and its certificate.",
        )
    extra = [entry.certificate for entry in loaded.additional_certs]
    return Parsed(key=loaded.key, chain=[loaded.cert.certificate, *extra])


def _from_pem(key_pem: str, chain_pem: str, password: str | None) -> Parsed:
    try:
        key = serialization.load_pem_private_key(
            key_pem.encode(), password.encode() if password is not None else None
        )
    except TypeError as error:  # encrypted without a password, or a password for a clear key
        raise SigningIdentityRefused(
            "wrong-password",
            "Khoá PEM được mã hoá thì cần mật khẩu; khoá không mã hoá thì bỏ mật khẩu.",
            "An encrypted PEM key needs its password; a clear one takes none.",
        ) from error
    except (ValueError, UnsupportedAlgorithm) as error:
        raise SigningIdentityRefused(
            "unreadable",
            "Không đọc được khoá bí mật PEM (hoặc mật khẩu không đúng).",
            "The PEM private key cannot be read (or its password is wrong).",
        ) from error
    try:
        chain = x509.load_pem_x509_certificates(chain_pem.encode())
    except ValueError as error:
        chain = []
        cause: Exception | None = error
    else:
        cause = None
    if not chain:
        raise SigningIdentityRefused(
            "unreadable",
            "Không đọc được chuỗi chứng thư số PEM.",
            "The PEM certificate chain cannot be read.",
        ) from cause
    return Parsed(key=key, chain=chain)


def parse(body: SigningRequest) -> Parsed:
    password = body.password if isinstance(body.password, str) else None
    if isinstance(body.pkcs12, str):
        if not isinstance(body.private_key_pem, UnsetType) or not isinstance(
            body.certificate_chain_pem, UnsetType
        ):
            raise InvalidInput(
                "Chỉ gửi một dạng: pkcs12, hoặc private_key_pem cùng certificate_chain_pem.",
                "Send one form only: pkcs12, or private_key_pem with certificate_chain_pem.",
            )
        return _from_pkcs12(body.pkcs12, password)
    if isinstance(body.private_key_pem, str) and isinstance(body.certificate_chain_pem, str):
        return _from_pem(body.private_key_pem, body.certificate_chain_pem, password)
    raise InvalidInput(
        "Cần pkcs12 (kèm password), hoặc private_key_pem cùng certificate_chain_pem.",
        "Send pkcs12 (with its password), or private_key_pem with certificate_chain_pem.",
    )


def check(parsed: Parsed, now: dt.datetime) -> SigningIdentity:
    """The identity, if it can sign packets now; otherwise why not."""
    key = parsed.key
    certificate = parsed.chain[0]
    public_key = certificate.public_key()
    if not isinstance(key, rsa.RSAPrivateKey) or not isinstance(public_key, rsa.RSAPublicKey):
        raise SigningIdentityRefused(
            "not-rsa",
            "Chỉ nhận khoá RSA (chữ ký gói tin là RSA-SHA256).",
            "Only RSA keys are accepted (packets are signed RSA-SHA256).",
        )
    if key.public_key().public_numbers() != public_key.public_numbers():
        raise SigningIdentityRefused(
            "key-mismatch",
            "Khoá bí mật không khớp với chứng thư số.",
            "The private key does not match the certificate.",
        )
    not_before = certificate.not_valid_before_utc
    not_after = certificate.not_valid_after_utc
    if now < not_before:
        raise SigningIdentityRefused(
            "not-yet-valid",
            f"Chứng thư số chưa có hiệu lực (từ {not_before:%d/%m/%Y %H:%M} UTC).",
            f"The certificate is not valid yet (from {not_before:%Y-%m-%d %H:%M} UTC).",
        )
    if now > not_after:
        raise SigningIdentityRefused(
            "expired",
            f"Chứng thư số đã hết hiệu lực (ngày {not_after:%d/%m/%Y}).",
            f"The certificate expired on {not_after:%Y-%m-%d}.",
        )
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        usage = None
    if usage is None or not usage.digital_signature:
        raise SigningIdentityRefused(
            "no-digital-signature",
            "Chứng thư số không có mục đích sử dụng 'ký số' (digitalSignature).",
            "The certificate's key usage does not include digitalSignature.",
        )
    return SigningIdentity(private_key=key, certificate=certificate)


def stored_values(
    identity: SigningIdentity, chain: list[x509.Certificate], box: SecretBox
) -> dict[str, Any]:
    """The connector columns that hold an identity: the key encrypted, the chain in PEM."""
    key_pem = identity.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    chain_pem = "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in chain)
    return {"signing_key": box.encrypt(key_pem), "signing_chain": chain_pem}


def view(chain_pem: str | None) -> SigningView | None:
    if not chain_pem:
        return None
    certificate = x509.load_pem_x509_certificates(chain_pem.encode())[0]
    return SigningView(
        subject=certificate.subject.rfc4514_string(),
        issuer=certificate.issuer.rfc4514_string(),
        serial_number=f"{certificate.serial_number:x}",
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
    )


# ---------------------------------------------------------------------------------------------
# Using it


class SignerCache:
    """Loaded identities by their encrypted key. Loading an RSA key checks it, which costs
    about 40 ms for 2048 bits (measured): once per process and key, not once per packet."""

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._loaded: OrderedDict[bytes, SigningIdentity] = OrderedDict()

    def load(self, box: SecretBox, token: bytes, chain_pem: str) -> SigningIdentity:
        name = hashlib.sha256(token + chain_pem.encode()).digest()
        found = self._loaded.get(name)
        if found is not None:
            self._loaded.move_to_end(name)
            return found
        key = serialization.load_pem_private_key(box.decrypt(token).encode(), None)
        assert isinstance(key, rsa.RSAPrivateKey)  # checked when it was set
        certificate = x509.load_pem_x509_certificates(chain_pem.encode())[0]
        identity = SigningIdentity(private_key=key, certificate=certificate)
        self._loaded[name] = identity
        while len(self._loaded) > self._size:
            self._loaded.popitem(last=False)
        return identity


async def packet_signer(
    ctx: Context, conn: AsyncConnection, tenant_id: uuid.UUID
) -> SigningIdentity | None:
    """The identity that signs the agency's packets now, or None (none set, expired, or its
    key unreadable under the configured keys: the packet then goes unsigned)."""
    row = (
        await conn.execute(
            select(connector.c.signing_key, connector.c.signing_chain).where(
                connector.c.tenant_id == tenant_id
            )
        )
    ).one_or_none()
    if row is None or row.signing_key is None or row.signing_chain is None:
        return None
    try:
        identity = ctx.signers.load(ctx.secrets, bytes(row.signing_key), row.signing_chain)
    except SecretUnreadable:
        logger.warning("signing_key_unreadable", extra={"tenant_id": str(tenant_id)})
        return None
    now = ctx.now()
    certificate = identity.certificate
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        logger.warning(
            "signing_certificate_outside_validity",
            extra={
                "tenant_id": str(tenant_id),
                "serial": f"{certificate.serial_number:x}",
                "not_after": certificate.not_valid_after_utc.isoformat(),
            },
        )
        return None
    return identity
