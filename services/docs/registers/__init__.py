"""Sổ văn bản: registers and their gapless yearly numbers."""
