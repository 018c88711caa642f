"""Fictional organisations, accounts and persons for `make run` and `registry demo` (never production)."""
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple
from datetime import date, timedelta

import sqlalchemy as sa

from registry.accounts.models import User
from registry.core.roles import Role
from registry.accounts.operations import create_user
from registry.core.db import db
from registry.organizations.models import (
    Agency, AgencyScope, AgencyStatus, AgencyType, InstitutionKind, TrainingInstitution,
)
from registry.people.identity import DocumentType, resident_id_check_char
from registry.people.person_rows import PersonRows
from registry.reference.models import County, DivisionKind, Occupation, Program
from registry.reference.seeding import SEED_DIR, read_rows

DEMO_DIR = SEED_DIR / "demo"


def seed_demo_organisations() -> int:
    added = 0
    existing_sites = set(db.session.scalars(sa.select(Agency.site_code)))
    occupations = {code: id_ for id_, code in db.session.execute(sa.select(Occupation.id, Occupation.code))}
    for row in read_rows(DEMO_DIR / "agencies.csv"):
        if row["site_code"] in existing_sites:
            _give_credit_code(row["site_code"], row.get("credit_code"))
            continue
        agency = Agency(
            name=row["name"], agency_type=AgencyType(row["agency_type"]), ministry_code=row["ministry_code"],
            site_code=row["site_code"], filing_number=row["filing_number"],
            filed_on=date.fromisoformat(row["filed_on"]), county_code=row["county_code"],
            status=AgencyStatus(row["status"]), credit_code=row.get("credit_code") or None,
        )
        for scope in read_rows(DEMO_DIR / "agency_scopes.csv"):
            if scope["agency_site_code"] == row["site_code"]:
                agency.scopes.append(AgencyScope(
                    occupation_id=occupations[scope["occupation_code"]], work_type=scope["work_type"] or None,
                    lowest_level=int(scope["lowest_level"]), highest_level=int(scope["highest_level"]),
                    valid_from=date.fromisoformat(scope["valid_from"]),
                    valid_to=date.fromisoformat(scope["valid_to"]) if scope["valid_to"] else None,
                ))
        db.session.add(agency)
        added += 1
    existing_codes = set(db.session.scalars(sa.select(TrainingInstitution.credit_code)))
    for row in read_rows(DEMO_DIR / "institutions.csv"):
        if row["credit_code"] not in existing_codes:
            db.session.add(TrainingInstitution(name=row["name"], credit_code=row["credit_code"],
                                               kind=InstitutionKind(row["kind"]), county_code=row["county_code"]))
            added += 1
    db.session.flush()
    return added


def _give_credit_code(site_code: str, credit_code: str | None) -> None:
    """A demo agency seeded before agencies had a 统一社会信用代码 gets one: its certificates print it."""
    agency = db.session.scalar(sa.select(Agency).where(Agency.site_code == site_code, Agency.credit_code.is_(None)))
    if agency is not None and credit_code:
        agency.credit_code = credit_code


def demo_accounts() -> list[dict[str, str]]:
    return read_rows(DEMO_DIR / "users.csv")


def seed_demo_accounts() -> int:
    added = 0
    for row in demo_accounts():
        if db.session.scalar(sa.select(User.id).where(User.username == row["username"])):
            continue
        organization_id = None
        if row["role"] == Role.AGENCY:
            organization_id = db.session.scalar(sa.select(Agency.id).where(Agency.site_code == row["organization"]))
        elif row["role"] == Role.INSTITUTION:
            organization_id = db.session.scalar(
                sa.select(TrainingInstitution.id).where(TrainingInstitution.credit_code == row["organization"])
            )
        create_user(None, row["username"], row["password"], Role(row["role"]), row["county_code"] or None,
                    organization_id, row["display_name"])
        added += 1
    return added


# --- organisations of the generated registry (`registry demo`) -------------------------------------------

