"""bench/edxml: edXML packets with a 1 MiB attachment built and parsed per second by the codec,
against lxml parsing the same bytes alone, in the same run.

The baseline is the floor of any parse: libxml2 reading the document into a tree with the same
parser options the codec uses (no DTD, huge text nodes). The codec adds to it the DOCTYPE scan,
the walk into the typed model, base64 in both directions (which dominates: the attachment is
most of the packet), the validation rules and, when building, the writing. Rounds alternate so
that machine noise falls on both sides; the context lines split build from parse and show what
an XML-DSig signature adds."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, date, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

# lxml ships no type information.
from lxml import etree  # type: ignore[import-untyped]

from bench.common import Result, compare, detail, median, paired_ratio, report, spread, warm_up
from services.interchange.edxml import (
    Attachment,
    Business,
    BusinessDocType,
    Code,
    DocumentPacket,
    DocumentType,
    MessageHeader,
    Organisation,
    PromulgationInfo,
    SignerInfo,
    SigningIdentity,
    TraceHeader,
    build_document,
    document_id,
    parse_document,
    read_document,
)

NAME = "edxml"
# libxml2 reads a base64 text node at memory speed, while CPython's base64 runs at about
# 0.5 GB/s each way, so base64 alone holds the round trip near a tenth of the bare parse (about
# 0.09 measured); below 0.08, the model walk, the rules or the writer have grown a cost of
# their own.
TARGET = 0.08
ROUNDS = 7
ROUND_OPS = 400
ROUND_SECONDS = 0.6
SIGNED_ROUNDS = 3
MiB = 1 << 20


def packet() -> DocumentPacket:
    """A new document from one province to two agencies, its signed PDF attached."""
    sender = Organisation(organ_id="000.00.00.H41", organ_name="UBND tỉnh Nghệ An")
    issued = date(2025, 8, 15)
    code = Code(number="123", notation="QĐ-UBND")
    header = MessageHeader(
        sender=sender,
        recipients=(
            Organisation(organ_id="000.00.00.G22", organ_name="Văn phòng Chính phủ"),
            Organisation(organ_id="000.00.24.H44", organ_name="UBND huyện Cẩm Khê"),
        ),
        document_id=document_id(sender.organ_id, issued, code.number, code.notation),
        code=code,
        promulgation=PromulgationInfo(place="Nghệ An", date=issued),
        document_type=DocumentType(type=1, type_name="Quyết định"),
        subject="Về việc phê duyệt kế hoạch chuyển đổi số năm 2025",
        signer=SignerInfo(
            competence="KT. CHỦ TỊCH", position="PHÓ CHỦ TỊCH", full_name="Nguyễn Văn A"
        ),
    )
    sent = datetime(2025, 8, 15, 14, 5, tzinfo=UTC)
    content = b"%PDF-1.7\n" + random.Random(1).randbytes(MiB - 9)
    attachment = Attachment(
        content_id="7f7c0b5e-0000-0000-0000-000000000001",
        name="Quyết định 123-QĐ-UBND.pdf",
        content_type="application/pdf",
        description="Văn bản chính",
        content=content,
    )
    return DocumentPacket(
        header=header,
        trace=(TraceHeader(organ_id=sender.organ_id, timestamp=sent),),
        business=Business(doc_type=BusinessDocType.NEW, reason="Văn bản điện tử mới"),
        attachments=(attachment,),
    )


def identity() -> SigningIdentity:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bench/edxml")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return SigningIdentity(private_key=key, certificate=certificate)


def lxml_parser() -> object:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)


async def run() -> Result:
    document = packet()
    data = build_document(document)
    if parse_document(data) != document:
        raise RuntimeError("the packet does not read back equal")

    async def round_trip() -> None:
        parse_document(build_document(document))

    async def build() -> None:
        build_document(document)

    async def parse() -> None:
        parse_document(data)

    async def lxml_alone() -> None:
        etree.fromstring(data, lxml_parser())

    for operation in (round_trip, build, parse, lxml_alone):
        await warm_up(operation, 20)
    samples = await compare(
        {"round_trip": round_trip, "build": build, "parse": parse, "lxml": lxml_alone},
        rounds=ROUNDS,
        max_ops=ROUND_OPS,
        max_seconds=ROUND_SECONDS,
    )
    measured, baseline = median(samples["round_trip"]), median(samples["lxml"])
    size_mib = len(data) / MiB
    detail(
        NAME,
        f"packet {len(data)} bytes (1 MiB attachment, base64), {ROUNDS} alternating rounds: "
        f"built and parsed {measured:.0f}/s ({spread(samples['round_trip'])}), lxml parse alone "
        f"{baseline:.0f}/s ({spread(samples['lxml'])}) = {baseline * size_mib:.0f} MiB/s; "
        f"paired ratio {paired_ratio(samples['round_trip'], samples['lxml']):.3f}",
    )
    built, parsed = median(samples["build"]), median(samples["parse"])
    detail(
        NAME,
        f"split: build {built:.0f}/s ({built * size_mib:.0f} MiB/s), parse {parsed:.0f}/s "
        f"({parsed * size_mib:.0f} MiB/s); parse vs lxml alone "
        f"{paired_ratio(samples['parse'], samples['lxml']):.3f}",
    )
    await signed_context(document)
    result = Result(NAME, measured, baseline, "packets/s", TARGET)
    report(result)
    return result


async def signed_context(document: DocumentPacket) -> None:
    signer = identity()
    signed = build_document(document, signer=signer)
    if read_document(signed).signature is None:
        raise RuntimeError("the signed packet did not verify")

    async def sign() -> None:
        build_document(document, signer=signer)

    async def verify() -> None:
        read_document(signed)

    samples = await compare(
        {"sign": sign, "verify": verify},
        rounds=SIGNED_ROUNDS,
        max_ops=ROUND_OPS,
        max_seconds=ROUND_SECONDS,
    )
    detail(
        NAME,
        f"with XML-DSig (RSA-2048, exclusive c14n of the whole packet): build+sign "
        f"{median(samples['sign']):.0f}/s, parse+verify {median(samples['verify']):.0f}/s",
    )


def main() -> None:
    asyncio.run(run())


if __name__ == "__main__":
    main()
