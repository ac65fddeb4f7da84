"""What can go wrong when signing, as problem details (Vietnamese first, English second).

Every refusal happens before anything is returned for storage: a caller that gets one of these
has no signed bytes to keep."""

from __future__ import annotations

from services.common.problems import Conflict, Forbidden, InvalidInput, Unauthenticated


class PdfEncrypted(InvalidInput):
    code = "pdf-encrypted"
    title_vi = "Tệp PDF được mã hóa"
    title_en = "The PDF is encrypted"


class PdfCorrupt(InvalidInput):
    code = "pdf-corrupt"
    title_vi = "Tệp PDF bị hỏng hoặc không đọc được"
    title_en = "The PDF is corrupt or unreadable"


class DocumentChanged(Conflict):
    """The bytes to sign are not the bytes the signer was shown."""

    code = "document-changed"
    title_vi = "Văn bản đã thay đổi so với bản người ký đã xem"
    title_en = "The document differs from the one shown to the signer"


class ExistingSignaturesWouldBreak(Conflict):
    code = "signatures-would-break"
    title_vi = "Ký thêm sẽ làm mất hiệu lực chữ ký đã có"
    title_en = "A new signature would invalidate the existing signatures"


class CertificateRefused(InvalidInput):
    """Base of the refusals about the signer's certificate."""

    code = "certificate-refused"
    title_vi = "Chứng thư số không dùng được để ký"
    title_en = "The certificate cannot be used for signing"


class CertificateExpired(CertificateRefused):
    code = "certificate-expired"
    title_vi = "Chứng thư số đã hết hạn hoặc chưa có hiệu lực"
    title_en = "The certificate has expired or is not yet valid"


class CertificateRevoked(CertificateRefused):
    code = "certificate-revoked"
    title_vi = "Chứng thư số đã bị thu hồi"
    title_en = "The certificate has been revoked"


class CertificateUntrusted(CertificateRefused):
    code = "certificate-untrusted"
    title_vi = "Chứng thư số không được cấp bởi tổ chức tin cậy"
    title_en = "The certificate does not chain to a trusted root"


class KeyUsageMissing(CertificateRefused):
    code = "key-usage-missing"
    title_vi = "Chứng thư số không cho phép ký số"
    title_en = "The certificate does not allow digital signatures"


class WrongPin(InvalidInput):
    code = "wrong-pin"
    title_vi = "Mã PIN hoặc mật khẩu khóa không đúng"
    title_en = "Wrong PIN or key passphrase"


class KeyUnavailable(Conflict):
    """The token or key went away (removed, logged out) between steps."""

    code = "key-unavailable"
    title_vi = "Thiết bị ký số không còn kết nối"
    title_en = "The signing token is no longer available"


class ExternalSignatureMismatch(InvalidInput):
    code = "external-signature-mismatch"
    title_vi = "Chữ ký gửi về không khớp với bản tóm lược đã chuẩn bị"
    title_en = "The returned signature does not match the prepared digest"


class NotSignersTurn(Forbidden):
    code = "not-signers-turn"
    title_vi = "Không phải lượt ký của người này"
    title_en = "It is not this person's turn to sign"


class StepOutOfOrder(Conflict):
    code = "signing-step-out-of-order"
    title_vi = "Bước ký không đúng thứ tự"
    title_en = "The signing step is out of order"


class InvalidPlan(InvalidInput):
    code = "invalid-signing-plan"
    title_vi = "Kế hoạch ký không hợp lệ"
    title_en = "Invalid signing plan"


class ReauthenticationRequired(Unauthenticated):
    code = "reauthentication-required"
    title_vi = "Cần xác thực lại trước khi ký"
    title_en = "A fresh authentication is required before signing"


class SigningFailed(Conflict):
    """A signing failure with no more specific cause (a TSA that refused, a layout that does
    not fit); the detail says which."""

    code = "signing-failed"
    title_vi = "Không ký được văn bản"
    title_en = "The document could not be signed"