# Site code, name, type, county, filing date, filed scope as (occupation code, highest level: 3 or 1; every
# line starts at 五级). All but two filed before 2021, so classes of every year find an agency to assess them.
GENERATED_AGENCIES = [
    ("900003", "龙亭区演示职业技能评价站（演示数据）", "S", "410202", "2020-08-01",
     [("4-03-02-02", 3), ("4-07-04-01", 3), ("4-03-02-07", 3), ("6-09-03-16", 3)]),
    ("900004", "顺河回族区演示技能评价中心（演示数据）", "S", "410203", "2020-09-15",
     [("4-03-02-01", 1), ("4-03-02-02", 3), ("4-10-03-02", 3), ("4-10-03-01", 3)]),
    ("900005", "鼓楼区演示职业技能评价站（演示数据）", "S", "410204", "2020-10-10",
     [("4-01-06-01", 3), ("4-01-06-02", 3), ("4-04-05-05", 3), ("4-02-07-08", 3), ("4-10-08-01", 3)]),
    ("900006", "禹王台区演示技能评价中心（演示数据）", "S", "410205", "2020-11-01",
     [("4-10-01-05", 1), ("4-10-01-03", 3), ("4-14-01-03", 3), ("4-10-01-06", 3)]),
    ("900007", "祥符区演示职业技能评价站（演示数据）", "S", "410212", "2020-08-20",
     [("6-18-02-04", 3), ("6-31-01-03", 3), ("6-30-05-01", 3), ("4-07-05-03", 3), ("4-07-05-01", 3)]),
    ("900008", "杞县演示职业技能评价站（演示数据）", "S", "410221", "2020-09-01",
     [("5-01-02-01", 3), ("5-03-02-02", 3), ("6-09-03-17", 3), ("4-01-06-01", 3), ("6-05-01-03", 3)]),
    ("900009", "通许县演示职业技能评价站（演示数据）", "S", "410222", "2020-09-10",
     [("4-03-02-01", 3), ("4-10-01-06", 3), ("6-29-01-01", 3), ("6-29-01-04", 3)]),
    ("900010", "尉氏县演示职业技能评价站（演示数据）", "S", "410223", "2020-10-01",
     [("6-05-01-03", 3), ("6-20-01-01", 3), ("4-12-01-01", 1), ("6-06-03-01", 3), ("4-08-03-04", 3)]),
    ("900011", "兰考县演示职业技能评价站（演示数据）", "S", "410225", "2020-10-20",
     [("6-09-02-04", 3), ("6-06-03-01", 3), ("5-01-02-01", 3), ("4-01-06-01", 3), ("4-10-01-05", 3)]),
    ("900012", "演示汴绣文化有限公司（演示数据）", "Y", "410203", "2020-12-01",
     [("6-09-03-11", 1), ("6-09-03-03", 3), ("6-09-03-01", 3)]),
    ("900013", "演示汽车零部件有限公司（演示数据）", "Y", "410212", "2021-03-01",
     [("6-20-01-01", 1), ("6-20-03-01", 3), ("6-18-01-02", 3), ("6-18-02-04", 1), ("6-18-01-01", 3)]),
    ("900014", "演示现代家居有限公司（演示数据）", "Y", "410223", "2023-05-01",
     [("6-06-03-01", 3), ("6-05-01-03", 3)]),
]
# Serial inside the credit code, name, kind, county.
GENERATED_INSTITUTIONS = [
    (9000003, "顺河回族区演示家政服务培训中心（演示数据）", "private_school", "410203"),
    (9000004, "鼓楼区演示电子商务培训学校（演示数据）", "private_school", "410204"),
    (9000005, "开封演示技师学院（演示数据）", "technician_college", "410205"),
    (9000006, "祥符区演示职业技术学校（演示数据）", "vocational_college", "410212"),
    (9000007, "演示数控装备有限公司培训中心（演示数据）", "enterprise_centre", "410212"),
    (9000008, "通许县演示职业培训学校（演示数据）", "private_school", "410222"),
    (9000009, "尉氏县演示职业中等专业学校（演示数据）", "vocational_college", "410223"),
    (9000010, "兰考县演示技能培训中心（演示数据）", "private_school", "410225"),
    (9000011, "杞县演示乡村工匠培训站（演示数据）", "other", "410221"),
]


def demo_agency_credit_code(agency_type: str, county_code: str, site_code: str) -> str:
    """A 统一社会信用代码 that passes GB 32100 for a generated agency: 91 (an enterprise, for 用人单位 "Y")
    or 52 (a 民办非企业单位, for the social agencies "S"), the county, and the site code as the serial."""
    from registry.organizations.credit_code import credit_code_check_char

    first17 = f"{'91' if agency_type == 'Y' else '52'}{county_code}MA{int(site_code):07d}"
    return first17 + credit_code_check_char(first17)


def seed_generated_organisations() -> int:
    """The demo organisations and those above; the generator's own through the administrator's operations."""
    from registry.organizations.credit_code import credit_code_check_char
    from registry.organizations.operations import add_scope, create_agency, create_institution

    added = seed_demo_organisations()
    existing_sites = set(db.session.scalars(sa.select(Agency.site_code)))
    occupations = dict(db.session.execute(sa.select(Occupation.code, Occupation.id)).all())
    for site_code, name, agency_type, county_code, filed_on, scopes in GENERATED_AGENCIES:
        if site_code in existing_sites:
            _give_credit_code(site_code, demo_agency_credit_code(agency_type, county_code, site_code))
            continue
        filed = date.fromisoformat(filed_on)
        agency = create_agency(None, name=name, agency_type=agency_type, site_code=site_code, filed_on=filed,
                               filing_number=f"豫人社认定备〔演示〕{site_code[-3:]}号", county_code=county_code,
                               credit_code=demo_agency_credit_code(agency_type, county_code, site_code))
        for occupation_code, highest in scopes:
            add_scope(None, agency, occupations[occupation_code], None, 5, highest, filed, None)
        added += 1
    existing_codes = set(db.session.scalars(sa.select(TrainingInstitution.credit_code)))
    for serial, name, kind, county_code in GENERATED_INSTITUTIONS:
        first17 = f"52{county_code}MJ{serial:07d}"
        credit_code = first17 + credit_code_check_char(first17)
        if credit_code not in existing_codes:
            create_institution(None, name=name, credit_code=credit_code, kind=kind, county_code=county_code)
            added += 1
    return added


