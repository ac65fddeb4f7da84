"""Client-side and remote signing: the server prepares, a key it never holds signs, the server
checks the signature against the prepared digest and embeds it."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from services.docs.signing import (
    DocumentSigner,
    LeaderAppearance,
    Placement,
    PreparedSignature,
    RemoteKey,
    SealAppearance,
    SignatureLevel,
    SignatureRequest,
    SigningMethod,
    SigningPlan,
    TrustStore,
    Verdict,
    add_signature_fields,
    attachment_stamp,
    top_right_box,
    validate_pdf,
)
from services.docs.signing.errors import ExternalSignatureMismatch
from services.docs.signing.pdf import sha256_hex
from tests.signing.conftest import Poppler, pdfsig_blocks
from tests.signing.documents import A4, LEADER, REVIEWER, draft_pdf, outgoing_plan
from tests.signing.helpers import assert_bilingual
from tests.signing.pki import SigningPki


class ClientDevice:
    """The signer's own device (a USB token behind a browser extension, a signing app): it
    holds the private key and signs what the server prepared."""

    def __init__(self, pki: SigningPki, label: str) -> None:
        key = serialization.load_pem_private_key(pki.private_key_pem(label), password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        self._key = key
        self.remote_key = RemoteKey(pki.cert(label), pki.chain(label))

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data, padding.PKCS1v15(), hashes.SHA256())

    async def request_signature(self, prepared: PreparedSignature) -> bytes:
        """As a remote signing provider: answers within the request."""
        return self.sign(prepared.signed_attributes)


async def prepared_for_leader(
    signer: DocumentSigner,
    device: ClientDevice,
    keys: dict[str, object],
    leader_appearance: LeaderAppearance,
    seal_appearance: SealAppearance,
) -> tuple[SigningPlan, PreparedSignature]:
    plan = outgoing_plan(leader_appearance, seal_appearance, leader_method=SigningMethod.REMOTE)
    pdf = add_signature_fields(draft_pdf(), plan)
    reviewed = await signer.sign_step(
        pdf,
        expected_sha256=sha256_hex(pdf),
        plan=plan,
        person_id=REVIEWER,
        authenticated_at=datetime.now(UTC),
        key=keys["reviewer"],  # type: ignore[arg-type]
        appearance=None,
    )
    prepared = await signer.prepare_step(
        reviewed.data,
        expected_sha256=reviewed.sha256,
        plan=plan,
        person_id=LEADER,
        authenticated_at=datetime.now(UTC),
        key=device.remote_key,
        appearance=leader_appearance,
    )
    return plan, prepared


@pytest.fixture
def leader_device(pki: SigningPki) -> ClientDevice:
    return ClientDevice(pki, "leader")


async def test_signature_from_the_client_device_is_embedded_and_valid(
    signer: DocumentSigner,
    leader_device: ClientDevice,
    keys: dict[str, object],
    leader_appearance: LeaderAppearance,
    seal_appearance: SealAppearance,
    trust: TrustStore,
    poppler: Poppler,
) -> None:
    _, prepared = await prepared_for_leader(
        signer, leader_device, keys, leader_appearance, seal_appearance
    )
    # the state can wait in Redis or the database while the device works
    stored = msgspec.msgpack.decode(msgspec.msgpack.encode(prepared), type=PreparedSignature)

    signed = await signer.complete(
        stored, leader_device.sign(stored.signed_attributes), leader_device.remote_key
    )
    report = await validate_pdf(signed.data, trust)
    blocks = pdfsig_blocks(poppler.pdfsig(signed.data))

    assert signed.level is SignatureLevel.B_T
    assert report.verdict is Verdict.VALID
    assert report.signatures[1].signer.common_name == "Nguyễn Văn Bình"
    assert report.signatures[1].timestamp is not None
    assert "Signature is Valid." in blocks[1]
    assert "Certificate is Trusted." in blocks[1]


async def test_signature_made_by_another_key_is_refused(
    signer: DocumentSigner,
    pki: SigningPki,
    leader_device: ClientDevice,
    keys: dict[str, object],
    leader_appearance: LeaderAppearance,
    seal_appearance: SealAppearance,
) -> None:
    _, prepared = await prepared_for_leader(
        signer, leader_device, keys, leader_appearance, seal_appearance
    )
    someone_else = ClientDevice(pki, "reviewer")

    with pytest.raises(ExternalSignatureMismatch) as caught:
        await signer.complete(
            prepared, someone_else.sign(prepared.signed_attributes), leader_device.remote_key
        )

    assert caught.value.status == 400
    assert_bilingual(caught.value)


async def test_signature_over_other_data_is_refused(
    signer: DocumentSigner,
    leader_device: ClientDevice,
    keys: dict[str, object],
    leader_appearance: LeaderAppearance,
    seal_appearance: SealAppearance,
) -> None:
    _, prepared = await prepared_for_leader(
        signer, leader_device, keys, leader_appearance, seal_appearance
    )

    with pytest.raises(ExternalSignatureMismatch):
        await signer.complete(
            prepared, leader_device.sign(prepared.document_digest), leader_device.remote_key
        )


async def test_prepared_document_changed_before_completion_is_refused(
    signer: DocumentSigner,
    leader_device: ClientDevice,
    keys: dict[str, object],
    leader_appearance: LeaderAppearance,
    seal_appearance: SealAppearance,
) -> None:
    _, prepared = await prepared_for_leader(
        signer, leader_device, keys, leader_appearance, seal_appearance
    )
    altered = msgspec.structs.replace(
        prepared,
        prepared_pdf=prepared.prepared_pdf.replace(b"(Dieu 2. Noi", b"(Dieu 8. Noi", 1),
    )

    with pytest.raises(ExternalSignatureMismatch):
        await signer.complete(
            altered, leader_device.sign(prepared.signed_attributes), leader_device.remote_key
        )


async def test_signature_for_another_certificate_is_refused(
    signer: DocumentSigner,
    pki: SigningPki,
    leader_device: ClientDevice,
    keys: dict[str, object],
    leader_appearance: LeaderAppearance,
    seal_appearance: SealAppearance,
) -> None:
    _, prepared = await prepared_for_leader(
        signer, leader_device, keys, leader_appearance, seal_appearance
    )
    someone_else = ClientDevice(pki, "reviewer")

    with pytest.raises(ExternalSignatureMismatch):
        await signer.complete(
            prepared, someone_else.sign(prepared.signed_attributes), someone_else.remote_key
        )


async def test_remote_agency_signature_gets_validation_data(
    signer: DocumentSigner, pki: SigningPki, trust: TrustStore
) -> None:
    device = ClientDevice(pki, "agency")
    pdf = draft_pdf(pages=1)
    stamp = attachment_stamp("16/QĐ-UBND")
    prepared = await signer.prepare(
        pdf,
        expected_sha256=sha256_hex(pdf),
        key=device.remote_key,
        request=SignatureRequest(
            field_name="con-dau",
            appearance=stamp,
            level=SignatureLevel.B_LT,
            placement=Placement(0, top_right_box(A4, stamp, "2026-01-01T00:00:00+07:00")),
            closes_document=True,
        ),
    )

    signed = await signer.complete(
        prepared, device.sign(prepared.signed_attributes), device.remote_key
    )
    report = await validate_pdf(signed.data, trust)

    assert report.verdict is Verdict.VALID
    assert report.signatures[0].level == "B-LT"


async def test_remote_provider_signs_within_the_request(
    signer: DocumentSigner, pki: SigningPki, trust: TrustStore
) -> None:
    device = ClientDevice(pki, "citizen")
    pdf = draft_pdf(pages=1)

    signed = await signer.sign_remotely(
        pdf,
        expected_sha256=sha256_hex(pdf),
        key=device.remote_key,
        request=SignatureRequest(field_name="cong-dan", level=SignatureLevel.B_T),
        provider=device,
    )
    report = await validate_pdf(signed.data, trust)

    assert report.verdict is Verdict.VALID
    assert report.signatures[0].signer.common_name == "Hoàng Thị Dân"
    assert report.signatures[0].level == "B-T"
