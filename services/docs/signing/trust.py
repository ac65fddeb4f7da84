"""The operator's trust store and the check of a signer's certificate before it signs.

Certification authorities are recognised by building a chain to the configured roots, never by
matching issuer names (standards.md §7): Vietnam has two roots (the national root for the public
CAs and the government's specialised PKI), and which of them a tenant accepts is configuration.

Circular 15/2025/TT-BKHCN art. 5 asks signing software to check the signer's certificate
(validity, chain, revocation) before signing. That check fetches OCSP/CRL over the network, so
its result is kept for `check_seconds` per certificate: a key that signs a hundred documents in
a minute does not ask the CA a hundred times. Expiry is compared on every signature."""

# mypy: disable-error-code="no-untyped-call"
# (pyHanko and pyhanko-certvalidator leave many constructors unannotated.)

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from asn1crypto import pem, x509  # type: ignore[import-untyped]
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator import errors as cv_errors

from services.docs.signing.errors import (
    CertificateExpired,
    CertificateRevoked,
    CertificateUntrusted,
    KeyUsageMissing,
)

REQUIRED_KEY_USAGE = frozenset({"digital_signature"})


def load_certificates(data: bytes) -> list[x509.Certificate]:
    """Certificates from PEM (one or many) or a single DER certificate."""
    if pem.detect(data):
        return [x509.Certificate.load(der) for _, _, der in pem.unarmor(data, multiple=True)]
    return [x509.Certificate.load(data)]


@dataclass(frozen=True)
class TrustStore:
    """Roots the operator trusts, and intermediates to help build chains."""

    roots: tuple[x509.Certificate, ...]
    intermediates: tuple[x509.Certificate, ...] = ()

    @classmethod
    def from_files(cls, roots: Iterable[Path], intermediates: Iterable[Path] = ()) -> TrustStore:
        return cls(
            roots=tuple(c for p in roots for c in load_certificates(p.read_bytes())),
            intermediates=tuple(
                c for p in intermediates for c in load_certificates(p.read_bytes())
            ),
        )

    def validation_context(
        self,
        *,
        extra_certs: Sequence[x509.Certificate] = (),
        crls: Sequence[bytes] = (),
        ocsps: Sequence[bytes] = (),
        revocation_mode: str = "hard-fail",
        allow_fetching: bool = True,
        moment: datetime | None = None,
    ) -> ValidationContext:
        return ValidationContext(
            trust_roots=list(self.roots),
            other_certs=[*self.intermediates, *extra_certs],
            allow_fetching=allow_fetching,
            revocation_mode=revocation_mode,
            crls=list(crls),
            ocsps=list(ocsps),
            moment=moment,
        )


def has_signing_key_usage(certificate: x509.Certificate) -> bool:
    usage = certificate.key_usage_value
    return usage is not None and set(usage.native) >= REQUIRED_KEY_USAGE


def _check_local(certificate: x509.Certificate, now: datetime) -> None:
    if not has_signing_key_usage(certificate):
        raise KeyUsageMissing(
            "Chứng thư số này không có mục đích sử dụng 'ký số' (digitalSignature).",
            "The certificate's key usage does not include digitalSignature.",
        )
    validity = certificate["tbs_certificate"]["validity"]
    not_before = validity["not_before"].native
    not_after = validity["not_after"].native
    if not not_before <= now <= not_after:
        raise CertificateExpired(
            f"Chứng thư số có hiệu lực từ {not_before:%d/%m/%Y} đến {not_after:%d/%m/%Y}.",
            f"The certificate is valid from {not_before:%Y-%m-%d} to {not_after:%Y-%m-%d}.",
        )


@dataclass
class CertificateChecker:
    """Checks a signer's certificate before signing; remembers good results for a while."""

    trust: TrustStore
    check_seconds: float = 300.0
    _passed: dict[bytes, float] = field(default_factory=dict)

    async def check(
        self, certificate: x509.Certificate, chain: Sequence[x509.Certificate] = ()
    ) -> None:
        now = datetime.now(UTC)
        _check_local(certificate, now)
        fingerprint = certificate.sha256
        checked_at = self._passed.get(fingerprint)
        if checked_at is not None and time.monotonic() - checked_at < self.check_seconds:
            return
        context = self.trust.validation_context(extra_certs=chain)
        validator = CertificateValidator(certificate, list(chain), context)
        try:
            await validator.async_validate_usage(set(REQUIRED_KEY_USAGE))
        except cv_errors.RevokedError as exc:
            raise CertificateRevoked(
                "Chứng thư số đã bị tổ chức cung cấp dịch vụ thu hồi.",
                f"The certificate was revoked by its CA ({exc}).",
            ) from exc
        except (cv_errors.ExpiredError, cv_errors.NotYetValidError) as exc:
            raise CertificateExpired(
                "Chứng thư số (hoặc chứng thư của CA cấp nó) không còn hiệu lực.",
                f"The certificate or one of its CAs is outside its validity ({exc}).",
            ) from exc
        except cv_errors.InvalidCertificateError as exc:
            raise KeyUsageMissing(
                "Chứng thư số không cho phép ký số.",
                f"The certificate may not be used for signing ({exc}).",
            ) from exc
        except (cv_errors.PathBuildingError, cv_errors.PathValidationError) as exc:
            raise CertificateUntrusted(
                "Không xác minh được chứng thư số tới tổ chức cung cấp dịch vụ tin cậy, "
                "hoặc không kiểm tra được tình trạng thu hồi.",
                f"The certificate does not validate to a trusted root, or its revocation "
                f"status is unavailable ({exc}).",
            ) from exc
        finally:
            await context.aclose()
        self._passed[fingerprint] = time.monotonic()
