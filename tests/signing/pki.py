"""A test PKI shaped like Vietnam's, served over HTTP on loopback by certomancer's animator.

    Root CA (stands in for the national root, rootca.gov.vn)
    |-- Government CA (the specialised government PKI: leaders, agencies)
    |     |-- leader, reviewer, agency seal, clerk
    |     |-- expired leaf, revoked leaf, leaf without digitalSignature
    |     '-- OCSP responder
    |-- Public CA (a licensed public CA, like those under the national root)
    |     |-- a citizen who signs an incoming letter
    |     '-- OCSP responder
    '-- TSA (RFC 3161)

Every CA publishes a CRL and answers OCSP; the TSA answers timestamp requests. Keys are made
fresh for each run (nothing binary is committed) and validity periods are relative to now, so
the PKI never ages out. The same module serves the tests and bench/signing."""

from __future__ import annotations

import base64
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from asn1crypto import ocsp, x509
from certomancer.integrations.animator import Animator, AnimatorArchStore
from certomancer.registry import ArchLabel, CertLabel, CertomancerConfig, ServiceLabel
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from werkzeug.serving import make_server

ARCH = "vn-test"
PASSPHRASE = b"mat-khau-thu-nghiem"

PEOPLE_AND_AGENCIES: dict[str, dict[str, str]] = {
    "leader": {
        "common-name": "Nguyễn Văn Bình",
        "organization-name": "Ủy ban nhân dân tỉnh Hưng Yên",
        "locality-name": "Hưng Yên",
    },
    "reviewer": {
        "common-name": "Trần Thị Thu Hà",
        "organization-name": "Ủy ban nhân dân tỉnh Hưng Yên",
        "locality-name": "Hưng Yên",
    },
    "agency": {
        "common-name": "Ủy ban nhân dân tỉnh Hưng Yên",
        "organization-name": "Ủy ban nhân dân tỉnh Hưng Yên",
        "locality-name": "Hưng Yên",
    },
    "expired": {"common-name": "Lê Văn Hết Hạn", "organization-name": "Sở Nội vụ"},
    "revoked": {"common-name": "Phạm Thị Thu Hồi", "organization-name": "Sở Nội vụ"},
    "no-sign-usage": {"common-name": "Đỗ Văn Mã Hóa", "organization-name": "Sở Nội vụ"},
    "citizen": {"common-name": "Hoàng Thị Dân", "organization-name": "Công ty TNHH Ánh Dương"},
}
CAS = ("root", "gov-ca", "public-ca")
SERVICE_KEYS = ("gov-ocsp", "public-ocsp", "tsa")


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S+0000")


def _validity(start: datetime, end: datetime) -> dict[str, str]:
    return {"valid-from": _stamp(start), "valid-to": _stamp(end)}


def _key_usage(*usages: str) -> dict[str, Any]:
    return {
        "id": "key_usage",
        "critical": True,
        "smart-value": {"schema": "key-usage", "params": list(usages)},
    }


def _revocation_pointers(ca: str) -> list[dict[str, Any]]:
    return [
        {
            "id": "crl_distribution_points",
            "smart-value": {"schema": "crl-dist-url", "params": {"crl-repo-names": [ca]}},
        },
        {
            "id": "authority_information_access",
            "smart-value": {"schema": "aia-urls", "params": {"ocsp-responder-names": [ca]}},
        },
    ]


