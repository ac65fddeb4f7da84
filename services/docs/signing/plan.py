"""The signing plan of a document: who signs, in which order, where, and how.

Decree 30/2020 orders the signatures of an outgoing document: reviewers initial the draft
(ký nháy), the competent person signs (art. 13.7), and only then the clerk applies the agency's
signature (art. 14, 17.2, 32.2.d). The plan's fields are created when the draft is finalised,
in one incremental update, so that each later signature only fills its own field.

Each signature but the last leaves the document open for form filling and signing (DocMDP P=2
in the field's lock dictionary); the agency's signature closes it (P=1): after it only
validation information and document timestamps may be added (ISO 32000-2 12.8.2.2)."""

# mypy: disable-error-code="no-untyped-call"
# (pyHanko and pyhanko-certvalidator leave many constructors unannotated.)

from __future__ import annotations

import enum
from io import BytesIO

import msgspec
from pyhanko.sign.fields import (
    FieldMDPAction,
    FieldMDPSpec,
    MDPPerm,
    SigFieldSpec,
    append_signature_field,
)

from services.docs.signing.errors import InvalidPlan, NotSignersTurn, StepOutOfOrder
from services.docs.signing.keys import SigningMethod
from services.docs.signing.pdf import open_for_signing, signed_field_names


class SigningRole(enum.StrEnum):
    REVIEWER = "reviewer"  # ký nháy / ký tắt
    LEADER = "leader"  # the competent person (box 7)
    AGENCY = "agency"  # the agency's signature, applied by the clerk (box 8)


class SignatureLevel(enum.StrEnum):
    """PAdES baseline levels (ETSI EN 319 142-1)."""

    B_B = "B-B"
    B_T = "B-T"  # with an RFC 3161 signature timestamp
    B_LT = "B-LT"  # with the validation data (certificates, OCSP, CRLs) in the DSS


_ROLE_ORDER = {SigningRole.REVIEWER: 0, SigningRole.LEADER: 1, SigningRole.AGENCY: 2}


class Placement(msgspec.Struct, frozen=True):
    """A visible field: page index (0 = first) and box (x1, y1, x2, y2) in points."""

    page: int
    box: tuple[float, float, float, float]


class SigningStep(msgspec.Struct, frozen=True, kw_only=True):
    field_name: str
    role: SigningRole
    person_id: str
    method: SigningMethod
    placement: Placement | None = None  # None: an invisible signature
    level: SignatureLevel | None = None  # None: chosen by role and the TSA's availability

    @property
    def closes_document(self) -> bool:
        return self.role is SigningRole.AGENCY


class SigningPlan(msgspec.Struct, frozen=True):
    document_id: str
    steps: tuple[SigningStep, ...]

    def __post_init__(self) -> None:
        names = [s.field_name for s in self.steps]
        problems = []
        if len(set(names)) != len(names):
            problems.append("field names repeat")
        if any(not n or "." in n for n in names):
            problems.append("a field name is empty or has a dot")
        ranks = [_ROLE_ORDER[s.role] for s in self.steps]
        if ranks != sorted(ranks):
            problems.append("reviewers sign before leaders, leaders before the agency")
        if SigningRole.LEADER not in {s.role for s in self.steps}:
            problems.append("a competent person must sign (Decree 30/2020 art. 5)")
        if not self.steps or self.steps[-1].role is not SigningRole.AGENCY:
            problems.append("the agency signs last (art. 32.2.d)")
        if problems:
            raise InvalidPlan(
                "Kế hoạch ký không hợp lệ: " + "; ".join(problems),
                "Invalid signing plan: " + "; ".join(problems),
            )

    def step(self, field_name: str) -> SigningStep:
        for step in self.steps:
            if step.field_name == field_name:
                return step
        raise StepOutOfOrder(
            f"Ô chữ ký '{field_name}' không có trong kế hoạch ký.",
            f"The field '{field_name}' is not in the signing plan.",
        )

    def next_step(self, signed: set[str]) -> SigningStep | None:
        """The step whose turn it is, given the fields already signed in the PDF."""
        pending = [s for s in self.steps if s.field_name not in signed]
        if pending:
            first = self.steps.index(pending[0])
            if any(s.field_name in signed for s in self.steps[first + 1 :]):
                raise StepOutOfOrder(
                    "Văn bản có chữ ký không theo thứ tự của kế hoạch ký.",
                    "The document carries signatures out of the plan's order.",
                )
            return pending[0]
        return None

    def turn_of(self, person_id: str, signed: set[str]) -> SigningStep:
        step = self.next_step(signed)
        if step is None:
            raise StepOutOfOrder(
                "Văn bản đã được ký đủ theo kế hoạch.", "Every step of the plan is signed."
            )
        if step.person_id != person_id:
            raise NotSignersTurn(
                f"Đang chờ bước ký '{step.field_name}' của người khác.",
                f"The document waits for step '{step.field_name}' of another person.",
            )
        return step

    def field_spec(self, step: SigningStep) -> SigFieldSpec:
        # A lock that locks no field but carries the DocMDP level that applies after signing.
        lock = FieldMDPSpec(FieldMDPAction.INCLUDE, fields=[])
        after = MDPPerm.NO_CHANGES if step.closes_document else MDPPerm.FILL_FORMS
        placement = step.placement
        box = None
        page = 0
        if placement is not None:
            page = placement.page
            x1, y1, x2, y2 = placement.box
            box = (round(x1), round(y1), round(x2), round(y2))
        return SigFieldSpec(
            sig_field_name=step.field_name,
            on_page=page,
            box=box,
            field_mdp_spec=lock,
            doc_mdp_update_value=after,
        )


def add_signature_fields(pdf: bytes, plan: SigningPlan) -> bytes:
    """Finalise a draft: append the plan's empty signature fields as one incremental update."""
    writer = open_for_signing(pdf)
    existing = signed_field_names(writer.prev)
    if existing:
        raise StepOutOfOrder(
            "Dự thảo đã có chữ ký; không tạo lại các ô chữ ký.",
            "The draft is already signed; its signature fields cannot be created again.",
        )
    pages = int(writer.root["/Pages"]["/Count"])
    for step in plan.steps:
        if step.placement is not None and not 0 <= step.placement.page < pages:
            raise InvalidPlan(
                f"Trang {step.placement.page + 1} không có trong văn bản.",
                f"The document has no page {step.placement.page + 1}.",
            )
        try:
            append_signature_field(writer, plan.field_spec(step))
        except Exception as exc:  # pyHanko refuses a name that already exists this way
            raise StepOutOfOrder(
                f"Không tạo được ô chữ ký '{step.field_name}'.",
                f"Cannot create the signature field '{step.field_name}' ({exc}).",
            ) from exc
    out = BytesIO()
    writer.write(out)
    return out.getvalue()
