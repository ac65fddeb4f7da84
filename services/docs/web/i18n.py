"""What the web pages say, in Vietnamese first and English second.

The locale comes from the `qlvb_lang` cookie (the switch in the page header); Vietnamese
otherwise. Keys are English phrases in snake case so a template
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
    "seal_pin": ("Mã PIN chứng thư số của cơ quan", "The agency certificate's PIN"),
    "sign_hint": (
        "Ký số bản đang xem; nếu dự thảo vừa được sửa, hệ thống sẽ từ chối để bạn xem lại.",
        "Signs the version shown; if the draft changed meanwhile, signing is refused.",
    ),
    "issue_hint": (
        "Văn thư cấp số, ghi số và ngày vào văn bản, ký số của cơ quan rồi ban hành.",
        "The clerk numbers and dates the document, applies the agency's signature and issues.",
    ),
    "acting_for": ("thay mặt", "for"),
    "certificate": ("Chứng thư số", "Certificate"),
    "issued_by_ca": ("cấp bởi", "issued by"),
    "version": ("bản", "version"),
    "issue": ("Cấp số và ban hành", "Number and issue"),
    "delivery": ("Tình trạng gửi, nhận", "Delivery"),
    "signatures": ("Chữ ký số", "Digital signatures"),
    "signature_check": ("Kiểm tra chữ ký số", "Signature check"),
    "ocr_pending": (
        "Đang nhận dạng chữ trên bản quét (OCR)… trang tự cập nhật khi xong.",
        "Recognising the scan's text (OCR)… this updates by itself when done.",
    ),
    "ocr_done": (
        "Đã nhận dạng chữ: tìm được văn bản theo nội dung bản quét.",
        "Text recognised: the document can be found by the scan's content.",
    ),
    "ocr_failed": (
        "Chưa nhận dạng được chữ trên bản quét; hãy báo quản trị hệ thống.",
        "The scan's text could not be recognised yet; tell the administrators.",
    ),
    "verdict_valid": ("Hợp lệ", "Valid"),
    "verdict_invalid": ("Không hợp lệ", "Invalid"),
    "verdict_indeterminate": ("Chưa xác định được", "Indeterminate"),
    "reply": ("Soạn văn bản trả lời", "Draft a reply"),
    "answers": ("Trả lời văn bản đến", "Answers incoming document"),
    "register_confirm": (
        "Kiểm tra, sửa thông tin nơi gửi khai nếu cần, rồi vào sổ.",
        "Check and correct what the sender declared, then register.",
    ),
    # register books and overdue work
    "registers": ("Sổ văn bản", "Registers"),
    "inactive": ("ngừng sử dụng", "inactive"),
    "year": ("Năm", "Year"),
    "print": ("In sổ", "Print"),
    "withheld": ("Văn bản mật (không hiển thị trích yếu)", "Confidential (subject withheld)"),
    "overdue_work": ("Việc quá hạn", "Overdue work"),
    "by_department": ("Theo phòng, ban", "By department"),
    "by_person": ("Theo người xử lý", "By person"),
    "completed_late": ("Hoàn thành trễ hạn", "Completed late"),
    "overdue_documents": ("Xem các văn bản quá hạn", "See the overdue documents"),
    # administration
    "admin": ("Quản trị", "Administration"),
    "admin_overview": ("Tổng quan", "Overview"),
    "agency_tree": ("Cây cơ quan", "Agency tree"),
    "agency_tree_hint": (
        "Cơ quan, đơn vị theo cấp; cây tại một ngày; tổ chức lại.",
        "Agencies by level; the tree on a date; reorganisation.",
    ),
    "people": ("Cán bộ", "People"),
    "people_hint": (
        "Thêm cán bộ, giao chức vụ, vai trò, phòng ban; khóa tài khoản.",
        "Add people; set positions, roles and departments; disable accounts.",
    ),
    "roles": ("Vai trò", "Roles"),
    "roles_hint": (
        "Mỗi vai trò được làm gì và ai đang giữ.",
        "What each role does and who holds it.",
    ),
    "delegations": ("Ủy quyền", "Delegations"),
    "delegations_hint": (
        "Ủy quyền đã giao hoặc được nhận; giao mới, thu hồi.",
        "Delegations given or received; give or revoke one.",
    ),
    "imports": ("Nhập dữ liệu", "Imports"),
    "imports_hint": (
        "Nhập danh sách cơ quan, cán bộ từ tệp Excel: kiểm tra trước, rồi nhập.",
        "Import agencies or people from a spreadsheet: check first, then apply.",
    ),
    "connectors": ("Kết nối liên thông", "Interchange connectors"),
    "connectors_hint": (
        "Kết nối của các cơ quan với trục liên thông văn bản và tình trạng.",
        "Each agency's connection to the document axis, and its health.",
    ),
    "dead_letters": ("Thư hỏng", "Dead letters"),
    "dead_letters_hint": (
        "Văn bản, gói tin không chuyển được hoặc bị từ chối; chạy lại.",
        "Documents and packets not delivered or refused; replay them.",
    ),
    "administering": ("Cơ quan đang quản trị", "Administering"),
    "no_agency_chosen": ("chưa chọn", "none chosen"),
    "choose_other_agency": ("Chọn cơ quan khác", "Choose another agency"),
    "choose_administered": ("Chọn cơ quan cần quản trị", "Choose the agency to administer"),
    "choose_administered_hint": (
        "Tài khoản vận hành nền tảng không thuộc cơ quan nào. Hãy chọn cơ quan cần quản lý "
        "cán bộ, vai trò.",
        "A platform operator belongs to no agency. Choose the agency whose people and roles "
        "you manage.",
    ),
    "choose": ("Chọn", "Choose"),
    "choose_dots": ("— Chọn —", "— Choose —"),
    "show": ("Xem", "Show"),
    "actions": ("Thao tác", "Actions"),
    # agency tree and reorganisation
    "as_of": ("Tại ngày", "As of"),
    "include_inactive_agencies": (
        "Gồm cả cơ quan đã ngừng hoạt động",
        "Include agencies no longer active",
    ),
    "tree_as_of": ("Cây cơ quan tại ngày", "The tree as of"),
    "whole_tree": ("Toàn bộ cây", "The whole tree"),
    "tree_from_here": ("Cây từ cơ quan này", "The tree from here"),
    "no_agencies": ("Không có cơ quan nào.", "No agencies."),
    "agency_code": ("Mã định danh", "Agency code"),
    "short_name": ("Tên viết tắt", "Short name"),
    "level": ("Cấp", "Level"),
    "parent_agency": ("Cơ quan cấp trên", "Parent agency"),
    "valid_from": ("Từ ngày", "From"),
    "valid_to": ("Đến ngày", "Until"),
    "successor": ("Cơ quan kế thừa", "Successor"),
    "address": ("Địa chỉ", "Address"),
    "name": ("Tên", "Name"),
    "predecessors": ("Cơ quan tiền thân", "Predecessors"),
    "reorganise": ("Tổ chức lại", "Reorganise"),
    "reorganise_hint": (
        "Mỗi thay đổi có hiệu lực từ một ngày, theo một văn bản quyết định; lịch sử giữ cả "
        "trước và sau thay đổi.",
        "Each change takes effect on a date under a decision; the history keeps both before "
        "and after.",
    ),
    "rename": ("Đổi tên", "Rename"),
    "new_name": ("Tên mới", "New name"),
    "move": ("Chuyển cơ quan cấp trên", "Move"),
    "new_parent": ("Cơ quan cấp trên mới", "New parent agency"),
    "top_of_tree": ("(Không có — cấp cao nhất)", "(None — top of the tree)"),
    "merge": ("Sáp nhập", "Merge"),
    "merge_into": ("Sáp nhập vào", "Merge into"),
    "merge_also": (
        "Cùng sáp nhập các cơ quan (không bắt buộc)",
        "Also merge these agencies (optional)",
    ),
    "confirm_merge": (
        "Tôi xác nhận sáp nhập cơ quan này từ ngày có hiệu lực.",
        "I confirm this agency merges on the effective date.",
    ),
    "dissolve": ("Giải thể", "Dissolve"),
    "records_go_to": (
        "Cơ quan tiếp nhận hồ sơ và cơ quan trực thuộc",
        "Agency taking over the records and subordinate agencies",
    ),
    "no_successor": ("(Không có)", "(None)"),
    "confirm_dissolve": (
        "Tôi xác nhận giải thể cơ quan này từ ngày có hiệu lực.",
        "I confirm this agency is dissolved on the effective date.",
    ),
    "effective_date": ("Ngày có hiệu lực", "Effective date"),
    "decision_reference": ("Văn bản quyết định", "Decision"),
    "decision_reference_example": ("Nghị quyết 1656/NQ-UBTVQH15", "Resolution 1656/NQ-UBTVQH15"),
    # people and roles
    "add_person_hint": (
        "Người đã có tài khoản ở cơ quan khác (cùng tên đăng nhập) được thêm chức vụ tại cơ "
        "quan này. Tài khoản đăng nhập được tạo tự động.",
        "Someone with an account in another agency (same username) gets a position here. "
        "The login account is created automatically.",
    ),
    "username": ("Tên đăng nhập", "Username"),
    "username_hint": (
        "3–64 ký tự a-z, 0-9, dấu chấm, gạch dưới, gạch ngang.",
        "3 to 64 of a-z, 0-9, '.', '_', '-'.",
    ),
    "full_name": ("Họ và tên", "Full name"),
    "email": ("Thư điện tử", "Email"),
    "phone": ("Điện thoại", "Phone"),
    "title": ("Chức danh", "Title"),
    "position": ("Chức vụ", "Position"),
    "department": ("Phòng, ban", "Department"),
    "no_department": ("(Không thuộc phòng, ban)", "(No department)"),
    "account": ("Tài khoản", "Account"),
    "account_enabled": ("Đang sử dụng", "Enabled"),
    "account_disabled": ("Đã khóa", "Disabled"),
    "include_ended_positions": ("Gồm cả chức vụ đã kết thúc", "Include ended positions"),
    "position_ended": ("Đã thôi chức vụ", "Position ended"),
    "no_people": ("Cơ quan chưa có cán bộ nào.", "No people in this agency."),
    "no_people_found": ("Không tìm thấy cán bộ phù hợp.", "Nobody matches."),
    "people_search_placeholder": (
        "Họ tên, tên đăng nhập, thư điện tử (gõ không dấu cũng được)",
        "Name, username, email (diacritics optional)",
    ),
    "person_id": ("Mã cán bộ", "Person id"),
    "disable_account": ("Khóa tài khoản", "Disable account"),
    "enable_account": ("Mở khóa tài khoản", "Enable account"),
    "disable_hint": (
        "Khóa tài khoản có hiệu lực ở mọi cơ quan và kết thúc các phiên đăng nhập của người đó.",
        "Disabling applies in every agency and ends the person's sessions.",
    ),
    "position_in_agency": ("Chức vụ tại cơ quan", "Position in this agency"),
    "confirm_end_membership": (
        "Tôi xác nhận người này thôi chức vụ tại cơ quan.",
        "I confirm this person leaves their position here.",
    ),
    "end_membership": ("Kết thúc chức vụ", "End position"),
    "no_position_here": ("Không có chức vụ tại cơ quan này.", "No position in this agency."),
    "roles_page_hint": (
        "Vai trò quyết định cán bộ được làm gì trong cơ quan; một người có thể giữ nhiều vai "
        "trò. Sửa vai trò ở trang của từng cán bộ.",
        "Roles decide what a person may do in the agency; one may hold several. Change them "
        "on each person's page.",
    ),
    "nobody_holds_role": ("Chưa ai giữ vai trò này.", "Nobody holds this role."),
    "role_about.clerk": (
        "Tiếp nhận, vào sổ văn bản đến; cấp số, ban hành văn bản đi.",
        "Receives and registers incoming documents; numbers and issues outgoing ones.",
    ),
    "role_about.specialist": (
        "Xử lý văn bản được giao, cho ý kiến, soạn dự thảo.",
        "Processes assigned documents, gives opinions, drafts replies.",
    ),
    "role_about.department_head": (
        "Phân công trong phòng, duyệt nội dung dự thảo.",
        "Assigns work in the department and reviews drafts.",
    ),
    "role_about.deputy_leader": (
        "Phân công, chỉ đạo xử lý; ký văn bản theo phân công; ủy quyền.",
        "Assigns and directs; signs as assigned; delegates.",
    ),
    "role_about.leader": (
        "Phân công, chỉ đạo xử lý; ký, ban hành văn bản; ủy quyền.",
        "Assigns and directs; signs documents; delegates.",
    ),
    "role_about.agency_admin": (
        "Quản lý cán bộ, chức vụ, vai trò, phòng ban của cơ quan.",
        "Manages the agency's people, positions, roles and departments.",
    ),
    # delegations
    "new_delegation": ("Giao ủy quyền", "New delegation"),
    "delegate": ("Người được ủy quyền", "Delegate"),
    "delegator": ("Người ủy quyền", "Delegator"),
    "delegate_id": ("Mã cán bộ được ủy quyền", "Delegate's person id"),
    "delegate_id_hint": (
        "Danh bạ cơ quan chưa cung cấp mã cán bộ; hãy nhập mã do quản trị cơ quan cung cấp "
        "(trang Cán bộ).",
        "The directory does not give person ids yet; enter the id the agency administrator "
        "gives you (People page).",
    ),
    "starts_at": ("Bắt đầu", "Starts"),
    "ends_at": ("Kết thúc", "Ends"),
    "delegation_scope": ("Phạm vi ủy quyền", "Scope"),
    "delegation_scope_example": (
        "Ký văn bản thay trong thời gian đi công tác",
        "Sign on my behalf while I am away",
    ),
    "delegate_it": ("Ủy quyền", "Delegate"),
    "delegations_leaders_only": (
        "Chỉ lãnh đạo cơ quan giao ủy quyền; dưới đây là các ủy quyền liên quan đến bạn.",
        "Only leaders delegate; below are the delegations that concern you.",
    ),
    "my_delegations": ("Ủy quyền đã giao hoặc được nhận", "Delegations given or received"),
    "period": ("Thời gian", "Period"),
    "revoke": ("Thu hồi", "Revoke"),
    "no_delegations": ("Chưa có ủy quyền nào.", "No delegations."),
    "delegation.in_force": ("Đang hiệu lực", "In force"),
    "delegation.scheduled": ("Chưa bắt đầu", "Not started"),
    "delegation.ended": ("Đã hết hạn", "Ended"),
    "delegation.revoked": ("Đã thu hồi", "Revoked"),
    # imports
    "imports_page_hint": (
        "Tải lên tệp Excel (.xlsx) hoặc CSV theo mẫu. Hệ thống kiểm tra từng dòng trước mà "
        "không ghi gì; chỉ tệp không còn dòng sai mới nhập được.",
        "Upload an Excel (.xlsx) or CSV file in the template's layout. Every line is checked "
        "first and nothing is written; only a file without bad lines can be applied.",
    ),
    "import_kind": ("Loại dữ liệu", "What to import"),
    "import_people": ("Cán bộ và chức vụ", "People and positions"),
    "import_agencies": ("Cơ quan, đơn vị", "Agencies"),
    "import_file": ("Tệp dữ liệu", "File"),
    "check_file": ("Kiểm tra tệp (chạy thử)", "Check the file (dry run)"),
    "uploading": ("Đang tải tệp lên", "Uploading"),
    "import_working": (
        "Đang tải lên và kiểm tra tệp; tệp lớn có thể mất vài phút…",
        "Uploading and checking; a large file may take a few minutes…",
    ),
    "import_checked": ("Kết quả kiểm tra (chưa ghi gì)", "Check result (nothing written)"),
    "import_applied": ("Đã nhập dữ liệu", "Imported"),
    "import_not_applied": ("Chưa nhập dữ liệu", "Not imported"),
    "lines_read": ("Số dòng đã đọc", "Lines read"),
    "bad_lines": ("Số dòng sai", "Bad lines"),
    "will_create": ("Sẽ thêm mới", "Would create"),
    "will_update": ("Sẽ cập nhật", "Would update"),
    "created": ("Đã thêm mới", "Created"),
    "updated": ("Đã cập nhật", "Updated"),
    "unchanged_lines": ("Dòng không thay đổi gì", "Lines changing nothing"),
    "entity.agency": ("cơ quan", "agencies"),
    "entity.person": ("cán bộ", "people"),
    "entity.membership": ("chức vụ", "positions"),
    "entity.department": ("phòng, ban", "departments"),
    "refused_lines": ("Các dòng bị từ chối", "Refused lines"),
    "line": ("Dòng", "Line"),
    "column": ("Cột", "Column"),
    "more_errors_not_shown": ("Số dòng sai khác không hiển thị:", "Further bad lines not shown:"),
    "nothing_written_fix": (
        "Chưa ghi gì vào hệ thống. Hãy sửa các dòng trên trong tệp rồi kiểm tra lại.",
        "Nothing was written. Fix these lines in the file and check it again.",
    ),
    "ready_to_apply": (
        "Tệp hợp lệ. Bấm «Nhập dữ liệu» để ghi các thay đổi trên.",
        "The file is valid. Press “Apply” to write these changes.",
    ),
    "apply_import": ("Nhập dữ liệu", "Apply"),
    "nothing_to_change": (
        "Tệp hợp lệ và không có gì thay đổi.",
        "The file is valid and changes nothing.",
    ),
    # interchange
    "connectors_page_hint": (
        "Mỗi cơ quan nối với trục liên thông văn bản quốc gia (VDXP) hoặc nền tảng tích hợp "
        "của tỉnh (LGSP) qua một kết nối.",
        "Each agency reaches the national document axis (VDXP) or the provincial platform "
        "(LGSP) through one connector.",
    ),
    "connector_of_agency": ("Kết nối của cơ quan", "Connector of"),
    "connector_of": ("Kết nối liên thông của", "Interchange connector of"),
    "axis": ("Trục", "Axis"),
    "axis_vdxp": ("Trục liên thông quốc gia (VDXP)", "National axis (VDXP)"),
    "axis_lgsp": ("Nền tảng tích hợp của tỉnh (LGSP)", "Provincial platform (LGSP)"),
    "last_success": ("Lần thành công gần nhất", "Last success"),
    "last_error": ("Lỗi gần nhất", "Last error"),
    "last_poll": ("Lần lấy văn bản gần nhất", "Last poll"),
    "retry_at": ("Thử lại lúc", "Retrying at"),
    "waiting_to_send": ("Chờ gửi", "Waiting to send"),
    "axis_backlog": ("Còn chờ trên trục", "Waiting on the axis"),
    "connector_off": ("Đang tắt", "Off"),
    "connector_failing": ("Đang lỗi", "Failing"),
    "connector_ok": ("Hoạt động tốt", "Working"),
    "connector_not_yet": ("Chưa kết nối thành công lần nào", "Not connected yet"),
    "no_connectors": ("Chưa có kết nối nào.", "No connectors."),
    "connector_search_placeholder": (
        "Tên, mã cơ quan hoặc mã hệ thống (gõ không dấu cũng được)",
        "Agency name or code, or system id (diacritics optional)",
    ),
    "connector_health": ("Tình trạng", "Health"),
    "poll_now": ("Lấy văn bản ngay", "Poll now"),
    "connector_new_hint": (
        "Cơ quan chưa có kết nối. Nhập địa chỉ trục, mã hệ thống và mật khẩu do trục cấp.",
        "No connector yet: enter the axis address, system id and secret the axis issued.",
    ),
    "connector_settings": ("Thiết lập kết nối", "Settings"),
    "endpoint": ("Địa chỉ trục", "Axis address"),
    "system_id": ("Mã hệ thống", "System id"),
    "secret": ("Mật khẩu kết nối", "Secret"),
    "secret_kept": ("Đã đặt — để trống nếu giữ nguyên", "Set — leave blank to keep it"),
    "axis_agency_code": (
        "Mã cơ quan trên trục (mặc định: mã định danh)",
        "Agency code on the axis (default: its code)",
    ),
    "poll_seconds": ("Chu kỳ lấy văn bản (giây)", "Poll every (seconds)"),
    "rate_per_minute": ("Giới hạn gửi mỗi phút", "Sends per minute"),
    "timeout_seconds": ("Thời gian chờ trả lời (giây)", "Timeout (seconds)"),
    "connector_enabled": ("Bật kết nối", "Enabled"),
    "dead_letters_page_hint": (
        "Văn bản, gói tin không chuyển được hoặc bị từ chối, kèm lý do. Khắc phục nguyên nhân "
        "rồi bấm «Chạy lại».",
        "Documents and packets not delivered or refused, with the reason. Fix the cause, then "
        "press “Replay”.",
    ),
    "letters.open": ("Chưa xử lý", "Open"),
    "letters.replayed": ("Đã chạy lại", "Replayed"),
    "letters.all": ("Tất cả", "All"),
    "all_agencies": ("Mọi cơ quan", "All agencies"),
    "direction.incoming": ("Chiều đến", "Incoming"),
    "direction.outgoing": ("Chiều đi", "Outgoing"),
    "direction.event": ("Sự kiện", "Event"),
    "from": ("từ", "from"),
    "to": ("đến", "to"),
    "replays": ("Số lần chạy lại", "Replays"),
    "replay": ("Chạy lại", "Replay"),
    "no_dead_letters": ("Không có thư hỏng nào.", "No dead letters."),
    # what the administration pages say was done
    "done_agency_chosen": ("Đã chọn cơ quan cần quản trị.", "The agency was chosen."),
    "done_rename": ("Đã đổi tên cơ quan.", "The agency was renamed."),
    "done_move": ("Đã chuyển cơ quan cấp trên.", "The agency was moved."),
    "done_merge": ("Đã sáp nhập cơ quan.", "The agencies were merged."),
    "done_dissolve": ("Đã giải thể cơ quan.", "The agency was dissolved."),
    "done_person_added": ("Đã thêm cán bộ.", "The person was added."),
    "done_membership_saved": ("Đã lưu chức vụ, vai trò.", "The position and roles were saved."),
    "done_membership_ended": ("Đã kết thúc chức vụ.", "The position was ended."),
    "done_disabled": ("Đã khóa tài khoản.", "The account was disabled."),
    "done_enabled": ("Đã mở khóa tài khoản.", "The account was enabled."),
    "done_delegated": ("Đã giao ủy quyền.", "The delegation was given."),
    "done_revoked": ("Đã thu hồi ủy quyền.", "The delegation was revoked."),
    "done_connector_saved": ("Đã lưu kết nối.", "The connector was saved."),
    "done_poll_requested": (
        "Đã yêu cầu lấy văn bản từ trục ngay.",
        "A poll of the axis was requested.",
    ),
    "done_replayed": ("Đã chạy lại thư hỏng.", "The dead letter was replayed."),
    "done_replay_failed": (
        "Đã chạy lại nhưng vẫn không thành công; lý do mới ghi ở dòng của thư.",
        "Replayed, but it failed again; the new reason is on its row.",
    ),
    # dossiers, statistics, saved searches (web/dossier_pages.py, statistics_pages.py)
    "dossiers": ("Hồ sơ", "Dossiers"),
    "dossier": ("Hồ sơ", "Dossier"),
    "dossier_catalogue": ("Danh mục hồ sơ năm", "Dossier catalogue"),
    "new_dossier": ("Lập hồ sơ", "New dossier"),
    "no_dossiers": (
        "Chưa có hồ sơ nào trong danh mục năm này.",
        "No dossiers in this year's catalogue.",
    ),
    "no_heading": ("Chưa xếp đề mục", "No heading"),
    "retention": ("Thời hạn bảo quản", "Retention"),
    "permanent": ("Vĩnh viễn", "Permanent"),
    "years": ("năm", "years"),
    "documents_lower": ("văn bản", "documents"),
    "dossier_code": ("Số và ký hiệu hồ sơ", "Dossier code"),
    "dossier_code_hint": (
        "Chữ, số, dấu chấm, gạch ngang; tối đa 20 ký tự, ví dụ 01.TH.",
        "Letters, digits, dots and dashes; at most 20, e.g. 01.TH.",
    ),
    "dossier_title": ("Tiêu đề hồ sơ", "Title"),
    "catalogue_heading": ("Đề mục", "Heading"),
    "catalogue_heading_example": ("I. Công tác tổng hợp", "I. General affairs"),
    "dossier_keeper": ("Người lập hồ sơ", "Keeper"),
    "access_mode": ("Chế độ sử dụng", "Access"),
    "description": ("Chú giải", "Description"),
    "open_now": ("Mở hồ sơ ngay từ hôm nay", "Open the dossier today"),
    "language_of_dossier": ("Ngôn ngữ", "Language"),
    "start_on": ("Ngày bắt đầu", "Start date"),
    "end_on": ("Ngày kết thúc", "End date"),
    "transfer_due_on": ("Hạn nộp lưu", "Due for transfer"),
    "retention_ends_on": ("Hết thời hạn bảo quản", "Retention ends"),
    "archive_receipt": ("Biên bản giao nhận", "Archive receipt"),
    "document_count": ("Tổng số văn bản", "Documents"),
    "open_dossier": ("Mở hồ sơ", "Open the dossier"),
    "download_package": ("Tải gói hồ sơ nộp lưu (ZIP)", "Download the archive package (ZIP)"),
    "preparing_package": ("Đang đóng gói hồ sơ…", "Packing the dossier…"),
    "package_hint": (
        "Gói gồm tệp PDF ghép toàn bộ văn bản theo số thứ tự, tệp gốc, siêu dữ liệu và mã băm; "
        "hồ sơ lớn có thể mất vài phút.",
        "The package holds one PDF of every document in order, the original files, the "
        "metadata and their hashes; a large dossier may take a few minutes.",
    ),
    "dossier_documents": ("Văn bản trong hồ sơ", "Documents in the dossier"),
    "dossier_no_documents": ("Hồ sơ chưa có văn bản nào.", "The dossier holds no documents yet."),
    "hidden_items": (
        "Văn bản mật bạn không được xem",
        "Confidential documents you may not see",
    ),
    "remove": ("Bỏ ra", "Remove"),
    "remove_from_dossier": ("Bỏ khỏi hồ sơ", "Remove from the dossier"),
    "add": ("Thêm", "Add"),
    "add_documents": ("Thêm văn bản vào hồ sơ", "Add documents"),
    "add_to_dossier": ("Đưa vào hồ sơ", "Add to a dossier"),
    "recently_issued": ("Văn bản đi mới ban hành", "Recently issued outgoing documents"),
    "add_from_card_hint": (
        "Cũng có thể đưa văn bản vào hồ sơ từ trang của chính văn bản đó.",
        "A document can also be added from its own page.",
    ),
    "close_dossier": ("Kết thúc hồ sơ", "Close the dossier"),
    "note": ("Ghi chú", "Note"),
    "reopen_dossier": ("Mở lại hồ sơ", "Reopen the dossier"),
    "ordinal": ("Số thứ tự", "No."),
    "in_no_dossier": ("Văn bản chưa thuộc hồ sơ nào.", "This document is in no dossier."),
    "choose_dossier": ("Hồ sơ đang mở", "Open dossier"),
    "no_open_dossier": ("Bạn chưa có hồ sơ nào đang mở.", "You have no open dossier."),
    "statistics": ("Thống kê", "Statistics"),
    "from_month": ("Từ tháng", "From month"),
    "to_month": ("Đến tháng", "To month"),
    "stats_scope": ("Phạm vi", "Scope"),
    "scope.own": ("Cơ quan mình", "My agency"),
    "scope.tree": ("Cơ quan mình và các đơn vị trực thuộc", "My agency and the agencies under it"),
    "stats_group": ("Chia theo", "Broken down by"),
    "group.agency": ("Cơ quan, đơn vị", "Agency"),
    "group.department": ("Phòng, ban (cơ quan mình)", "Department (my agency)"),
    "group.person": ("Người xử lý (cơ quan mình)", "Person (my agency)"),
    "stats_group_hint": (
        "Số liệu theo phòng, ban và người xử lý chỉ có cho cơ quan mình. Với các đơn vị trực "
        "thuộc chỉ có số lượng, không có nội dung văn bản.",
        "Figures by department and person are for your own agency only. Agencies under yours "
        "give counts, never the contents of documents.",
    ),
    "back_to_own_agency": ("Về số liệu của cơ quan mình", "Back to my agency's figures"),
    "report_xlsx": ("Tải báo cáo Excel (XLSX)", "Download the report (XLSX)"),
    "report_pdf": ("Tải báo cáo PDF", "Download the report (PDF)"),
    "preparing_file": ("Đang chuẩn bị tệp…", "Preparing the file…"),
    "file_ready": ("Tệp đã được gửi về trình duyệt.", "The file was sent to your browser."),
    "chart_figures_below": (
        "Số liệu chi tiết ở các bảng bên dưới.",
        "The figures are in the tables below.",
    ),
    "chart_units_note_tree": (
        "Số liệu của mỗi cơ quan gồm cả các đơn vị trực thuộc; đủ các dòng ở bảng bên dưới.",
        "Each agency's figures include the agencies under it; every row is in the table below.",
    ),
    "chart_nothing": ("Chưa có số liệu trong thời gian này.", "No figures in this period."),
    "chart_by_agency": (
        "Văn bản đến, đi theo cơ quan, đơn vị",
        "Documents received and sent, by agency",
    ),
    "chart_by_department": (
        "Việc hoàn thành đúng hạn, quá hạn theo phòng, ban",
        "Assignments completed on time and late, by department",
    ),
    "chart_by_person": (
        "Việc hoàn thành đúng hạn, quá hạn theo người xử lý",
        "Assignments completed on time and late, by person",
    ),
    "received": ("Văn bản đến", "Documents received"),
    "sent": ("Văn bản đi đã phát hành", "Documents sent"),
    "electronic_lower": ("điện tử", "electronic"),
    "signed_lower": ("có chữ ký số", "digitally signed"),
    "via_axis": ("Gửi qua Trục liên thông", "Sent through the national axis"),
    "of_electronic_deliveries": ("trên số lượt gửi điện tử", "of electronic deliveries"),
    "completed_on_time": ("Hoàn thành đúng hạn", "Completed on time"),
    "on_time": ("Đúng hạn", "On time"),
    "late": ("Quá hạn", "Late"),
    "overdue_at_end": ("Quá hạn cuối kỳ", "Overdue at the end"),
    "open_at_end_note": ("việc chưa xong đã quá hạn", "open assignments past their deadline"),
    "median_days": ("Thời gian giải quyết (trung vị)", "Processing time (median)"),
    "working_days": ("ngày làm việc", "working days"),
    "no_department_short": ("Chưa xác định phòng, ban", "No department"),
    "search_name": ("Tên cho tìm kiếm này", "A name for this search"),
    "save_search": ("Lưu tìm kiếm", "Save search"),
    "saved_searches": ("Tìm kiếm đã lưu", "Saved searches"),
    "delete_search": ("Xóa tìm kiếm đã lưu", "Delete the saved search"),
    "export_csv": ("Xuất CSV", "Export CSV"),
    "export_xlsx": ("Xuất Excel", "Export Excel"),
    "done_dossier_created": (
        "Đã thêm hồ sơ vào danh mục.",
        "The dossier was added to the catalogue.",
    ),
    "done_dossier_opened": ("Đã mở hồ sơ.", "The dossier is open."),
    "done_document_added": ("Đã đưa văn bản vào hồ sơ.", "The document was added to the dossier."),
    "done_document_removed": (
        "Đã bỏ văn bản khỏi hồ sơ; các số thứ tự sau đã lùi lên.",
        "The document was removed; the numbers after it moved up.",
    ),
    "done_dossier_closed": ("Đã kết thúc hồ sơ.", "The dossier is closed."),
    "done_dossier_reopened": ("Đã mở lại hồ sơ.", "The dossier was reopened."),
    "done_search_saved": ("Đã lưu tìm kiếm.", "The search was saved."),
    "done_search_deleted": ("Đã xóa tìm kiếm đã lưu.", "The saved search was deleted."),
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
    "incoming": ("Văn bản đến", "Incoming"),
    "outgoing": ("Văn bản đi", "Outgoing"),
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
    "signature_initials": ("Chữ ký nháy", "Initials"),
    "signature_leader": ("Chữ ký của người có thẩm quyền", "Signature of the competent person"),
    "signature_seal": ("Chữ ký số của cơ quan", "Agency signature"),
    # review steps
    "content": ("Duyệt nội dung", "Content review"),
    "form": ("Kiểm tra thể thức", "Form check"),
    "approval": ("Lãnh đạo duyệt", "Approval"),
    "opinion": ("Góp ý", "Opinion"),
    # roles of a membership
    "clerk": ("Văn thư", "Clerk"),
    "specialist": ("Chuyên viên", "Specialist"),
    "department_head": ("Trưởng phòng", "Department head"),
    "deputy_leader": ("Phó thủ trưởng", "Deputy leader"),
    "leader": ("Thủ trưởng", "Leader"),
    "agency_admin": ("Quản trị cơ quan", "Agency administrator"),
    # agencies: status, level, reorganisations
    "active": ("Đang hoạt động", "Active"),
    "inactive": ("Ngừng hoạt động", "Inactive"),
    "level.province": ("Cấp tỉnh", "Province"),
    "level.department": ("Sở, ban, ngành", "Department"),
    "level.district": ("Cấp huyện", "District"),
    "level.commune": ("Cấp xã", "Commune"),
    "reorg.merge": ("Sáp nhập", "Merged"),
    "reorg.split": ("Chia tách", "Split"),
    "reorg.rename": ("Đổi tên", "Renamed"),
    "reorg.move": ("Chuyển cấp trên", "Moved"),
    "reorg.dissolve": ("Giải thể", "Dissolved"),
    # dossiers: states, access, kinds of documents, what their history says was done
    "dossier_state.planned": ("Chưa mở", "Planned"),
    "dossier_state.open": ("Đang mở", "Open"),
    "dossier_state.closed": ("Đã kết thúc", "Closed"),
    "dossier_state.archived": ("Đã nộp lưu", "Archived"),
    "dossier_state.disposed": ("Đã tiêu hủy", "Disposed of"),
    "access.public": ("Công khai", "Public"),
    "access.conditional": ("Sử dụng có điều kiện", "Conditional use"),
    "access.confidential": ("Mật", "Confidential"),
    "kind.incoming": ("Văn bản đến", "Incoming"),
    "kind.outgoing": ("Văn bản đi", "Outgoing"),
    "kind.internal": ("Văn bản nội bộ", "Internal"),
    "dossier.created": ("Lập hồ sơ", "Created"),
    "dossier.updated": ("Sửa thông tin hồ sơ", "Details changed"),
    "dossier.opened": ("Mở hồ sơ", "Opened"),
    "dossier.documents_added": ("Thêm văn bản", "Documents added"),
    "dossier.document_removed": ("Bỏ văn bản", "Document removed"),
    "dossier.closed": ("Kết thúc hồ sơ", "Closed"),
    "dossier.reopened": ("Mở lại hồ sơ", "Reopened"),
    "dossier.exported": ("Xuất gói nộp lưu", "Package exported"),
    "dossier.transfer_due": ("Nhắc hạn nộp lưu", "Transfer reminder"),
    "dossier.accepted": ("Lưu trữ cơ quan tiếp nhận", "Accepted by the archive"),
    "dossier.disposal_listed": ("Đưa vào danh sách tiêu hủy", "Listed for disposal"),
    "dossier.disposed": ("Quyết định tiêu hủy", "Disposed of"),
}


def locale_of(cookie: str | None) -> Locale:
    """Vietnamese unless the person chose English with the switch in the page header. The
    browser's language is not followed: many officials run an English-language browser and
    still expect the platform in Vietnamese."""
    return "en" if cookie == "en" else "vi"


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
