"""Authentication and authorisation: local token verification, the principal, guards."""
