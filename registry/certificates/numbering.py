"""Certificate numbers (人社鉴发〔2019〕2号; 专项职业能力: this registry's rule) and the race-free serials inside them."""
import re

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert

from registry.assessment.models import CertificateSerial
from registry.certificates.models import CertificateKind
from registry.core.db import db
from registry.core.errors import InvalidInput
from registry.organizations.models import Agency

HENAN = "41"
MAX_SERIAL = 999_999
NUMBER_FORMATS = {
    CertificateKind.SKILL_LEVEL: (re.compile(r"[YS][0-9]{21}"), "应为22位：Y或S加21位数字"),
    CertificateKind.QUALIFICATION: (re.compile(r"[0-9]{16}"), "职业资格证书编号应为16位数字"),
}
OPAQUE_NUMBER = (re.compile(r"[A-Z0-9-]{4,40}"), "应为4–40位字母、数字或连字符")
# 专项职业能力证书 issued here. No national or Henan numbering rule for them was found, so this is the registry's
# own (docs/GLOSSARY.md): ZX · 41 · agency site code · yy · 6-digit serial = 18 characters. They have no level:
# their serials run per (agency, year) in the counter row of level 0.
SPECIAL_PREFIX = "ZX"
SPECIAL_NUMBER = re.compile(r"ZX41[0-9]{6}[0-9]{2}[0-9]{6}")
SPECIAL_SERIAL_LEVEL = 0


def format_number(agency: Agency, year: int, level: int | None, serial: int) -> str:
    """type letter · ministry code · 41 · site code · yy · level digit · 6-digit serial = 22 characters;
    without a level (专项职业能力), ZX · 41 · site code · yy · serial = 18 characters."""
    if level is None:
        return f"{SPECIAL_PREFIX}{HENAN}{agency.site_code}{year % 100:02d}{serial:06d}"
    return f"{agency.agency_type.value}{agency.ministry_code}{HENAN}{agency.site_code}{year % 100:02d}{level}{serial:06d}"


def normalize_number(kind: CertificateKind, raw: str) -> str:
    number = re.sub(r"\s+", "", str(raw or "")).upper()
    pattern, rule = NUMBER_FORMATS.get(kind, OPAQUE_NUMBER)
    if not pattern.fullmatch(number):
        raise InvalidInput("number", f"证书编号：{number or '（空）'} 格式不正确，{rule}")
    return number


def allocate_serials(agency_id: int, year: int, level: int | None, count: int) -> range:
    """Reserve `count` consecutive serials for (agency, year, level); level None (专项职业能力) uses level 0.

    The counter row is incremented with one UPDATE … RETURNING: PostgreSQL holds its row lock until the
    transaction ends, and SQLite has one writer at a time, so concurrent issuers queue instead of reading
    the same value. A rolled-back issue rolls the counter back too, so no gap is left behind.
    """
    table = CertificateSerial.__table__
    key = {"agency_id": agency_id, "year": year, "level": SPECIAL_SERIAL_LEVEL if level is None else level}
    if db.session.get_bind().dialect.name == "postgresql":
        create = postgresql_insert(table).values(**key, last_serial=0).on_conflict_do_nothing()
    else:
        create = sa.insert(table).values(**key, last_serial=0).prefix_with("OR IGNORE")
    db.session.execute(create)
    last = db.session.execute(
        sa.update(table).where(*(table.c[name] == value for name, value in key.items()))
        .values(last_serial=table.c.last_serial + count).returning(table.c.last_serial)
    ).scalar_one()
    if last > MAX_SERIAL:
        what = "专项职业能力证书" if level is None else "该等级"
        raise InvalidInput("number", f"证书编号：{year} 年{what}流水号已用完（上限 {MAX_SERIAL}）")
    return range(last - count + 1, last + 1)
