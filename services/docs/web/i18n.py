"""What the web pages say, in Vietnamese first and English second.

The locale comes from the `qlvb_lang` cookie (the switch in the page header), else from the
browser's Accept-Language, else Vietnamese. Keys are English phrases in snake case so a template
reads as what it shows."""

from __future__ import annotations

import datetime as dt
from typing import Literal

Locale = Literal["vi", "en"]
LOCALE_COOKIE = "qlvb_lang"

_MESSAGES: dict[str, tuple[str, str]] = {
    # frame
    "app_name": ("Quản lý văn bản và điều hành", "Documents and executive management"),
    "skip_to_content": ("Bỏ qua đến nội dung", "Skip to content"),
    "home": ("Trang chủ", "Home"),
    "incoming": ("Văn bản đến", "Incoming"),
    "outgoing": ("Văn bản đi", "Outgoing"),
    "search": ("Tìm kiếm", "Search"),
    "log_out": ("Đăng xuất", "Log out"),
    "agency": ("Cơ quan", "Agency"),
    "switch_agency": ("Chuyển cơ quan", "Switch agency"),
    "choose_agency": ("Chọn cơ quan làm việc", "Choose the agency you work in"),
    "choose_agency_hint": (
        "Bạn giữ chức vụ ở nhiều cơ quan. Hãy chọn nơi làm việc cho phiên này.",
        "You hold positions in several agencies. Choose where you work in this session.",
    ),
    "no_membership": (
        "Tài khoản chưa có chức vụ tại cơ quan nào. Hãy liên hệ quản trị đơn vị.",
        "Your account holds no position in any agency. Ask your unit administrator.",
    ),
    "language": ("English", "Tiếng Việt"),
    "save": ("Lưu", "Save"),
    "cancel": ("Hủy", "Cancel"),
    "open": ("Mở", "Open"),
    "back": ("Quay lại", "Back"),
    "working": ("Đang xử lý…", "Working…"),
    "done": ("Đã xong.", "Done."),
    "done_received": (
        "Đã tiếp nhận và vào sổ văn bản.",
        "The document was received and registered.",
    ),
    "done_registered": ("Đã vào sổ văn bản.", "The document was registered."),
    "done_assigned": ("Đã phân công xử lý.", "The document was assigned."),
    "done_opinion": ("Đã gửi ý kiến.", "Your opinion was recorded."),
    "done_completed": ("Đã hoàn thành xử lý.", "Processing is complete."),
    "done_drafted": ("Đã lưu dự thảo.", "The draft was saved."),
    "done_submitted": ("Đã trình duyệt.", "The draft was submitted for review."),
    "done_approved": ("Đã đồng ý.", "Approved."),
    "done_returned": ("Đã trả lại dự thảo.", "The draft was returned."),
    "done_signed": ("Đã ký số.", "Signed."),
    "done_issued": ("Đã cấp số và ban hành.", "Numbered and issued."),
    "error": ("Có lỗi", "Error"),
    "nothing_here": ("Không có văn bản nào.", "No documents."),
    "more": ("Xem thêm", "More"),
    # home
    "waiting_for_me": ("Việc chờ tôi", "Waiting for me"),
    "to_register": ("Chờ vào sổ", "To register"),
    "to_assign": ("Chờ phân công", "To assign"),
    "to_process": ("Đang xử lý", "To process"),
    "to_review": ("Chờ duyệt", "To review"),
    "to_sign": ("Chờ ký", "To sign"),
    "to_issue": ("Chờ ban hành", "To issue"),
    "overdue": ("Quá hạn", "Overdue"),
    "due_soon": ("Sắp đến hạn", "Due soon"),
    "my_work": ("Văn bản tôi được giao", "Documents assigned to me"),
    # incoming list and card
    "receive_paper": ("Tiếp nhận văn bản giấy", "Receive a paper document"),
    "search_placeholder": (
        "Trích yếu, số ký hiệu, nơi gửi… (gõ không dấu cũng được)",
        "Subject, number, sender… (diacritics optional)",
    ),
    "all_states": ("Mọi trạng thái", "All states"),
    "only_mine": ("Chỉ văn bản giao cho tôi", "Only assigned to me"),
    "only_overdue": ("Chỉ văn bản quá hạn", "Only overdue"),
    "arrival_number": ("Số đến", "Arrival no."),
    "number_symbol": ("Số, ký hiệu", "Number and symbol"),
    "sender": ("Nơi gửi", "Sender"),
    "subject": ("Trích yếu", "Subject"),
    "doc_type": ("Loại văn bản", "Document type"),
    "issued_on": ("Ngày ban hành", "Issued on"),
    "arrived_at": ("Ngày đến", "Arrived"),
    "signer": ("Người ký", "Signer"),
    "urgency": ("Độ khẩn", "Urgency"),
    "confidentiality": ("Độ mật", "Confidentiality"),
    "pages": ("Số trang", "Pages"),
    "due_on": ("Hạn xử lý", "Due"),
    "state": ("Trạng thái", "State"),
    "source": ("Hình thức nhận", "Received as"),
    "files": ("Tệp", "Files"),
    "scan": ("Bản quét (PDF)", "Scan (PDF)"),
    "assignments": ("Phân công", "Assignments"),
    "history": ("Lịch sử", "History"),
    "register_it": ("Vào sổ", "Register"),
    "assign": ("Phân công xử lý", "Assign"),
    "assignee": ("Người xử lý", "Assignee"),
    "role_lead": ("Chủ trì", "Lead"),
    "role_cooperate": ("Phối hợp", "Cooperating"),
    "role_inform": ("Để biết", "For information"),
    "deadline": ("Hạn", "Deadline"),
    "direction": ("Ý kiến chỉ đạo", "Direction"),
    "add_person": ("Thêm người", "Add a person"),
    "opinion": ("Ý kiến xử lý", "Opinion"),
    "give_opinion": ("Gửi ý kiến", "Send opinion"),
    "complete": ("Hoàn thành xử lý", "Complete"),
    "result": ("Kết quả xử lý", "Result"),
    "return_to_sender": ("Trả lại", "Return"),
    "reason": ("Lý do", "Reason"),
    "view_pdf": ("Xem tệp", "View file"),
    "download": ("Tải về", "Download"),
    "paper": ("Giấy", "Paper"),
    "electronic": ("Điện tử", "Electronic"),
    # outgoing
    "new_draft": ("Soạn văn bản đi", "Draft a document"),
    "draft_file": ("Tệp dự thảo (PDF)", "Draft file (PDF)"),
    "drafter": ("Người soạn", "Drafter"),
    "unit_abbr": (
        "Viết tắt đơn vị soạn thảo hoặc lĩnh vực (công văn)",
        "Drafting unit or field abbreviation (letters)",
    ),
    "recipients": ("Nơi nhận", "Recipients"),
    "recipient_codes": (
        "Mã định danh nơi nhận, mỗi dòng một mã",
        "Recipient agency codes, one per line",
    ),
    "internal": ("Văn bản nội bộ (không gửi ra ngoài)", "Internal (not dispatched)"),
    "versions": ("Các bản thảo", "Versions"),
    "steps": ("Trình duyệt", "Review"),
    "submit": ("Trình duyệt", "Submit for review"),
    "content_reviewer": ("Lãnh đạo phòng duyệt nội dung", "Content reviewer"),
    "form_reviewer": ("Văn phòng kiểm tra thể thức", "Form reviewer"),
    "approve": ("Đồng ý", "Approve"),
    "return_draft": ("Trả lại", "Return"),
    "comment": ("Ý kiến", "Comment"),
    "sign": ("Ký số", "Sign"),
    "pin": ("Mã PIN chứng thư số", "Certificate PIN"),
    "issue": ("Cấp số và ban hành", "Number and issue"),
    "delivery": ("Tình trạng gửi, nhận", "Delivery"),
    "signatures": ("Chữ ký số", "Digital signatures"),
}

