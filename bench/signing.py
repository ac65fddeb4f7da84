"""bench/signing: visible PAdES B-B signatures per second on a two-page PDF (the leader's block
of Appendix I: authority, position, signature image, name, in an embedded TrueType font) against
a tuned pyHanko invisible signature of the same PDF with the same key, in the same run; and
validations per second of a three-signature document (initials, leader, agency seal).

The baseline is pyHanko used well: the key parsed once (not on every signature, as its
`SimpleSigner` does) and `bytes_reserved` set, so it does not make a dummy signature first.
Both sides sign in one event loop; rounds alternate so machine noise falls on both. The test
PKI of tests/signing (certomancer, served on a loopback port) provides the certificates and
answers the OCSP/CRL requests of validation."""

from __future__ import annotations

import asyncio
import logging
import sys
import tempfile
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.sign.signers.pdf_cms import SimpleSigner
from pyhanko.sign.signers.pdf_signer import PdfSignatureMetadata, PdfSigner
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko_certvalidator.registry import SimpleCertificateStore

from bench.common import Result, compare, detail, median, paired_ratio, report, spread, warm_up
from services.docs.signing import (
    Authority,
    DocumentSigner,
    InitialsAppearance,
    LeaderAppearance,
    Pkcs12Key,
    Placement,
    SealAppearance,
    SignatureLevel,
    SignatureRequest,
    SigningSettings,
    TrustStore,
    Verdict,
    add_signature_fields,
    validate_pdf,
)
from services.docs.signing.pdf import sha256_hex
from tests.signing.documents import (
    CLERK,
    LEADER,
    LEADER_BOX,
    REVIEWER,
    draft_pdf,
    initials_png,
    outgoing_plan,
    seal_png,
    signature_png,
)
from tests.signing.pki import PASSPHRASE, SigningPki, serve_test_pki

NAME = "signing"
TARGET = 0.5  # visible signatures at least half as fast as the tuned invisible ones
AMBITION = 60.0  # signatures per second per core
VALIDATION_TARGET = 0.8
ROUNDS = 5
MAX_OPS = 150
MAX_SECONDS = 3.0


