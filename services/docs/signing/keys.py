"""Signing keys behind one interface: PKCS#12 files, PKCS#11 tokens and HSMs, and keys that
never reach the server (client-side or remote signing through a prepared digest).

A key is opened once and kept: parsing a PKCS#12 file or logging in to a token costs far more
than a signature (pyHanko's own `SimpleSigner` even re-parses the private key on every
signature, which held it to about 12 signatures a second)."""

# mypy: disable-error-code="no-untyped-call"
# (pyHanko and pyhanko-certvalidator leave many constructors unannotated.)

from __future__ import annotations

import abc
import contextlib
import enum
from collections.abc import Iterable
from typing import ClassVar

import pkcs11
from asn1crypto import keys as asn1_keys  # type: ignore[import-untyped]
from asn1crypto import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from pkcs11 import exceptions as p11_errors
from pyhanko.sign.pkcs11 import PKCS11Signer
from pyhanko.sign.signers.pdf_cms import ExternalSigner, Signer, SimpleSigner
from pyhanko_certvalidator.registry import SimpleCertificateStore

from services.docs.signing.errors import KeyUnavailable, SigningFailed, WrongPin


class SigningMethod(enum.StrEnum):
    PKCS12 = "pkcs12"
    PKCS11 = "pkcs11"
    REMOTE = "remote"


class SigningKey(abc.ABC):
    """A certificate and the means to sign with its key."""

    method: ClassVar[SigningMethod]

    def __init__(self, certificate: x509.Certificate, chain: Iterable[x509.Certificate]) -> None:
        self.certificate = certificate
        self.chain = tuple(c for c in chain if c.dump() != certificate.dump())

    @property
    def holds_private_key(self) -> bool:
        """False for keys that sign elsewhere: the server only prepares and embeds."""
        return True

    @abc.abstractmethod
    def signer(self) -> Signer:
        """The pyHanko signer for this key (made once and reused)."""

    def close(self) -> None:  # noqa: B027 - only keys with sessions have something to close
        """Release the key's session, if it has one."""


def _certificate_store(chain: Iterable[x509.Certificate]) -> SimpleCertificateStore:
    # The signer's own certificate is not in the store: pyHanko embeds it anyway, and a second
    # copy in the CMS is noise for other validators.
    store = SimpleCertificateStore()
    store.register_multiple(list(chain))
    return store


class _LoadedKeySigner(SimpleSigner):
    """`SimpleSigner` with the private key parsed once, not on every signature."""

    def __init__(
        self,
        private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
        signing_cert: x509.Certificate,
        signing_key: asn1_keys.PrivateKeyInfo,
        cert_registry: SimpleCertificateStore,
    ) -> None:
        super().__init__(signing_cert, signing_key, cert_registry)
        self._private_key = private_key

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        digest = _hash(digest_algorithm)
        key = self._private_key
        if isinstance(key, rsa.RSAPrivateKey):
            mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
            if mechanism == "rsassa_pkcs1v15":
                return key.sign(data, padding.PKCS1v15(), digest)
            return super().sign_raw(data, digest_algorithm)
        return key.sign(data, ec.ECDSA(digest))


def _hash(name: str) -> hashes.HashAlgorithm:
    algorithms: dict[str, hashes.HashAlgorithm] = {
        "sha256": hashes.SHA256(),
        "sha384": hashes.SHA384(),
        "sha512": hashes.SHA512(),
    }
    try:
        return algorithms[name.lower()]
    except KeyError:
        raise SigningFailed(
            f"Thuật toán băm {name} không được hỗ trợ.", f"Digest {name} is not supported."
        ) from None


