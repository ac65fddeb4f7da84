"""Fixtures of the signing tests, all real: the test PKI served over HTTP (CRLs, OCSP, TSA),
SoftHSM2 tokens in a temporary directory, poppler's pdfsig/pdftoppm/pdftotext, NSS's certutil."""

from __future__ import annotations

import io
import logging
import os
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image

from services.docs.signing import (
    Authority,
    DocumentSigner,
    InitialsAppearance,
    LeaderAppearance,
    Pkcs12Key,
    SealAppearance,
    SignedDocument,
    SigningSettings,
    TrustStore,
    add_signature_fields,
)
from services.docs.signing.pdf import sha256_hex
from tests.signing.documents import (
    CLERK,
    LEADER,
    REVIEWER,
    draft_pdf,
    initials_png,
    outgoing_plan,
    seal_png,
    signature_png,
)
from tests.signing.pki import PASSPHRASE, SigningPki, serve_test_pki

SOFTHSM_MODULE = "/usr/lib/softhsm/libsofthsm2.so"
TOKEN_PIN = "246810"
SO_PIN = "13579135"
TOKENS = ("con-dau", "rut-ra")  # the agency seal's token; one the removal test pulls out


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SigningPki]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with serve_test_pki(tmp_path_factory.mktemp("pki")) as served:
        yield served


@pytest.fixture(scope="session")
def trust(pki: SigningPki) -> TrustStore:
    return TrustStore(roots=(pki.root,), intermediates=tuple(pki.intermediates))


@pytest.fixture(scope="session")
def signer(pki: SigningPki, trust: TrustStore) -> DocumentSigner:
    return DocumentSigner(trust, SigningSettings(tsa_url=pki.tsa_url))


@pytest.fixture(scope="session")
def keys(pki: SigningPki) -> dict[str, Pkcs12Key]:
    labels = ("reviewer", "leader", "agency", "citizen", "expired", "revoked", "no-sign-usage")
    return {label: Pkcs12Key.from_bytes(pki.pkcs12(label), PASSPHRASE) for label in labels}


@pytest.fixture(scope="session")
def leader_appearance() -> LeaderAppearance:
    return LeaderAppearance(
        authority=Authority.ON_BEHALF_OF,
        acting_for="Ủy ban nhân dân",
        position="Chủ tịch",
        name="Nguyễn Văn Bình",
        signature_png=signature_png(),
    )


@pytest.fixture(scope="session")
def seal_appearance() -> SealAppearance:
    return SealAppearance(seal_png=seal_png())


@pytest.fixture
def fresh_auth() -> datetime:
    return datetime.now(UTC)


@pytest.fixture(scope="session")
async def signed_in_turn(
    signer: DocumentSigner,
    keys: dict[str, Pkcs12Key],
    leader_appearance: LeaderAppearance,
    seal_appearance: SealAppearance,
) -> tuple[bytes, list[SignedDocument]]:
    plan = outgoing_plan(leader_appearance, seal_appearance)
    finalised = add_signature_fields(draft_pdf(), plan)
    turns = [
        (REVIEWER, keys["reviewer"], InitialsAppearance(initials_png=initials_png())),
        (LEADER, keys["leader"], leader_appearance),
        (CLERK, keys["agency"], seal_appearance),
    ]
    current = finalised
    results = []
    for person, key, appearance in turns:
        signed = await signer.sign_step(
            current,
            expected_sha256=sha256_hex(current),
            plan=plan,
            person_id=person,
            authenticated_at=datetime.now(UTC),
            key=key,
            appearance=appearance,
        )
        results.append(signed)
        current = signed.data
    return finalised, results


# --------------------------------------------------------------------------- SoftHSM2


