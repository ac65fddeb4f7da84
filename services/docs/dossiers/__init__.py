"""Dossiers (hồ sơ công việc, NĐ 30/2020 Chương IV): catalogue, documents, transfer, disposal."""