# --- the world the generated registry lives in -----------------------------------------------------------
# What the generated classes teach, per programme of the plan (programs.csv), with the programme's weight.
PROGRAM_OCCUPATIONS = {
    "kaifeng_manufacturing": (20, ("6-18-02-04", "6-31-01-03", "6-18-01-01", "6-18-01-02", "6-20-01-01",
                                   "6-20-03-01", "4-12-01-01", "6-05-01-03")),
    "songdu_artisans": (12, ("4-03-02-01", "4-03-02-02", "6-09-03-11", "6-09-03-03", "6-09-03-16",
                             "4-07-04-01", "4-03-02-07", "6-09-03-01")),
    "safety_guards": (10, ("6-31-01-03", "6-18-02-04", "4-07-05-03", "4-07-05-01", "6-30-05-01")),
    "rural_craftsmen": (12, ("5-01-02-01", "5-03-02-02", "4-01-06-01", "6-09-03-17", "6-09-02-04")),
    "innovation_stars": (8, ("4-01-06-01", "4-01-06-02", "4-04-05-05")),
    "juchengluban": (8, ("6-29-01-01", "6-29-01-04", "4-08-03-04", "6-06-03-01")),
    "bianliang_stewards": (15, ("4-10-01-06", "4-10-01-05", "4-10-01-03", "4-02-07-08", "4-10-08-01",
                                "4-14-01-03")),
    "skills_for_jobs": (12, ("4-10-01-06", "6-05-01-03", "4-03-02-01", "6-31-01-03", "4-10-03-02",
                             "4-10-03-01")),
    "ten_hundred_thousand": (3, ("6-18-02-04", "6-31-01-03", "4-03-02-01", "4-12-01-01", "6-09-03-11")),
}
# How many classes each county holds, relative to the others.
COUNTY_WEIGHTS = {"410202": 10, "410203": 7, "410204": 6, "410205": 6, "410212": 12, "410221": 15,
                  "410222": 10, "410223": 13, "410225": 14}
DEMO_MARK = "演示"


class ScopeLine(NamedTuple):
    agency_id: int
    county_code: str
    occupation_id: int
    lowest_level: int
    highest_level: int
    valid_from: date
    valid_to: date | None

    def covers(self, occupation_id: int, on: date) -> bool:
        return (self.occupation_id == occupation_id and self.valid_from <= on
                and (self.valid_to is None or on <= self.valid_to))


@dataclass
class World:
    """The active demo organisations as plain values, so the session can be emptied between classes."""

    institutions: dict[tuple[int, str], float]  # (id, county) → weight
    scopes: list[ScopeLine]
    occupations: dict[int, str]  # id → name, of the occupations some scope covers
    programs: dict[str, tuple[int, list[int]]]  # key → weight, occupation ids
    counties: dict[str, str]  # every code → current code
    rural: set[str]
    staffed: set[int]  # agencies a demo account works for: a new user signing in as one finds work there


def load_world() -> World:
    scopes = db.session.execute(
        sa.select(AgencyScope.agency_id, Agency.county_code, AgencyScope.occupation_id,
                  AgencyScope.lowest_level, AgencyScope.highest_level, AgencyScope.valid_from,
                  AgencyScope.valid_to)
        .join(Agency).where(Agency.name.contains(DEMO_MARK), Agency.status == AgencyStatus.ACTIVE)
        .order_by(AgencyScope.id)).all()
    institutions = db.session.execute(
        sa.select(TrainingInstitution.id, TrainingInstitution.county_code)
        .where(TrainingInstitution.name.contains(DEMO_MARK), TrainingInstitution.is_active)
        .order_by(TrainingInstitution.id)).all()
    per_county = Counter(county for _id, county in institutions)
    taught = {scope.occupation_id for scope in scopes}
    ids = dict(db.session.execute(sa.select(Occupation.code, Occupation.id)).all())
    programs = {key: (weight, [ids[code] for code in codes if ids.get(code) in taught])
                for key, (weight, codes) in PROGRAM_OCCUPATIONS.items() if db.session.get(Program, key)}
    counties = db.session.scalars(sa.select(County).where(County.kind != DivisionKind.CITY)).all()
    return World(
        institutions={(id_, county): COUNTY_WEIGHTS.get(county, 5) / per_county[county]
                      for id_, county in institutions},
        scopes=[ScopeLine(*scope) for scope in scopes],
        occupations=dict(db.session.execute(
            sa.select(Occupation.id, Occupation.name).where(Occupation.id.in_(taught))).all()),
        programs={key: value for key, value in programs.items() if value[1]},
        counties={county.code: county.current_code for county in counties},
        rural={county.code for county in counties if county.kind is DivisionKind.COUNTY},
        staffed=set(db.session.scalars(sa.select(User.agency_id).where(User.agency_id.is_not(None),
                                                                       User.is_active))),
    )


