"""The signatures of the outgoing flow (issue 7 with issue 6): credentials, placements,
the number and date in the PDF, and each signing step."""
