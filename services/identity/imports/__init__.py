"""Bulk imports of agencies and people from CSV or XLSX files."""
