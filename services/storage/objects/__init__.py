"""Stored objects: the bytes of attachments, what they really are, and how they are served."""
