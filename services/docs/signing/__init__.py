"""Digital signatures on documents (issue 6): PAdES signing with the layout of Decree 30/2020
Appendix I, and validation of any signed PDF.

A library for the parts of `services/docs` that sign outgoing documents and verify incoming
ones; it has no HTTP routes of its own.

    plan = SigningPlan(document_id, steps=(reviewer, leader, agency))
    finalised = add_signature_fields(draft_pdf, plan)
    signer = DocumentSigner(trust_store, SigningSettings(tsa_url=...))
    signed = await signer.sign_step(finalised, expected_sha256=..., plan=plan, person_id=...,
                                    authenticated_at=..., key=Pkcs12Key.from_bytes(...),
                                    appearance=LeaderAppearance(...))
    report = await validate_pdf(signed.data, trust_store)
"""

from services.docs.signing.appearance import (
    Authority,
    InitialsAppearance,
    LeaderAppearance,
    SealAppearance,
    TextStampAppearance,
    attachment_stamp,
    copy_stamp,
    seal_box,
    top_right_box,
)
from services.docs.signing.keys import Pkcs11Key, Pkcs12Key, RemoteKey, SigningKey, SigningMethod
from services.docs.signing.plan import (
    Placement,
    SignatureLevel,
    SigningPlan,
    SigningRole,
    SigningStep,
    add_signature_fields,
)
from services.docs.signing.signer import (
    DocumentSigner,
    PreparedSignature,
    RemoteSigningProvider,
    SignatureRequest,
    SignedDocument,
    SigningSettings,
)
from services.docs.signing.trust import TrustStore
from services.docs.signing.validation import (
    SignatureReport,
    ValidationReport,
    Verdict,
    report_json,
    summary_vi,
    validate_pdf,
)

__all__ = [
    "Authority",
    "DocumentSigner",
    "InitialsAppearance",
    "LeaderAppearance",
    "Pkcs11Key",
    "Pkcs12Key",
    "Placement",
    "PreparedSignature",
    "RemoteKey",
    "RemoteSigningProvider",
    "SealAppearance",
    "SignatureLevel",
    "SignatureReport",
    "SignatureRequest",
    "SignedDocument",
    "SigningKey",
    "SigningMethod",
    "SigningPlan",
    "SigningRole",
    "SigningSettings",
    "SigningStep",
    "TextStampAppearance",
    "TrustStore",
    "ValidationReport",
    "Verdict",
    "add_signature_fields",
    "attachment_stamp",
    "copy_stamp",
    "report_json",
    "seal_box",
    "summary_vi",
    "top_right_box",
    "validate_pdf",
]