def _config(url: str, key_dir: Path, now: datetime) -> dict[str, Any]:
    year = timedelta(days=365)
    labels = [*CAS, *SERVICE_KEYS, *PEOPLE_AND_AGENCIES]
    keys = {label: {"path": f"{label}.key.pem"} for label in labels}
    ca_ext = [
        {"id": "basic_constraints", "critical": True, "value": {"ca": True}},
        _key_usage("digital_signature", "key_cert_sign", "crl_sign"),
    ]
    leaf_ext = {
        "gov-ca": [
            _key_usage("digital_signature", "non_repudiation"),
            *_revocation_pointers("gov-ca"),
        ],
        "public-ca": [
            _key_usage("digital_signature", "non_repudiation"),
            *_revocation_pointers("public-ca"),
        ],
    }
    certs: dict[str, Any] = {
        "root": {
            "subject": "root",
            "issuer": "root",
            "validity": _validity(now - 2 * year, now + 20 * year),
            "extensions": ca_ext,
        },
        "gov-ca": {
            "issuer": "root",
            "validity": _validity(now - 2 * year, now + 10 * year),
            "extensions": [
                *ca_ext,
                {
                    "id": "crl_distribution_points",
                    "smart-value": {
                        "schema": "crl-dist-url",
                        "params": {"crl-repo-names": ["root"]},
                    },
                },
            ],
        },
        "tsa": {
            "issuer": "root",
            "validity": _validity(now - year, now + 10 * year),
            "extensions": [
                _key_usage("digital_signature"),
                {"id": "extended_key_usage", "critical": True, "value": ["time_stamping"]},
                {
                    "id": "crl_distribution_points",
                    "smart-value": {
                        "schema": "crl-dist-url",
                        "params": {"crl-repo-names": ["root"]},
                    },
                },
            ],
        },
    }
    certs["public-ca"] = {**certs["gov-ca"]}
    for responder, ca in (("gov-ocsp", "gov-ca"), ("public-ocsp", "public-ca")):
        certs[responder] = {
            "issuer": ca,
            "validity": _validity(now - year, now + 10 * year),
            "extensions": [
                _key_usage("digital_signature"),
                {"id": "extended_key_usage", "critical": True, "value": ["ocsp_signing"]},
                {"id": "ocsp_no_check"},
            ],
        }
    for label in ("leader", "reviewer", "agency", "expired", "revoked", "no-sign-usage"):
        certs[label] = {
            "issuer": "gov-ca",
            "validity": _validity(now - year, now + 2 * year),
            "extensions": leaf_ext["gov-ca"],
        }
    certs["citizen"] = {
        "issuer": "public-ca",
        "validity": _validity(now - year, now + 2 * year),
        "extensions": leaf_ext["public-ca"],
    }
    certs["expired"]["validity"] = _validity(now - 2 * year, now - timedelta(days=1))
    certs["revoked"]["revocation"] = {
        "revoked-since": _stamp(now - timedelta(hours=1)),
        "reason": "key_compromise",
    }
    certs["no-sign-usage"]["extensions"] = [
        _key_usage("key_encipherment"),
        *_revocation_pointers("gov-ca"),
    ]
    # Real CAs use long random serials; certomancer's per-issuer counters would give the
    # government CA and the first leaf it issues the same serial, which NSS (pdfsig) trips on.
    for spec in certs.values():
        spec["serial"] = secrets.randbits(64)
    entities = {
        "root": {"common-name": "Test Root CA Quốc gia"},
        "gov-ca": {"common-name": "Test CA Chuyên dùng Chính phủ"},
        "public-ca": {"common-name": "Test CA Công cộng"},
        "gov-ocsp": {"common-name": "Test OCSP Chuyên dùng"},
        "public-ocsp": {"common-name": "Test OCSP Công cộng"},
        "tsa": {"common-name": "Test TSA"},
        **PEOPLE_AND_AGENCIES,
    }
    return {
        "external-url-prefix": url,
        "keysets": {ARCH: {"path-prefix": str(key_dir), "keys": keys}},
        "pki-architectures": {
            ARCH: {
                "keyset": ARCH,
                "entity-defaults": {"country-name": "VN"},
                "entities": entities,
                "certs": certs,
                "services": {
                    "ocsp": {
                        "gov-ca": {
                            "for-issuer": "gov-ca",
                            "responder-cert": "gov-ocsp",
                            "signing-key": "gov-ocsp",
                        },
                        "public-ca": {
                            "for-issuer": "public-ca",
                            "responder-cert": "public-ocsp",
                            "signing-key": "public-ocsp",
                        },
                    },
                    "crl-repo": {
                        ca: {
                            "for-issuer": ca,
                            "signing-key": ca,
                            "simulated-update-schedule": "P7D",
                        }
                        for ca in CAS
                    },
                    "time-stamping": {"tsa": {"signing-key": "tsa", "signing-cert": "tsa"}},
                },
            }
        },
    }


