"""Saved searches over incoming documents, and exports of search results (CSV, XLSX)."""