# --- fictional persons -----------------------------------------------------------------------------------
MAX_PERSONS = 2_000_000
MAX_SEED = 89
# Birth places are Kaifeng's address codes, the retired ones too (they live on in older ID numbers).
ADDRESS_CODES = ("410202", "410203", "410204", "410205", "410211", "410212", "410221", "410222", "410223",
                 "410224", "410225")
BORN_FROM = date(1960, 1, 1)
BIRTH_DAYS = (date(2004, 12, 31) - BORN_FROM).days + 1
# Address × birth date × 3-digit sequence: 180.8M numbers, room for 90 seeds of 2M persons that never meet.
ID_SPACE = len(ADDRESS_CODES) * BIRTH_DAYS * 1000
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
MALE_NAMES = ("伟", "强", "磊", "军", "勇", "杰", "涛", "明", "超", "刚", "平", "辉", "鹏", "飞", "波", "斌",
              "宇", "浩", "凯", "健", "俊", "旭", "龙", "阳", "鑫", "建国", "建军", "建华", "志强", "国强",
              "卫东", "晓东", "海涛", "鹏飞", "浩然", "子轩", "家豪", "思远", "文博", "振华")
FEMALE_NAMES = ("芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "玲", "琳", "雪", "婷", "晶", "欣", "颖", "倩",
                "佳", "悦", "丹", "萍", "秀英", "秀兰", "桂英", "玉兰", "海燕", "春燕", "红梅", "丽娟", "雨涵",
                "欣怡", "紫涵", "梦瑶", "思琪", "晓燕", "淑珍", "凤英", "慧敏", "雅婷", "文静", "一诺")
MASK64 = (1 << 64) - 1


def _mix(value: int) -> int:
    """splitmix64: well-spread bits from an integer, so every trait of a person follows from its number."""
    value = (value + 0x9E3779B97F4A7C15) & MASK64
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & MASK64
    return value ^ (value >> 31)


def _permute(value: int) -> int:
    """A fixed bijection of [0, ID_SPACE): a 28-bit Feistel network, re-applied until it lands inside.

    Being a bijection, no two (seed, index) pairs ever share a number, and no list of used ones is needed.
    """
    while True:
        left, right = value >> 14, value & 0x3FFF
        for key in (0x2F1B, 0x1C33, 0x3A07, 0x0D5D):
            left, right = right, left ^ (_mix(right ^ key) & 0x3FFF)
        value = (left << 14) | right
        if value < ID_SPACE:
            return value


@dataclass(frozen=True)
class Identity:
    index: int
    number: str
    digest: str
    name: str
    birth_county: str  # the address code of the number
    traits: int  # spare random bits: home county and key groups are drawn from them


def demo_identity(seed: int, index: int, people: PersonRows) -> Identity:
    """The index-th person of a seed: an invented ID number (valid per GB 11643) and a common name."""
    code = _permute(seed * MAX_PERSONS + index)
    rest, sequence = divmod(code, 1000)
    address, day = divmod(rest, BIRTH_DAYS)
    first17 = f"{ADDRESS_CODES[address]}{BORN_FROM + timedelta(days=day):%Y%m%d}{sequence:03d}"
    number = first17 + resident_id_check_char(first17)
    traits = _mix(code) | _mix(code + ID_SPACE) << 64
    given = MALE_NAMES if sequence % 2 else FEMALE_NAMES  # an odd sequence number is a man's
    name = SURNAMES[traits % len(SURNAMES)] + given[(traits >> 8) % len(given)]
    return Identity(index, number, people.digest(DocumentType.RESIDENT_ID, number), name,
                    ADDRESS_CODES[address], traits >> 16)


def missing_identities(seed: int, persons: int, people: PersonRows, chunk: int = 1000) -> Iterator[Identity]:
    """The seed's first `persons` identities not registered yet: why a second run with them adds nothing."""
    for start in range(0, persons, chunk):
        batch = [demo_identity(seed, index, people) for index in range(start, min(persons, start + chunk))]
        known = people.find([one.digest for one in batch])
        yield from (one for one in batch if one.digest not in known)
