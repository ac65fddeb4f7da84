"""Demo signing credentials for the local stack (`qlvb seed-demo`): a demo CA shaped like the
government's (a root, a CA under it), a personal certificate for every demo person in each
agency they work in and a seal certificate for every agency, each as a PKCS#12 held by the
server and opened with the demo PIN of `devstack/demo-province.json`; the handwritten
signature, initials and the red seal drawn in code.

Made with `cryptography` at seed time (certomancer is for the tests only). The CA's key is not
kept: a later seed that finds someone without a credential makes a new CA, which becomes one
more trust anchor of the agencies it issues for."""

from __future__ import annotations

import datetime as dt
import io
import math
import uuid
from dataclasses import dataclass
from typing import Any

from asn1crypto import x509 as asn1_x509  # type: ignore[import-untyped]
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from PIL import Image, ImageDraw, ImageFont

from services.common.db import Database
from services.common.secretbox import SecretBox
from services.docs.signatures import credentials
from services.docs.signatures.trust import add_anchor
from services.docs.signing.fonts import BOLD_FONT

DEMO_PIN = "123456"
SEEDED_BY = "qlvb-seed-demo"
BLUE = (20, 40, 200, 255)
RED = (220, 20, 30, 255)


# --------------------------------------------------------------------------- the demo CA


@dataclass
class DemoCa:
    root: x509.Certificate
    ca: x509.Certificate
    ca_key: rsa.RSAPrivateKey


def _name(common_name: str, organisation: str | None = None) -> x509.Name:
    parts = [x509.NameAttribute(NameOID.COUNTRY_NAME, "VN")]
    if organisation:
        parts.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation[:64]))
    parts.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64]))
    return x509.Name(parts)


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=not ca,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _certificate(
    subject: x509.Name,
    public_key: rsa.RSAPublicKey,
    issuer: x509.Name,
    issuer_key: rsa.RSAPrivateKey,
    *,
    ca: bool,
    days: int,
    now: dt.datetime,
) -> x509.Certificate:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(_usage(ca=ca), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
        .sign(issuer_key, hashes.SHA256())
    )


def make_ca(now: dt.datetime | None = None) -> DemoCa:
    now = now or dt.datetime.now(dt.UTC)
    stamp = now.strftime("%Y%m%d-%H%M%S")
    root_key, ca_key = _key(), _key()
    root_name = _name(f"QLVB Demo Root CA {stamp}", "QLVB (thử nghiệm)")
    ca_name = _name(f"QLVB Demo CA Chuyên dùng {stamp}", "QLVB (thử nghiệm)")
    root = _certificate(
        root_name, root_key.public_key(), root_name, root_key, ca=True, days=3650, now=now
    )
    ca = _certificate(
        ca_name, ca_key.public_key(), root_name, root_key, ca=True, days=3650, now=now
    )
    return DemoCa(root=root, ca=ca, ca_key=ca_key)


def issue_pkcs12(demo: DemoCa, common_name: str, organisation: str, pin: str) -> bytes:
    """A leaf certificate for signing, with its key and chain, as a PKCS#12 locked by `pin`."""
    key = _key()
    leaf = _certificate(
        _name(common_name, organisation),
        key.public_key(),
        demo.ca.subject,
        demo.ca_key,
        ca=False,
        days=3 * 365,
        now=dt.datetime.now(dt.UTC),
    )
    return pkcs12.serialize_key_and_certificates(
        common_name.encode(),
        key,
        leaf,
        [demo.ca, demo.root],
        serialization.BestAvailableEncryption(pin.encode()),
    )


def as_asn1(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


# --------------------------------------------------------------------------- images


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(300, 300))
    return out.getvalue()


def _seed_of(text: str) -> int:
    return sum(ord(c) * (i + 1) for i, c in enumerate(text))


