"""The push of the identity database into Keycloak: the reconciliation (reconcile.py) and the
account-state consumer (accounts.py)."""