def _write_keys(key_dir: Path, labels: list[str]) -> None:
    for label in labels:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        (key_dir / f"{label}.key.pem").write_bytes(pem)


class _Dispatcher:
    """The WSGI app of the server; the animator is set once the port (and so the URLs written
    into the certificates) is known.

    It answers OCSP itself: by GET too (RFC 6960 A.1, the request base64 in the path), which
    NSS and so pdfsig use and certomancer's animator does not take; and with times in whole
    seconds, because NSS refuses a GeneralizedTime with fractions ("Improperly formatted time
    string") and certomancer's responder writes microseconds."""

    app: Any = None
    config: CertomancerConfig | None = None

    def __call__(self, environ: Any, start_response: Any) -> Any:
        parts = environ.get("PATH_INFO", "").split("/", 4)
        if len(parts) >= 4 and parts[2] == "ocsp":
            if environ["REQUEST_METHOD"] == "GET" and len(parts) == 5:
                der = base64.b64decode(unquote(parts[4]))
            else:
                length = int(environ.get("CONTENT_LENGTH") or 0)
                der = environ["wsgi.input"].read(length)
            return self._ocsp(parts[1], parts[3], der, start_response)
        return self.app(environ, start_response)

    def _ocsp(self, arch: str, label: str, der: bytes, start_response: Any) -> Any:
        assert self.config is not None
        request = ocsp.OCSPRequest.load(der)
        responder = self.config.get_pki_arch(ArchLabel(arch)).service_registry.summon_responder(
            ServiceLabel(label), datetime.now(UTC).replace(microsecond=0)
        )
        body = responder.build_ocsp_response(request).dump()
        start_response(
            "200 OK",
            [("Content-Type", "application/ocsp-response"), ("Content-Length", str(len(body)))],
        )
        return [body]


@dataclass
class SigningPki:
    url: str
    config: CertomancerConfig
    key_dir: Path

    @property
    def arch(self) -> Any:
        return self.config.get_pki_arch(ARCH)

    def cert(self, label: str) -> x509.Certificate:
        return self.arch.get_cert(CertLabel(label))

    def chain(self, label: str) -> list[x509.Certificate]:
        """The CA certificates above `label`, up to the root."""
        return [self.arch.get_cert(c) for c in self.arch.get_chain(CertLabel(label))]

    def private_key_pem(self, label: str) -> bytes:
        return (self.key_dir / f"{label}.key.pem").read_bytes()

    def pkcs12(self, label: str, passphrase: bytes = PASSPHRASE) -> bytes:
        chain = [c for c in self.arch.get_chain(CertLabel(label))]
        return bytes(
            self.arch.package_pkcs12(CertLabel(label), certs_to_embed=chain, password=passphrase)
        )

    @property
    def root(self) -> x509.Certificate:
        return self.cert("root")

    @property
    def intermediates(self) -> list[x509.Certificate]:
        return [self.cert("gov-ca"), self.cert("public-ca")]

    @property
    def tsa_url(self) -> str:
        return f"{self.url}/{ARCH}/tsa/tsa"


@contextmanager
def serve_test_pki(work_dir: Path) -> Iterator[SigningPki]:
    """Generate the PKI under `work_dir` and serve its CRLs, OCSP and TSA on a free loopback
    port until the context closes."""
    key_dir = work_dir / "keys"
    key_dir.mkdir(parents=True, exist_ok=True)
    _write_keys(key_dir, [*CAS, *SERVICE_KEYS, *PEOPLE_AND_AGENCIES])
    dispatcher = _Dispatcher()
    server = make_server("127.0.0.1", 0, dispatcher, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    now = datetime.now(UTC).replace(microsecond=0)
    config = CertomancerConfig(_config(url, key_dir, now), key_search_dir=str(work_dir))
    dispatcher.config = config
    dispatcher.app = Animator(
        AnimatorArchStore(config.pki_archs), with_web_ui=False, allow_time_override=False
    )
    thread = threading.Thread(target=server.serve_forever, name="test-pki", daemon=True)
    thread.start()
    try:
        yield SigningPki(url=url, config=config, key_dir=key_dir)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
