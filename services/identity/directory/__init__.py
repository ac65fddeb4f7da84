"""Who works in the active agency, for colleagues and other services (read only)."""
