"""Refusals of the signing steps of the outgoing flow (Vietnamese first, English second)."""

from __future__ import annotations

from services.common.problems import Conflict, Forbidden


class NoCredential(Conflict):
    code = "no-signing-credential"
    title_vi = "Chưa có chứng thư số để ký"
    title_en = "No signing credential"


class CredentialLocked(Forbidden):
    code = "signing-credential-locked"
    title_vi = "Khóa ký số đã bị tạm khóa"
    title_en = "The signing key is locked"


class ServerKeysDisabled(Conflict):
    code = "server-keys-disabled"
    title_vi = "Máy chủ không giữ khóa ký số"
    title_en = "The server holds no signing keys"


class NotTheSignersCertificate(Forbidden):
    code = "certificate-not-signers"
    title_vi = "Chứng thư số không phải của người ký"
    title_en = "The certificate is not the signer's"


class NotTheSigner(Forbidden):
    code = "not-the-signer"
    title_vi = "Không phải người được giao ký"
    title_en = "Not the designated signer"


class SignatureRequired(Conflict):
    code = "signature-required"
    title_vi = "Thiếu chữ ký số bắt buộc"
    title_en = "A required signature is missing"


class DraftSigned(Conflict):
    code = "draft-signed"
    title_vi = "Bản thảo đã được ký"
    title_en = "The draft is signed"


class AlreadySigned(Conflict):
    code = "already-signed"
    title_vi = "Đã ký"
    title_en = "Already signed"


class SigningSessionClosed(Conflict):
    code = "signing-session-closed"
    title_vi = "Phiên ký không còn hiệu lực"
    title_en = "The signing session is no longer open"


class DocumentMoved(Conflict):
    code = "document-moved-on"
    title_vi = "Văn bản vừa thay đổi"
    title_en = "The document changed meanwhile"
