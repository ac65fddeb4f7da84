"""Outgoing documents: drafting, review, approval, numbering and issuing (NĐ 30, Điều 10-19)."""