class TunedSigner(SimpleSigner):
    """pyHanko's SimpleSigner with the private key parsed once."""

    def __init__(self, pki: SigningPki, label: str) -> None:
        pem = pki.private_key_pem(label)
        key = serialization.load_pem_private_key(pem, password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        info = asn1_keys.PrivateKeyInfo.load(
            key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        # Parsed from DER, as from a key file: asn1crypto then keeps each certificate's
        # encoding instead of re-serialising it into every signature.
        store = SimpleCertificateStore()
        store.register_multiple([x509.Certificate.load(c.dump()) for c in pki.chain(label)])
        super().__init__(x509.Certificate.load(pki.cert(label).dump()), info, store)
        self._key = key

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        return self._key.sign(data, padding.PKCS1v15(), hashes.SHA256())


async def three_signatures(signer: DocumentSigner, pki: SigningPki) -> bytes:
    leader = leader_appearance()
    seal = SealAppearance(seal_png=seal_png())
    plan = outgoing_plan(leader, seal)
    pdf = add_signature_fields(draft_pdf(), plan)
    turns = [
        (REVIEWER, "reviewer", InitialsAppearance(initials_png=initials_png())),
        (LEADER, "leader", leader),
        (CLERK, "agency", seal),
    ]
    for person, label, appearance in turns:
        signed = await signer.sign_step(
            pdf,
            expected_sha256=sha256_hex(pdf),
            plan=plan,
            person_id=person,
            authenticated_at=datetime.now(UTC),
            key=Pkcs12Key.from_bytes(pki.pkcs12(label), PASSPHRASE),
            appearance=appearance,
        )
        pdf = signed.data
    return pdf


def leader_appearance() -> LeaderAppearance:
    return LeaderAppearance(
        authority=Authority.ON_BEHALF_OF,
        acting_for="Ủy ban nhân dân",
        position="Chủ tịch",
        name="Nguyễn Văn Bình",
        signature_png=signature_png(),
    )


async def bench_signing(pki: SigningPki, trust: TrustStore) -> None:
    signer = DocumentSigner(trust, SigningSettings())
    key = Pkcs12Key.from_bytes(pki.pkcs12("leader"), PASSPHRASE)
    pdf = draft_pdf(pages=2)
    digest = sha256_hex(pdf)
    request = SignatureRequest(
        field_name="lanh-dao",
        appearance=leader_appearance(),
        level=SignatureLevel.B_B,
        placement=Placement(1, LEADER_BOX),
    )

    async def visible() -> object:
        return await signer.sign(pdf, expected_sha256=digest, key=key, request=request)

    tuned = TunedSigner(pki, "leader")
    meta = PdfSignatureMetadata(
        field_name="Signature", md_algorithm="sha256", subfilter=SigSeedSubFilter.PADES
    )
    # The room the signature needs, measured once (pyHanko would otherwise sign twice).
    sample = await PdfSigner(meta, tuned).async_sign_pdf(IncrementalPdfFileWriter(BytesIO(pdf)))
    reserved = sig_contents_size(sample.getvalue())

    async def invisible() -> object:
        writer = IncrementalPdfFileWriter(BytesIO(pdf))
        return await PdfSigner(meta, tuned).async_sign_pdf(writer, bytes_reserved=reserved)

    await warm_up(visible, 10)
    await warm_up(invisible, 10)
    samples = await compare(
        {"visible": visible, "invisible": invisible},
        rounds=ROUNDS,
        max_ops=MAX_OPS,
        max_seconds=MAX_SECONDS,
    )
    ours, base = samples["visible"], samples["invisible"]
    detail(
        NAME, f"visible B-B {median(ours):.1f}/s ({spread(ours)}), invisible {median(base):.1f}/s"
    )
    detail(NAME, f"paired ratio {paired_ratio(ours, base):.3f}; ambition >= {AMBITION:.0f}/s")
    report(Result(NAME, median(ours), median(base), "signatures/s", TARGET))


def sig_contents_size(signed: bytes) -> int:
    reader = PdfFileReader(BytesIO(signed))
    (embedded,) = reader.embedded_signatures
    return len(embedded.pkcs7_content) * 2


async def bench_validation(pki: SigningPki, trust: TrustStore) -> None:
    signer = DocumentSigner(trust, SigningSettings(tsa_url=pki.tsa_url))
    document = await three_signatures(signer, pki)
    report_once = await validate_pdf(document, trust)
    if report_once.verdict is not Verdict.VALID:
        raise RuntimeError(f"the benchmark document does not validate: {report_once}")

    async def ours() -> object:
        return await validate_pdf(document, trust)

    async def bare() -> object:
        # pyHanko alone: every signature against the same trust roots, fetching revocation data.
        reader = PdfFileReader(BytesIO(document))
        context = trust.validation_context()
        try:
            return [
                await async_validate_pdf_signature(s, context)
                for s in reader.embedded_regular_signatures
            ]
        finally:
            await context.aclose()

    await warm_up(ours, 3)
    await warm_up(bare, 3)
    samples = await compare(
        {"report": ours, "pyhanko": bare}, rounds=ROUNDS, max_ops=40, max_seconds=2.0
    )
    detail(
        f"{NAME}_validation",
        f"3-signature document (B-T, B-T, B-LT): {median(samples['report']):.1f}/s "
        f"({spread(samples['report'])}), pyHanko alone {median(samples['pyhanko']):.1f}/s",
    )
    report(
        Result(
            f"{NAME}_validation",
            median(samples["report"]),
            median(samples["pyhanko"]),
            "validations/s",
            VALIDATION_TARGET,
        )
    )


async def run(pki: SigningPki) -> None:
    trust = TrustStore(roots=(pki.root,), intermediates=tuple(pki.intermediates))
    await bench_signing(pki, trust)
    await bench_validation(pki, trust)


def main() -> int:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as work, serve_test_pki(Path(work)) as pki:
        asyncio.run(run(pki))
    return 0


if __name__ == "__main__":
    sys.exit(main())
