"""Bad input is refused with a clear 4xx problem before anything is signed: nothing comes back
to store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.common.problems import Problem
from services.docs.signing import (
    DocumentSigner,
    LeaderAppearance,
    Pkcs12Key,
    Placement,
    SealAppearance,
    SignatureLevel,
    SignatureRequest,
    SignedDocument,
    SigningMethod,
    add_signature_fields,
    attachment_stamp,
    top_right_box,
)
from services.docs.signing.errors import (
    CertificateExpired,
    CertificateRevoked,
    DocumentChanged,
    ExistingSignaturesWouldBreak,
    KeyUsageMissing,
    NotSignersTurn,
    PdfCorrupt,
    PdfEncrypted,
    ReauthenticationRequired,
    SigningFailed,
    StepOutOfOrder,
    WrongPin,
)
from services.docs.signing.pdf import sha256_hex
from tests.signing.documents import (
    A4,
    CLERK,
    LEADER,
    REVIEWER,
    draft_pdf,
    outgoing_plan,
)
from tests.signing.helpers import assert_bilingual, sign_elsewhere
from tests.signing.pki import SigningPki


def stamp_request(field_name: str = "phu-luc") -> SignatureRequest:
    stamp = attachment_stamp("15/QĐ-UBND")
    return SignatureRequest(
        field_name=field_name,
        appearance=stamp,
        level=SignatureLevel.B_B,
        placement=Placement(0, top_right_box(A4, stamp, "2026-01-01T00:00:00+07:00")),
    )


async def refused(
    signer: DocumentSigner, pdf: bytes, key: Pkcs12Key, expected: type[Problem]
) -> Problem:
    with pytest.raises(expected) as caught:
        await signer.sign(pdf, expected_sha256=sha256_hex(pdf), key=key, request=stamp_request())
    assert_bilingual(caught.value)
    return caught.value


async def test_encrypted_pdf_is_refused(signer: DocumentSigner, keys: dict[str, Pkcs12Key]) -> None:
    problem = await refused(signer, draft_pdf(encrypt_with="bi-mat"), keys["agency"], PdfEncrypted)

    assert problem.status == 400
    assert problem.code == "pdf-encrypted"


@pytest.mark.parametrize(
    "data",
    [
        b"not a pdf at all",
        b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< >>\n%%EOF",
        draft_pdf()[:300],
    ],
    ids=["not-pdf", "no-xref", "truncated"],
)
async def test_corrupt_pdf_is_refused(
    signer: DocumentSigner, keys: dict[str, Pkcs12Key], data: bytes
) -> None:
    problem = await refused(signer, data, keys["agency"], PdfCorrupt)

    assert problem.code == "pdf-corrupt"


async def test_bytes_other_than_those_shown_are_refused(
    signer: DocumentSigner, keys: dict[str, Pkcs12Key]
) -> None:
    shown = draft_pdf()
    sent = draft_pdf(pages=3)

    with pytest.raises(DocumentChanged) as caught:
        await signer.sign(
            sent, expected_sha256=sha256_hex(shown), key=keys["agency"], request=stamp_request()
        )

    assert caught.value.status == 409
    assert caught.value.extensions["actual_sha256"] == sha256_hex(sent)
    assert_bilingual(caught.value)


async def test_document_closed_by_the_agency_signature_takes_no_more(
    signer: DocumentSigner,
    keys: dict[str, Pkcs12Key],
    signed_in_turn: tuple[bytes, list[SignedDocument]],
) -> None:
    _, signed = signed_in_turn

    problem = await refused(signer, signed[-1].data, keys["agency"], ExistingSignaturesWouldBreak)

    assert problem.code == "signatures-would-break"


async def test_certified_document_without_changes_allowed_is_refused(
    signer: DocumentSigner, keys: dict[str, Pkcs12Key]
) -> None:
    certified = await sign_elsewhere(draft_pdf(), keys["citizen"], certify=True)

    await refused(signer, certified, keys["agency"], ExistingSignaturesWouldBreak)


async def test_field_locked_by_an_earlier_signature_is_refused(
    signer: DocumentSigner, keys: dict[str, Pkcs12Key]
) -> None:
    locked = await sign_elsewhere(draft_pdf(), keys["citizen"], lock_fields=["phu-luc"])

    await refused(signer, locked, keys["agency"], ExistingSignaturesWouldBreak)


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("revoked", CertificateRevoked),
        ("expired", CertificateExpired),
        ("no-sign-usage", KeyUsageMissing),
    ],
)
async def test_unusable_certificates_cannot_sign(
    signer: DocumentSigner, keys: dict[str, Pkcs12Key], label: str, expected: type[Problem]
) -> None:
    problem = await refused(signer, draft_pdf(), keys[label], expected)

    assert problem.status == 400


def test_wrong_pkcs12_passphrase_is_refused(pki: SigningPki) -> None:
    with pytest.raises(WrongPin) as caught:
        Pkcs12Key.from_bytes(pki.pkcs12("agency"), b"sai-mat-khau")

    assert_bilingual(caught.value)


class TestPlanOrder:
    """Only the person whose step it is may sign, in the plan's order, freshly authenticated."""

    @pytest.fixture
    def finalised(
        self, leader_appearance: LeaderAppearance, seal_appearance: SealAppearance
    ) -> bytes:
        return add_signature_fields(draft_pdf(), outgoing_plan(leader_appearance, seal_appearance))

    async def sign_as(
        self,
        signer: DocumentSigner,
        pdf: bytes,
        person: str,
        key: Pkcs12Key,
        leader_appearance: LeaderAppearance,
        seal_appearance: SealAppearance,
        authenticated_at: datetime | None = None,
    ) -> SignedDocument:
        return await signer.sign_step(
            pdf,
            expected_sha256=sha256_hex(pdf),
            plan=outgoing_plan(leader_appearance, seal_appearance),
            person_id=person,
            authenticated_at=authenticated_at or datetime.now(UTC),
            key=key,
            appearance=leader_appearance,
        )

    async def test_leader_cannot_sign_before_the_reviewer(
        self,
        signer: DocumentSigner,
        keys: dict[str, Pkcs12Key],
        finalised: bytes,
        leader_appearance: LeaderAppearance,
        seal_appearance: SealAppearance,
    ) -> None:
        with pytest.raises(NotSignersTurn) as caught:
            await self.sign_as(
                signer, finalised, LEADER, keys["leader"], leader_appearance, seal_appearance
            )

        assert caught.value.status == 403

    async def test_someone_outside_the_plan_cannot_sign(
        self,
        signer: DocumentSigner,
        keys: dict[str, Pkcs12Key],
        finalised: bytes,
        leader_appearance: LeaderAppearance,
        seal_appearance: SealAppearance,
    ) -> None:
        with pytest.raises(NotSignersTurn):
            await self.sign_as(
                signer, finalised, "nguoi-la", keys["leader"], leader_appearance, seal_appearance
            )

    async def test_stale_authentication_is_refused(
        self,
        signer: DocumentSigner,
        keys: dict[str, Pkcs12Key],
        finalised: bytes,
        leader_appearance: LeaderAppearance,
        seal_appearance: SealAppearance,
    ) -> None:
        long_ago = datetime.now(UTC) - timedelta(hours=1)

        with pytest.raises(ReauthenticationRequired) as caught:
            await self.sign_as(
                signer,
                finalised,
                REVIEWER,
                keys["reviewer"],
                leader_appearance,
                seal_appearance,
                long_ago,
            )

        assert caught.value.status == 401

    async def test_signing_with_another_method_than_planned_is_refused(
        self,
        signer: DocumentSigner,
        keys: dict[str, Pkcs12Key],
        leader_appearance: LeaderAppearance,
        seal_appearance: SealAppearance,
    ) -> None:
        plan = outgoing_plan(leader_appearance, seal_appearance, agency_method=SigningMethod.PKCS11)
        pdf = add_signature_fields(draft_pdf(), plan)
        for person, key in ((REVIEWER, keys["reviewer"]), (LEADER, keys["leader"])):
            pdf = (
                await signer.sign_step(
                    pdf,
                    expected_sha256=sha256_hex(pdf),
                    plan=plan,
                    person_id=person,
                    authenticated_at=datetime.now(UTC),
                    key=key,
                    appearance=None,
                )
            ).data

        with pytest.raises(SigningFailed):
            await signer.sign_step(
                pdf,
                expected_sha256=sha256_hex(pdf),
                plan=plan,
                person_id=CLERK,
                authenticated_at=datetime.now(UTC),
                key=keys["agency"],
                appearance=seal_appearance,
            )

    async def test_a_signed_field_cannot_be_signed_again(
        self,
        signer: DocumentSigner,
        keys: dict[str, Pkcs12Key],
        signed_in_turn: tuple[bytes, list[SignedDocument]],
    ) -> None:
        _, signed = signed_in_turn
        first = signed[0].data

        with pytest.raises(StepOutOfOrder):
            await signer.sign(
                first,
                expected_sha256=sha256_hex(first),
                key=keys["reviewer"],
                request=SignatureRequest(field_name="ky-nhay-1"),
            )