class Pkcs12Key(SigningKey):
    """A key from a PKCS#12 file: development keys, and the agency seal when the server holds
    it (Decree 30/2020 art. 33: the clerk applies the agency's signature)."""

    method = SigningMethod.PKCS12

    def __init__(
        self,
        certificate: x509.Certificate,
        chain: Iterable[x509.Certificate],
        private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
    ) -> None:
        super().__init__(certificate, chain)
        key_info = asn1_keys.PrivateKeyInfo.load(
            private_key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        self._signer = _LoadedKeySigner(
            private_key, certificate, key_info, _certificate_store(self.chain)
        )

    @classmethod
    def from_bytes(cls, data: bytes, passphrase: bytes | None) -> Pkcs12Key:
        try:
            private_key, cert, extra = pkcs12.load_key_and_certificates(data, passphrase)
        except ValueError as exc:
            # cryptography says "Invalid password or PKCS12 data" for both; a file that parses
            # without a passphrase is then the wrong-passphrase case.
            raise WrongPin(
                "Mật khẩu tệp khóa không đúng, hoặc tệp không phải PKCS#12.",
                "Wrong passphrase, or not a PKCS#12 file.",
            ) from exc
        if cert is None or not isinstance(
            private_key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
        ):
            raise SigningFailed(
                "Tệp PKCS#12 không có chứng thư và khóa RSA/ECDSA.",
                "The PKCS#12 file has no certificate with an RSA or ECDSA key.",
            )
        certificate = x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
        chain = [x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in extra]
        return cls(certificate, chain, private_key)

    def signer(self) -> Signer:
        return self._signer


_TOKEN_GONE: tuple[type[Exception], ...] = (
    p11_errors.DeviceRemoved,
    p11_errors.DeviceError,
    p11_errors.TokenNotPresent,
    p11_errors.TokenNotRecognised,
    p11_errors.SessionClosed,
    p11_errors.SessionHandleInvalid,
    p11_errors.KeyHandleInvalid,
    p11_errors.ObjectHandleInvalid,
    p11_errors.UserNotLoggedIn,
    p11_errors.GeneralError,
)
_BAD_PIN: tuple[type[Exception], ...] = (
    p11_errors.PinIncorrect,
    p11_errors.PinInvalid,
    p11_errors.PinLenRange,
)


def token_gone(exc: BaseException) -> KeyUnavailable:
    return KeyUnavailable(
        "Thiết bị ký số đã bị rút ra hoặc phiên làm việc với thiết bị đã kết thúc; "
        "hãy cắm lại thiết bị và ký lại.",
        f"The token was removed or its session ended ({type(exc).__name__}); "
        "reconnect it and sign again.",
    )


class _TokenSigner(PKCS11Signer):
    """Maps the token's failures while signing to problems the caller understands."""

    async def async_sign_raw(
        self, data: bytes, digest_algorithm: str, dry_run: bool = False
    ) -> bytes:
        try:
            return await super().async_sign_raw(data, digest_algorithm, dry_run)
        except _TOKEN_GONE as exc:
            raise token_gone(exc) from exc
        except p11_errors.PKCS11Error as exc:
            raise token_gone(exc) from exc


class Pkcs11Key(SigningKey):
    """A key on a PKCS#11 token (USB token, HSM; SoftHSM2 in tests). The session stays open
    and logged in until `close()`."""

    method = SigningMethod.PKCS11

    def __init__(
        self, session: pkcs11.Session, signer: _TokenSigner, certificate: x509.Certificate
    ) -> None:
        super().__init__(certificate, signer.cert_registry)
        self._session = session
        self._signer = signer

    @classmethod
    def open(
        cls,
        module: str,
        *,
        token_label: str,
        pin: str,
        key_label: str,
        cert_label: str | None = None,
    ) -> Pkcs11Key:
        try:
            library = pkcs11.lib(module)
            token = library.get_token(token_label=token_label)
        except (p11_errors.NoSuchToken, p11_errors.PKCS11Error) as exc:
            raise KeyUnavailable(
                f"Không tìm thấy thiết bị ký số '{token_label}'.",
                f"No token labelled '{token_label}' is present.",
            ) from exc
        try:
            session = token.open(user_pin=pin)
        except _BAD_PIN as exc:
            raise WrongPin(
                "Mã PIN của thiết bị ký số không đúng.", "Wrong PIN for the signing token."
            ) from exc
        except p11_errors.PinLocked as exc:
            raise WrongPin(
                "Thiết bị ký số đã bị khóa do nhập sai PIN nhiều lần.",
                "The token is locked after too many wrong PINs.",
            ) from exc
        except p11_errors.PKCS11Error as exc:
            raise token_gone(exc) from exc
        try:
            signer = _TokenSigner(
                session,
                cert_label=cert_label or key_label,
                key_label=key_label,
                other_certs_to_pull=None,
            )
            certificate = signer.signing_cert
        except p11_errors.PKCS11Error as exc:
            session.close()
            raise token_gone(exc) from exc
        except Exception as exc:  # pyHanko reports a missing key or certificate this way
            session.close()
            raise SigningFailed(
                f"Không tìm thấy khóa '{key_label}' trên thiết bị ký số.",
                f"No key '{key_label}' with its certificate on the token ({exc}).",
            ) from exc
        return cls(session, signer, certificate)

    def signer(self) -> Signer:
        return self._signer

    def close(self) -> None:
        # A token that is already gone has nothing left to release.
        with contextlib.suppress(p11_errors.PKCS11Error):
            self._session.close()


class RemoteKey(SigningKey):
    """A key the server never sees: the signer's USB token on their own machine (via a browser
    extension or desktop app) or a remote signing service. The server prepares the digest and
    embeds the signature that comes back (see `DocumentSigner.prepare` and `complete`)."""

    method = SigningMethod.REMOTE

    @property
    def holds_private_key(self) -> bool:
        return False

    def signer(self) -> Signer:
        # For preparation only: a placeholder signature of the real size, so the space
        # reserved in the PDF fits the signature that will come back.
        size = _raw_signature_size(self.certificate)
        return ExternalSigner(
            self.certificate,
            _certificate_store(self.chain),
            signature_value=bytes(size),
        )

    def with_signature(self, signature: bytes) -> Signer:
        return ExternalSigner(
            self.certificate,
            _certificate_store(self.chain),
            signature_value=signature,
        )


def _raw_signature_size(certificate: x509.Certificate) -> int:
    public = certificate.public_key
    if public.algorithm == "rsa":
        return int(public.bit_size) // 8
    # DER ECDSA signature: two integers of the curve size, plus headers.
    return 2 * (int(public.bit_size) // 8 + 3) + 2
