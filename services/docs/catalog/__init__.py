"""Reference data of NĐ 30/2020: document types, urgency and confidentiality levels."""
