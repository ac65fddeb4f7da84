"""Imports over HTTP: a dry run answers every bad row; a real run with bad rows writes nothing
and is refused with the rows named; a good file is applied once, and again changes nothing."""

from __future__ import annotations

import os

import pytest

from services.common.db import Database
from tests.identity.conftest import Api, new_code
from tests.identity.test_import_apply import AGENCY_HEADER, csv_bytes, purge
from tests.identity.test_import_parsing import windows_1258

PARENT = "000.00.00.H44"  # UBND tỉnh of the demo province


async def post_file(api: Api, user: str, kind: str, data: bytes, **params: object) -> object:
    return await api.client.post(
        f"/api/v1/imports/{kind}",
        params={"name": "co-quan.csv", **params},
        content=data,
        headers={**api.headers(user), "Content-Type": "text/csv"},
    )


@pytest.fixture
async def identity_db_for_purge() -> Database:  # type: ignore[misc]
    db = Database.from_url(os.environ["QLVB_IDENTITY_DATABASE_URL"], pool_size=1)
    yield db
    await db.dispose()


async def test_agencies_file_over_http(api: Api, identity_db_for_purge: Database) -> None:
    good = new_code()
    file_with_a_bad_row = csv_bytes(
        [
            AGENCY_HEADER,
            [good, "Ban Quản lý dự án thử", "BQLDA", "department", PARENT, "", "", ""],
            ["12.34", "Mã sai", "MS", "department", PARENT, "", "", ""],
        ]
    )
    try:
        dry = await post_file(api, "vanhanh", "agencies", file_with_a_bad_row)
        assert dry.status_code == 200, dry.text
        report = dry.json()
        assert (report["dry_run"], report["applied"], report["error_count"]) == (True, False, 1)
        assert report["errors"][0]["line"] == 3

        refused = await post_file(api, "vanhanh", "agencies", file_with_a_bad_row, dry_run="false")
        assert refused.status_code == 400
        [error] = refused.json()["errors"]
        assert (error["line"], error["column"], error["column_label"]) == (
            3,
            "code",
            "Mã định danh",
        )

        good_file = csv_bytes(
            [AGENCY_HEADER, file_with_a_bad_row.decode("utf-8-sig").splitlines()[1].split(",")]
        )
        applied = await post_file(api, "vanhanh", "agencies", good_file, dry_run="false")
        assert applied.status_code == 200, applied.text
        assert applied.json()["applied"] is True
        assert applied.json()["created"] == {"agency": 1}

        again = await post_file(api, "vanhanh", "agencies", good_file, dry_run="false")
        assert again.json()["created"] == {}
        assert again.json()["unchanged"] == 1
    finally:
        await purge(identity_db_for_purge, [good], [])


async def test_only_operators_import_and_bad_files_are_refused(api: Api) -> None:
    file = csv_bytes([AGENCY_HEADER])
    assert (await post_file(api, "quantri", "agencies", file)).status_code == 403
    legacy = windows_1258("code,name\n000.00.01.Z98,Sở Tài chính\n")
    rejected = await post_file(api, "vanhanh", "agencies", legacy)
    assert rejected.status_code == 400
    assert rejected.json()["code"] == "import-file-rejected"
