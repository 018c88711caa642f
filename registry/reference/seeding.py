"""Loading reference data from seed_data/: inserts what is missing, never overwrites an edited row."""
import csv
import re
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from registry.core.config import PROJECT_ROOT
from registry.core.db import db
from registry.reference.models import (
    CITY_CODE, County, DivisionKind, Indicator, LabourBrand, Occupation, Program, SpecialItem, Target,
)

SEED_DIR = PROJECT_ROOT / "seed_data"
LEVEL_DIGITS = {"五": 5, "四": 4, "三": 3, "二": 2, "一": 1}
TARGET_YEAR = 2025


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def parse_levels(text: str) -> list[int]:
    """'五级~一级' → [5, 4, 3, 2, 1]; empty when the catalogue copy does not say."""
    found = [LEVEL_DIGITS[char] for char in re.findall(r"([五四三二一])级", text)]
    if len(found) == 2:
        return list(range(found[0], found[1] - 1, -1))
    return found


def parse_target(text: str) -> tuple[str, Decimal] | None:
    """'135' → ('=', 135); '>60' → ('>', 60); '>=30' → ('>=', 30); '' → None."""
    match = re.fullmatch(r"\s*(>=|>)?\s*([0-9.]+)\s*", text)
    if not match:
        return None
    return match.group(1) or "=", Decimal(match.group(2))


def _insert_missing(model, key_of, rows) -> int:
    existing = {key_of(item) for item in db.session.scalars(sa.select(model))}
    added = [row for row in rows if key_of(row) not in existing]
    db.session.add_all(added)
    db.session.flush()
    return len(added)


def seed_counties() -> int:
    rows = [
        County(
            code=row["code"], name=row["name_zh"], kind=DivisionKind(row["kind"]),
            is_current=row["status"] == "current", successor_code=row["successor_code"] or None, note=row["note"],
        )
        for row in read_rows(SEED_DIR / "counties.csv")
    ]
    return _insert_missing(County, lambda county: county.code, rows)


def seed_occupations() -> int:
    rows = [
        Occupation(
            code=row["code"], name=row["name_zh"], edition=int(row["edition"]), levels=parse_levels(row["levels"]),
            work_types=[], confidence=row["confidence"], source=row["source"],
        )
        for row in read_rows(SEED_DIR / "occupations.csv")
    ]
    return _insert_missing(Occupation, lambda occupation: (occupation.code, occupation.edition), rows)


def seed_special_items() -> int:
    """The 专项职业能力 catalogue: a labelled example set until a Henan list is found (docs/GLOSSARY.md)."""
    rows = [SpecialItem(code=row["code"], name=row["name_zh"], source=row["source"])
            for row in read_rows(SEED_DIR / "special_items.csv")]
    return _insert_missing(SpecialItem, lambda item: item.code, rows)


def seed_programs() -> int:
    rows = [
        Program(key=row["key"], name=row["name_zh"], focus=row["focus_zh"],
                example_fields=row["example_fields_zh"], source=row["source"])
        for row in read_rows(SEED_DIR / "programs.csv")
    ]
    return _insert_missing(Program, lambda program: program.key, rows)


def seed_labour_brands() -> int:
    codes = {name: code for code, name in db.session.execute(sa.select(County.code, County.name))}
    rows = [
        LabourBrand(name=row["name_zh"], county_code=codes[row["county_zh"]], source=row["source"])
        for row in read_rows(SEED_DIR / "labour_brands.csv")
    ]
    return _insert_missing(LabourBrand, lambda brand: brand.name, rows)


def seed_indicators_and_targets() -> int:
    rows = read_rows(SEED_DIR / "plan_targets.csv")
    indicators = [
        Indicator(key=row["key"], name=row["indicator_zh"], unit=row["unit"],
                  is_cumulative=row["cumulative_2021_2025"] == "yes", baseline_2020=row["baseline_2020"],
                  source=row["source"])
        for row in rows
    ]
    added = _insert_missing(Indicator, lambda indicator: indicator.key, indicators)
    targets = []
    for row in rows:
        if parsed := parse_target(row["target_2025"]):
            comparator, value = parsed
            targets.append(Target(indicator_key=row["key"], county_code=CITY_CODE, year=TARGET_YEAR,
                                  value=value, comparator=comparator))
    return added + _insert_missing(Target, lambda target: (target.indicator_key, target.county_code, target.year),
                                   targets)


def seed_reference_data() -> dict[str, int]:
    return {
        "counties": seed_counties(),
        "occupations": seed_occupations(),
        "special_items": seed_special_items(),
        "programs": seed_programs(),
        "labour_brands": seed_labour_brands(),
        "indicators_and_targets": seed_indicators_and_targets(),
    }
