"""Statistics of documents and their handling, per agency, department and person, rolled up
the agency tree (ADR 0018), and the monthly report built from them."""
