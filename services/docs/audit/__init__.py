"""The hash-chained audit log of document actions, per tenant."""