def signature_png(name: str) -> bytes:
    """A blue stroke on a transparent background, different for each name."""
    image = Image.new("RGBA", (600, 240), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    seed = _seed_of(name)
    a, b = 6 + seed % 7, 17 + seed % 11
    points = [(40 + x * 5.2, 120 + 60 * math.sin(x / a) * math.cos(x / b)) for x in range(100)]
    draw.line(points, fill=BLUE, width=9, joint="curve")
    draw.line([(120, 200), (520, 170 + seed % 30)], fill=BLUE, width=6)
    return _png(image)


def initials_png(name: str) -> bytes:
    image = Image.new("RGBA", (160, 80), (0, 0, 0, 0))
    lift = _seed_of(name) % 20
    ImageDraw.Draw(image).line([(10, 60), (60, 15 + lift), (90, 60), (150, 20)], fill=BLUE, width=6)
    return _png(image)


def seal_png(agency_name: str) -> bytes:
    """A red round seal 36 mm across at 300 dpi (its actual size), the agency's name around
    the ring and a star in the middle."""
    size = 425
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((6, 6, size - 6, size - 6), outline=RED, width=12)
    draw.ellipse((92, 92, size - 92, size - 92), outline=RED, width=5)
    centre = size / 2
    star = [
        (
            centre + (62 if i % 2 == 0 else 25) * math.sin(i * math.pi / 5),
            centre - (62 if i % 2 == 0 else 25) * math.cos(i * math.pi / 5),
        )
        for i in range(10)
    ]
    draw.polygon(star, fill=RED)
    text = agency_name.upper()
    font = ImageFont.truetype(str(BOLD_FONT), 30)
    radius = 150
    step = min(300.0 / max(len(text), 1), 14.0)
    start = -step * (len(text) - 1) / 2
    for index, char in enumerate(text):
        angle = math.radians(start + index * step)
        glyph = Image.new("RGBA", (44, 44), (0, 0, 0, 0))
        ImageDraw.Draw(glyph).text((22, 22), char, font=font, fill=RED, anchor="mm")
        glyph = glyph.rotate(-math.degrees(angle), resample=Image.Resampling.BICUBIC)
        x = centre + radius * math.sin(angle) - 22
        y = centre - radius * math.cos(angle) - 22
        image.alpha_composite(glyph, (round(x), round(y)))
    return _png(image)


# --------------------------------------------------------------------------- seeding


@dataclass(frozen=True)
class _Holder:
    tenant_id: uuid.UUID
    owner_kind: str
    owner: str
    name: str
    position: str
    organisation: str


def _full_name(user: dict[str, Any]) -> str:
    return " ".join(p for p in (user.get("last_name", ""), user.get("first_name", "")) if p)


def _holders(data: dict[str, Any]) -> list[_Holder]:
    agencies = {a["code"]: a for a in data["agencies"]}
    holders = [
        _Holder(uuid.UUID(a["id"]), credentials.AGENCY, "", a["name"], "", a["name"])
        for a in data["agencies"]
    ]
    for user in data.get("users", []):
        for membership in user.get("memberships", []):
            agency = agencies.get(membership["agency_code"])
            if agency is None:
                continue
            holders.append(
                _Holder(
                    uuid.UUID(agency["id"]),
                    credentials.PERSON,
                    user["username"],
                    _full_name(user) or user["username"],
                    membership.get("position", user.get("title", "")),
                    agency["name"],
                )
            )
    return holders


def demo_pin(data: dict[str, Any]) -> str:
    return str((data.get("signing") or {}).get("pin") or DEMO_PIN)


async def seed_demo_signing(
    db: Database,
    data: dict[str, Any],
    box: SecretBox,
    *,
    replace: bool = False,
    restore: bool = False,
) -> int:
    """Give every demo person and agency a credential; returns how many were made. Those
    that have one keep it, unless `replace` (all new) or `restore` (a credential enrolled by
    someone else gives way to a demo one again)."""
    pin = demo_pin(data)
    missing: list[_Holder] = []
    for holder in _holders(data):
        async with db.transaction(holder.tenant_id, read_only=True) as conn:
            found = await credentials.active(
                conn, holder.tenant_id, holder.owner_kind, holder.owner
            )
        if replace or found is None or (restore and found.created_by != SEEDED_BY):
            missing.append(holder)
    if not missing:
        return 0
    demo = make_ca()
    root, ca = as_asn1(demo.root), as_asn1(demo.ca)
    root_name = demo.root.subject.rfc4514_string()
    for tenant_id in sorted({h.tenant_id for h in missing}):
        async with db.transaction(tenant_id) as conn:
            await add_anchor(conn, tenant_id, root, root_name, SEEDED_BY)
            for holder in (h for h in missing if h.tenant_id == tenant_id):
                packed = issue_pkcs12(demo, holder.name, holder.organisation, pin)
                agency = holder.owner_kind == credentials.AGENCY
                leaf = pkcs12.load_key_and_certificates(packed, pin.encode())[1]
                assert leaf is not None
                await credentials.enroll(
                    conn,
                    tenant_id,
                    owner_kind=holder.owner_kind,
                    owner=holder.owner,
                    display_name=holder.name,
                    position=holder.position,
                    certificate=as_asn1(leaf),
                    chain=[ca, root],
                    image_png=seal_png(holder.name) if agency else signature_png(holder.name),
                    initials_png=None if agency else initials_png(holder.name),
                    sealed_key=box.encrypt(packed),
                    created_by=SEEDED_BY,
                )
    return len(missing)
