"""Incoming documents: reception, registration, assignment and processing (NĐ 30, Điều 20-24)."""
