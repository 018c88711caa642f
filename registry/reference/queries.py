"""Read-only look-ups of reference data used by forms across the registry."""
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

import sqlalchemy as sa

from registry.core.db import db
from registry.reference.models import CITY_CODE, County, CountyEmployment, Indicator, Occupation, Program, Target
from registry.reference.operations import RATE_UNITS
from registry.reference.seeding import SEED_DIR, TARGET_YEAR, read_rows


def county_choices(include_city: bool = False) -> list[tuple[str, str]]:
    statement = sa.select(County.code, County.name).where(County.is_current).order_by(County.code)
    if not include_city:
        statement = statement.where(County.code != CITY_CODE)
    return [(code, f"{name}（{code}）") for code, name in db.session.execute(statement)]


def occupation_choices() -> list[tuple[int, str]]:
    statement = sa.select(Occupation).where(Occupation.is_active).order_by(Occupation.code)
    return [(occupation.id, str(occupation)) for occupation in db.session.scalars(statement)]


def program_choices() -> list[tuple[str, str]]:
    return [(program.key, program.name) for program in db.session.scalars(sa.select(Program).order_by(Program.name))]


def resolve_county(code: str) -> County | None:
    """A county by code; a retired code resolves to the county that replaced it."""
    county = db.session.get(County, code.strip())
    if county is not None and not county.is_current and county.successor is not None:
        return county.successor
    return county


def current_counties() -> list[County]:
    """The current counties and districts (not the city), the columns of per-county tables."""
    statement = sa.select(County).where(County.is_current, County.code != CITY_CODE).order_by(County.code)
    return list(db.session.scalars(statement))


def all_divisions() -> list[County]:
    """Every division, current ones first, for the administrator's county list."""
    return list(db.session.scalars(sa.select(County).order_by(County.is_current.desc(), County.code)))


def indicator_choices(splittable_only: bool = False) -> list[tuple[str, str]]:
    statement = sa.select(Indicator).order_by(Indicator.key)
    if splittable_only:
        statement = statement.where(Indicator.unit.not_in(RATE_UNITS))
    indicators = db.session.scalars(statement)
    return [(indicator.key, f"{indicator.name}（{indicator.unit}）") for indicator in indicators]


@cache
def plan_figures() -> dict[str, str]:
    """The plan's 2025 targets exactly as printed (">60"), so an edited city target never hides them."""
    return {row["key"]: row["target_2025"] for row in read_rows(SEED_DIR / "plan_targets.csv")}


@dataclass
class TargetRow:
    indicator: Indicator
    plan_figure: str
    city: Target | None
    by_county: dict[str, Target]

    @property
    def is_splittable(self) -> bool:
        return self.indicator.unit not in RATE_UNITS

    @property
    def county_total(self) -> Decimal | None:
        """The county targets' sum, shown beside the city's so a mismatch shows; rates do not add up."""
        if not self.is_splittable or not self.by_county:
            return None
        return sum((target.value for target in self.by_county.values()), Decimal(0))


def target_grid(year: int) -> list[TargetRow]:
    """One row per indicator with the city's and each county's target for the year."""
    targets = db.session.scalars(sa.select(Target).where(Target.year == year))
    by_indicator: dict[str, dict[str, Target]] = {}
    for target in targets:
        by_indicator.setdefault(target.indicator_key, {})[target.county_code] = target
    figures = plan_figures()
    # The plan's own order (its table 1 first), then any indicator added later.
    position = {key: index for index, key in enumerate(figures)}
    indicators = sorted(db.session.scalars(sa.select(Indicator)),
                        key=lambda indicator: (position.get(indicator.key, len(position)), indicator.key))
    rows = []
    for indicator in indicators:
        found = by_indicator.get(indicator.key, {})
        city = found.pop(CITY_CODE, None)
        rows.append(TargetRow(indicator, figures.get(indicator.key, ""), city, found))
    return rows


def target_years() -> list[int]:
    """Years that have a target, plus the plan's target year, for the year selector."""
    years = set(db.session.scalars(sa.select(Target.year).distinct()))
    return sorted(years | {TARGET_YEAR})


def employment_rows() -> list[tuple[CountyEmployment, str]]:
    """Every employed-persons figure with its division's name, latest year first, then by county code."""
    statement = (sa.select(CountyEmployment, County.name).join(County, County.code == CountyEmployment.county_code)
                 .order_by(CountyEmployment.year.desc(), CountyEmployment.county_code))
    return [(row, name) for row, name in db.session.execute(statement)]
