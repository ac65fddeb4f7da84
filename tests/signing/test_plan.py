"""The signing plan: the order of Decree 30/2020 and the fields created at finalisation."""

from __future__ import annotations

from io import BytesIO

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import MDPPerm, enumerate_sig_fields

from services.docs.signing import (
    LeaderAppearance,
    SealAppearance,
    SignedDocument,
    SigningMethod,
    SigningPlan,
    SigningRole,
    SigningStep,
    add_signature_fields,
)
from services.docs.signing.errors import InvalidPlan, NotSignersTurn, StepOutOfOrder
from tests.signing.documents import CLERK, LEADER, REVIEWER, draft_pdf, outgoing_plan


def step(name: str, role: SigningRole, person: str = "ai-do") -> SigningStep:
    return SigningStep(field_name=name, role=role, person_id=person, method=SigningMethod.PKCS12)


@pytest.mark.parametrize(
    "roles",
    [
        [SigningRole.LEADER, SigningRole.REVIEWER, SigningRole.AGENCY],  # initials after leader
        [SigningRole.REVIEWER, SigningRole.AGENCY],  # nobody competent signs
        [SigningRole.REVIEWER, SigningRole.AGENCY, SigningRole.LEADER],  # agency not last
        [SigningRole.LEADER],  # no agency signature
    ],
)
def test_plans_against_the_decree_are_refused(roles: list[SigningRole]) -> None:
    with pytest.raises(InvalidPlan) as caught:
        SigningPlan("vb", steps=tuple(step(f"o-{i}", r) for i, r in enumerate(roles)))

    assert caught.value.status == 400


def test_repeated_field_names_are_refused() -> None:
    with pytest.raises(InvalidPlan):
        SigningPlan("vb", steps=(step("o", SigningRole.LEADER), step("o", SigningRole.AGENCY)))


def test_turns_follow_the_plan() -> None:
    plan = SigningPlan(
        "vb",
        steps=(
            step("nhay", SigningRole.REVIEWER, REVIEWER),
            step("ky", SigningRole.LEADER, LEADER),
            step("dau", SigningRole.AGENCY, CLERK),
        ),
    )

    assert plan.turn_of(REVIEWER, set()).field_name == "nhay"
    assert plan.turn_of(LEADER, {"nhay"}).field_name == "ky"
    assert plan.next_step({"nhay", "ky", "dau"}) is None
    with pytest.raises(NotSignersTurn):
        plan.turn_of(CLERK, {"nhay"})
    with pytest.raises(StepOutOfOrder):
        plan.next_step({"ky"})  # the leader's field signed before the initials


def test_finalising_creates_the_empty_fields_with_their_locks(
    leader_appearance: LeaderAppearance, seal_appearance: SealAppearance
) -> None:
    plan = outgoing_plan(leader_appearance, seal_appearance)

    draft = draft_pdf()
    finalised = add_signature_fields(draft, plan)
    reader = PdfFileReader(BytesIO(finalised))
    fields = {name: field for name, _, field in enumerate_sig_fields(reader)}

    assert list(fields) == ["ky-nhay-1", "lanh-dao", "con-dau"]
    locks = {name: MDPPerm(field.get_object()["/Lock"]["/P"]) for name, field in fields.items()}
    assert locks == {
        "ky-nhay-1": MDPPerm.FILL_FORMS,
        "lanh-dao": MDPPerm.FILL_FORMS,
        "con-dau": MDPPerm.NO_CHANGES,
    }
    assert finalised.startswith(draft)  # an incremental update of the draft


def test_signed_draft_is_not_finalised_again(
    signed_in_turn: tuple[bytes, list[SignedDocument]],
    leader_appearance: LeaderAppearance,
    seal_appearance: SealAppearance,
) -> None:
    _, signed = signed_in_turn

    with pytest.raises(StepOutOfOrder):
        add_signature_fields(signed[0].data, outgoing_plan(leader_appearance, seal_appearance))