_STATES: dict[str, tuple[str, str]] = {
    "waiting": ("Chờ vào sổ", "Waiting"),
    "registered": ("Đã vào sổ", "Registered"),
    "assigned": ("Đã phân công", "Assigned"),
    "processing": ("Đang xử lý", "Processing"),
    "completed": ("Hoàn thành", "Completed"),
    "returned": ("Đã trả lại", "Returned"),
    "open": ("Đang xử lý", "Open"),
    "reassigned": ("Đã chuyển", "Passed on"),
    "draft": ("Dự thảo", "Draft"),
    "in_review": ("Đang trình duyệt", "In review"),
    "approved": ("Đã duyệt", "Approved"),
    "signed": ("Đã ký", "Signed"),
    "issued": ("Đã ban hành", "Issued"),
    "cancelled": ("Đã hủy", "Cancelled"),
    "pending": ("Chờ", "Pending"),
    "done": ("Xong", "Done"),
    "lead": ("Chủ trì", "Lead"),
    "cooperate": ("Phối hợp", "Cooperating"),
    "inform": ("Để biết", "For information"),
    "normal": ("Thường", "Normal"),
    "khan": ("Khẩn", "Urgent"),
    "thuong_khan": ("Thượng khẩn", "Very urgent"),
    "hoa_toc": ("Hỏa tốc", "Flash"),
    "hoa_toc_hen_gio": ("Hỏa tốc hẹn giờ", "Flash, timed"),
    "mat": ("Mật", "Confidential"),
    "toi_mat": ("Tối mật", "Secret"),
    "tuyet_mat": ("Tuyệt mật", "Top secret"),
    "paper": ("Giấy", "Paper"),
    "electronic": ("Điện tử", "Electronic"),
    # what the history of a document says was done
    "incoming.received": ("Tiếp nhận", "Received"),
    "incoming.registered": ("Vào sổ", "Registered"),
    "incoming.returned": ("Trả lại nơi gửi", "Returned to sender"),
    "incoming.assigned": ("Phân công xử lý", "Assigned"),
    "incoming.reassigned": ("Chuyển tiếp", "Passed on"),
    "incoming.opinion": ("Cho ý kiến", "Opinion"),
    "incoming.completed": ("Hoàn thành xử lý", "Completed"),
    "incoming.extension_requested": ("Xin gia hạn", "Extension requested"),
    "incoming.extension_approved": ("Đồng ý gia hạn", "Extension granted"),
    "incoming.extension_refused": ("Không đồng ý gia hạn", "Extension refused"),
    "incoming.ocr_done": ("Nhận dạng chữ xong", "Text recognised"),
    "outgoing.drafted": ("Soạn thảo", "Drafted"),
    "outgoing.version_added": ("Thêm bản thảo", "New version"),
    "outgoing.opinions_requested": ("Lấy ý kiến", "Opinions requested"),
    "outgoing.opinion_given": ("Cho ý kiến", "Opinion given"),
    "outgoing.submitted": ("Trình duyệt", "Submitted"),
    "outgoing.issued": ("Ban hành", "Issued"),
    # review steps
    "content": ("Duyệt nội dung", "Content review"),
    "form": ("Kiểm tra thể thức", "Form check"),
    "approval": ("Lãnh đạo duyệt", "Approval"),
    "opinion": ("Góp ý", "Opinion"),
}


