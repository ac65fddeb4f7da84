"""The agency's key on a PKCS#11 token: SoftHSM2 from Debian, tokens made for this run."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pkcs11
import pytest

from services.docs.signing import (
    DocumentSigner,
    LeaderAppearance,
    Pkcs11Key,
    SealAppearance,
    SignedDocument,
    SigningMethod,
    TrustStore,
    Verdict,
    add_signature_fields,
    validate_pdf,
)
from services.docs.signing.errors import KeyUnavailable, WrongPin
from services.docs.signing.pdf import sha256_hex
from tests.signing.conftest import SOFTHSM_MODULE, TOKEN_PIN, Poppler, pdfsig_blocks
from tests.signing.documents import CLERK, LEADER, REVIEWER, draft_pdf, outgoing_plan
from tests.signing.helpers import assert_bilingual


@pytest.fixture
def seal_token(softhsm: dict[str, Path]) -> Iterator[Pkcs11Key]:
    key = Pkcs11Key.open(SOFTHSM_MODULE, token_label="con-dau", pin=TOKEN_PIN, key_label="agency")
    yield key
    key.close()


async def sign_up_to_the_seal(
    signer: DocumentSigner,
    keys: dict[str, object],
    leader_appearance: LeaderAppearance,
    seal_appearance: SealAppearance,
) -> tuple[bytes, object]:
    plan = outgoing_plan(leader_appearance, seal_appearance, agency_method=SigningMethod.PKCS11)
    pdf = add_signature_fields(draft_pdf(), plan)
    for person in (REVIEWER, LEADER):
        signed = await signer.sign_step(
            pdf,
            expected_sha256=sha256_hex(pdf),
            plan=plan,
            person_id=person,
            authenticated_at=datetime.now(UTC),
            key=keys["reviewer" if person == REVIEWER else "leader"],  # type: ignore[arg-type]
            appearance=leader_appearance if person == LEADER else None,
        )
        pdf = signed.data
    return pdf, plan


async def test_agency_seal_signed_on_the_token_is_valid(
    signer: DocumentSigner,
    keys: dict[str, object],
    seal_token: Pkcs11Key,
    leader_appearance: LeaderAppearance,
    seal_appearance: SealAppearance,
    trust: TrustStore,
    poppler: Poppler,
) -> None:
    pdf, plan = await sign_up_to_the_seal(signer, keys, leader_appearance, seal_appearance)

    sealed: SignedDocument = await signer.sign_step(
        pdf,
        expected_sha256=sha256_hex(pdf),
        plan=plan,  # type: ignore[arg-type]
        person_id=CLERK,
        authenticated_at=datetime.now(UTC),
        key=seal_token,
        appearance=seal_appearance,
    )
    report = await validate_pdf(sealed.data, trust)
    blocks = pdfsig_blocks(poppler.pdfsig(sealed.data))

    assert report.verdict is Verdict.VALID
    assert report.signatures[-1].signer.common_name == "Ủy ban nhân dân tỉnh Hưng Yên"
    assert report.signatures[-1].level == "B-LT"
    assert len(blocks) == 3
    assert all("Signature is Valid." in b for b in blocks)
    assert all("Certificate is Trusted." in b for b in blocks)


def test_wrong_pin_is_refused(softhsm: dict[str, Path]) -> None:
    with pytest.raises(WrongPin) as caught:
        Pkcs11Key.open(SOFTHSM_MODULE, token_label="con-dau", pin="000000", key_label="agency")

    assert caught.value.status == 400
    assert_bilingual(caught.value)


def test_absent_token_is_reported(softhsm: dict[str, Path]) -> None:
    with pytest.raises(KeyUnavailable):
        Pkcs11Key.open(SOFTHSM_MODULE, token_label="khong-co", pin=TOKEN_PIN, key_label="agency")


async def test_token_removed_between_login_and_signing_is_reported(
    signer: DocumentSigner,
    keys: dict[str, object],
    softhsm: dict[str, Path],
    leader_appearance: LeaderAppearance,
    seal_appearance: SealAppearance,
) -> None:
    pdf, plan = await sign_up_to_the_seal(signer, keys, leader_appearance, seal_appearance)
    key = Pkcs11Key.open(SOFTHSM_MODULE, token_label="rut-ra", pin=TOKEN_PIN, key_label="agency")
    token_dir = softhsm["rut-ra"]
    kept = token_dir.with_name(token_dir.name + ".rut-ra")
    shutil.move(token_dir, kept)  # the token is pulled out

    try:
        with pytest.raises(KeyUnavailable) as caught:
            await signer.sign_step(
                pdf,
                expected_sha256=sha256_hex(pdf),
                plan=plan,  # type: ignore[arg-type]
                person_id=CLERK,
                authenticated_at=datetime.now(UTC),
                key=key,
                appearance=seal_appearance,
            )
    finally:
        key.close()
        shutil.move(kept, token_dir)  # and plugged back in, for the other tests
        pkcs11.lib(SOFTHSM_MODULE).reinitialize()  # SoftHSM rescans its tokens

    assert caught.value.status == 409
    assert_bilingual(caught.value)


async def test_module_finalised_between_login_and_signing_is_reported(
    signer: DocumentSigner,
    keys: dict[str, object],
    seal_token: Pkcs11Key,
    leader_appearance: LeaderAppearance,
    seal_appearance: SealAppearance,
) -> None:
    pdf, plan = await sign_up_to_the_seal(signer, keys, leader_appearance, seal_appearance)
    pkcs11.lib(SOFTHSM_MODULE).finalize()  # the middleware loses every session

    with pytest.raises(KeyUnavailable):
        await signer.sign_step(
            pdf,
            expected_sha256=sha256_hex(pdf),
            plan=plan,  # type: ignore[arg-type]
            person_id=CLERK,
            authenticated_at=datetime.now(UTC),
            key=seal_token,
            appearance=seal_appearance,
        )
