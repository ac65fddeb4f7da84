"""Generates the search benchmark's documents: DOCUMENTS incoming documents across AGENCIES
agencies of the test database, with realistic Vietnamese subjects, senders and dates, written
by PostgreSQL itself (INSERT ... SELECT over generate_series, one tenant per transaction, as
the app role under row-level security). Idempotent: agencies already complete are skipped.

    python -m bench.generate_documents [--documents 1000000] [--agencies 200]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid

from devstack.environment import TEST_DATABASE, service_environment

NAMESPACE = uuid.UUID("3b0b7c1e-5a4f-4c8e-9d2b-8f7e6a5d4c3b")
DOCUMENTS = 1_000_000
AGENCIES = 200

PREFIXES = [
    "Về việc",
    "V/v",
    "Báo cáo",
    "Kế hoạch",
    "Tờ trình về việc",
    "Thông báo",
    "Hướng dẫn",
    "Đề nghị",
    "Công văn đôn đốc",
    "Quyết định phê duyệt",
]
TOPICS = [
    "triển khai chuyển đổi số",
    "giải ngân vốn đầu tư công",
    "phòng, chống thiên tai và tìm kiếm cứu nạn",
    "cải cách thủ tục hành chính",
    "tuyển dụng công chức, viên chức",
    "quản lý, sử dụng đất đai",
    "bảo vệ môi trường và xử lý rác thải",
    "xây dựng nông thôn mới",
    "bảo đảm trật tự an toàn giao thông",
    "phòng cháy, chữa cháy",
    "thu ngân sách nhà nước",
    "chăm sóc sức khỏe nhân dân",
    "sắp xếp đơn vị hành chính cấp xã",
    "đào tạo, bồi dưỡng cán bộ",
    "phát triển du lịch bền vững",
    "hỗ trợ doanh nghiệp nhỏ và vừa",
    "phòng, chống tham nhũng, lãng phí",
    "tiêm chủng mở rộng",
    "giảm nghèo bền vững",
    "kiểm tra công tác văn thư, lưu trữ",
]
SUFFIXES = [
    "năm 2025",
    "năm 2026",
    "quý I năm 2026",
    "6 tháng đầu năm",
    "trên địa bàn tỉnh",
    "tại các xã, phường",
    "giai đoạn 2026-2030",
    "đợt 2",
    "",
    "trong tình hình mới",
]
SENDERS = [
    "Văn phòng Chính phủ",
    "Bộ Nội vụ",
    "Bộ Tài chính",
    "Bộ Kế hoạch và Đầu tư",
    "Sở Tài chính",
    "Sở Nội vụ",
    "Sở Xây dựng",
    "Sở Y tế",
    "Ủy ban nhân dân xã Tiên Lương",
    "Công an tỉnh",
]


def agency_ids(count: int) -> list[uuid.UUID]:
    return [uuid.uuid5(NAMESPACE, f"bench-agency-{i}") for i in range(count)]


def _array(values: list[str]) -> str:
    quoted = ",".join("'" + v.replace("'", "''") + "'" for v in values)
    return f"ARRAY[{quoted}]"


# Random but reproducible per row: hashes of the row number pick the parts.
INSERT = f"""
INSERT INTO docs.document (
    tenant_id, id, direction, state, source, arrived_at, sender_name, number_symbol,
    doc_type, issued_on, subject, urgency, confidentiality, created_by, due_on)
SELECT
    $1::uuid,
    gen_random_uuid(),
    'incoming',
    (ARRAY['registered','assigned','processing','completed','completed'])[1 + g % 5],
    'electronic',
    now() - make_interval(mins => g * 7),
    ({_array(SENDERS)})[1 + abs(hashtext('s' || g)) % {len(SENDERS)}],
    (g % 9000 + 1)::text || '/UBND-VP',
    'CV',
    current_date - (g % 700),
    ({_array(PREFIXES)})[1 + abs(hashtext('p' || g)) % {len(PREFIXES)}] || ' ' ||
    ({_array(TOPICS)})[1 + abs(hashtext('t' || g)) % {len(TOPICS)}] || ' ' ||
    ({_array(SUFFIXES)})[1 + abs(hashtext('x' || g)) % {len(SUFFIXES)}],
    (ARRAY['normal','normal','normal','khan','thuong_khan'])[1 + g % 5],
    'normal',
    'bench',
    current_date + (g % 30) - 10
FROM generate_series(1, $2::int) AS g
"""  # noqa: S608 - the arrays are this module's constants, the values are parameters


async def generate(documents: int, agencies: int) -> None:
    import asyncpg  # type: ignore[import-untyped]

    env = service_environment(TEST_DATABASE)
    dsn = env["QLVB_DOCS_DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://")
    per_agency = documents // agencies
    conn = await asyncpg.connect(dsn)
    started = time.monotonic()
    try:
        for index, tenant in enumerate(agency_ids(agencies)):
            async with conn.transaction():
                await conn.execute(f"SET LOCAL app.tenant_id = '{tenant}'")
                have = await conn.fetchval(
                    "SELECT count(*) FROM docs.document WHERE tenant_id = $1", tenant
                )
                if have < per_agency:
                    await conn.execute(INSERT, tenant, per_agency - have)
            done = index + 1
            sys.stderr.write(f"\r  agencies {done}/{agencies} ({time.monotonic() - started:.0f} s)")
        sys.stderr.write("\n")
        await conn.execute("ANALYZE docs.document")
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.generate_documents")
    parser.add_argument("--documents", type=int, default=DOCUMENTS)
    parser.add_argument("--agencies", type=int, default=AGENCIES)
    args = parser.parse_args()
    os.environ.update(service_environment(TEST_DATABASE))
    asyncio.run(generate(args.documents, args.agencies))


if __name__ == "__main__":
    main()