def locale_of(cookie: str | None, accept_language: str | None) -> Locale:
    if cookie in ("vi", "en"):
        return cookie  # type: ignore[return-value]
    for part in (accept_language or "").split(","):
        tag = part.split(";", 1)[0].strip().lower()
        if tag.startswith("vi"):
            return "vi"
        if tag.startswith("en"):
            return "en"
    return "vi"


class Translator:
    """What a template calls `t(...)`, `label(...)` and `day(...)` for one locale."""

    def __init__(self, locale: Locale) -> None:
        self.locale = locale
        self._index = 0 if locale == "vi" else 1

    def __call__(self, key: str) -> str:
        pair = _MESSAGES.get(key)
        return pair[self._index] if pair else key

    def label(self, value: str | None) -> str:
        """A stored code (state, role, urgency...) in words."""
        if not value:
            return ""
        pair = _STATES.get(value)
        return pair[self._index] if pair else value

    def day(self, value: dt.date | dt.datetime | None) -> str:
        if value is None:
            return ""
        if isinstance(value, dt.datetime):
            local = value.astimezone(dt.timezone(dt.timedelta(hours=7)))
            return local.strftime("%d/%m/%Y %H:%M")
        return value.strftime("%d/%m/%Y")

    def problem(self, detail_vi: str, detail_en: str) -> str:
        return detail_vi if self.locale == "vi" else detail_en


def catalogue_keys() -> set[str]:
    return set(_MESSAGES)