@pytest.fixture(scope="session")
def softhsm(tmp_path_factory: pytest.TempPathFactory, pki: SigningPki) -> dict[str, Path]:
    """Two SoftHSM2 tokens holding the agency's key and certificate, in a directory of this
    run. SoftHSM reads SOFTHSM2_CONF when the module initialises, so the tokens exist before
    any test loads it. Returns each token's directory."""
    base = tmp_path_factory.mktemp("softhsm")
    token_dir = base / "tokens"
    token_dir.mkdir()
    conf = base / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {token_dir}\nobjectstore.backend = file\nlog.level = ERROR\n"
    )
    os.environ["SOFTHSM2_CONF"] = str(conf)
    cert = base / "agency.der"
    cert.write_bytes(pki.cert("agency").dump())
    key = pki.key_dir / "agency.key.pem"
    dirs: dict[str, Path] = {}
    for label in TOKENS:
        before = set(token_dir.iterdir())
        subprocess.run(
            [
                *("softhsm2-util", "--init-token", "--free", "--label", label),
                *("--pin", TOKEN_PIN, "--so-pin", SO_PIN),
            ],
            check=True,
            capture_output=True,
        )
        (dirs[label],) = set(token_dir.iterdir()) - before
        subprocess.run(
            [
                *("softhsm2-util", "--import", str(key), "--token", label, "--label", "agency"),
                *("--id", "01", "--pin", TOKEN_PIN),
            ],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [
                *("pkcs11-tool", "--module", SOFTHSM_MODULE, "--token-label", label, "--login"),
                *("--pin", TOKEN_PIN, "--write-object", str(cert), "--type", "cert"),
                *("--id", "01", "--label", "agency"),
            ],
            check=True,
            capture_output=True,
        )
    return dirs


# --------------------------------------------------------------------------- poppler, NSS


@pytest.fixture(scope="session")
def nss_db(tmp_path_factory: pytest.TempPathFactory, pki: SigningPki) -> str:
    """An NSS database that trusts the test root, for pdfsig."""
    directory = tmp_path_factory.mktemp("nssdb")
    root = directory / "root.der"
    root.write_bytes(pki.root.dump())
    db = f"sql:{directory}"
    subprocess.run(["certutil", "-N", "-d", db, "--empty-password"], check=True)
    subprocess.run(
        ["certutil", "-A", "-d", db, "-n", "test-root", "-t", "CT,C,C", "-i", str(root)],
        check=True,
    )
    return db


class Poppler:
    """poppler-utils over a PDF in a temporary directory: the independent reader."""

    def __init__(self, directory: Path, nss_db: str) -> None:
        self.directory = directory
        self.nss_db = nss_db
        self._count = 0

    def _file(self, pdf: bytes) -> Path:
        self._count += 1
        path = self.directory / f"doc-{self._count}.pdf"
        path.write_bytes(pdf)
        return path

    def pdfsig(self, pdf: bytes) -> str:
        result = subprocess.run(
            ["pdfsig", "-nssdir", self.nss_db, str(self._file(pdf))],
            capture_output=True,
            text=True,
            check=False,
        )
        return result.stdout

    def text(self, pdf: bytes, page: int) -> str:
        result = subprocess.run(
            [
                "pdftotext",
                "-f",
                str(page),
                "-l",
                str(page),
                "-enc",
                "UTF-8",
                str(self._file(pdf)),
                "-",
            ],
            capture_output=True,
            check=True,
        )
        return result.stdout.decode("utf-8")

    def fonts(self, pdf: bytes) -> str:
        return subprocess.run(
            ["pdffonts", str(self._file(pdf))], capture_output=True, text=True, check=True
        ).stdout

    def render(self, pdf: bytes, page: int, dpi: int = 72) -> Image.Image:
        result = subprocess.run(
            [
                "pdftoppm",
                "-f",
                str(page),
                "-l",
                str(page),
                "-r",
                str(dpi),
                "-png",
                str(self._file(pdf)),
            ],
            capture_output=True,
            check=True,
        )
        return Image.open(io.BytesIO(result.stdout)).convert("RGB")


@pytest.fixture
def poppler(tmp_path: Path, nss_db: str) -> Poppler:
    return Poppler(tmp_path, nss_db)


def pdfsig_blocks(output: str) -> list[str]:
    """pdfsig's report, one block per signature."""
    return output.split("Signature #")[1:]
