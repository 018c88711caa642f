"""Coverage as of a date — holders, skilled, highly skilled, certificates and training per county — from the
kept day totals, with the plan's targets beside them. Read-only; docs/STATISTICS.md defines every figure."""
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from registry.core.db import db
from registry.reference.models import CITY_CODE, Indicator, Target
from registry.reference.queries import current_counties
from registry.stats.models import MEASURES, CoverageDay, CoverageMonth
from registry.stats.periods import together

NEW_SINCE = date(2021, 1, 1)  # the plan's period starts here: "new" holders and cumulative training targets
TARGET_YEAR = 2025
# figure → the plan indicator that sets its target (targets are stored in 万 of the indicator's unit)
TARGET_INDICATORS = {
    "holders": "skilled_holders_total",
    "skilled": "skilled_workers_total",
    "high_skilled": "high_skilled_workers",
    "enrolments_since_2021": "vocational_training_sessions",
    "subsidised_enrolments_since_2021": "subsidized_training",
    "rural_enrolments_since_2021": "rural_training",
}
TRAINING = ("enrolments", "completions", "subsidised_enrolments", "rural_enrolments")


@dataclass
class Coverage:
    """The figures of one county or of the whole city, as of a date."""

    code: str
    name: str
    holders: int = 0
    skilled: int = 0
    high_skilled: int = 0
    by_level: dict[str, int] = field(default_factory=lambda: dict.fromkeys("12345", 0))
    certificates_valid: int = 0
    certificates_revoked: int = 0
    new_holders_since_2021: int = 0
    enrolments: int = 0
    completions: int = 0
    subsidised_enrolments: int = 0
    rural_enrolments: int = 0
    enrolments_since_2021: int = 0
    subsidised_enrolments_since_2021: int = 0
    rural_enrolments_since_2021: int = 0
    targets: dict[str, int | None] = field(default_factory=lambda: dict.fromkeys(TARGET_INDICATORS))

    def progress(self, figure: str) -> float | None:
        """The share of the target reached, 0–1 and beyond; None without a target."""
        target = self.targets.get(figure)
        return getattr(self, figure) / target if target else None

    def as_json(self) -> dict:
        return {key: value for key, value in vars(self).items()}


def coverage(as_of: date, county_codes: list[str] | None = None) -> tuple[Coverage, list[Coverage]]:
    """The city and each current county (or just those asked for) as of the end of `as_of`."""
    counties = [county for county in current_counties() if county_codes is None or county.code in county_codes]
    by_code = {county.code: Coverage(county.code, county.name) for county in counties}
    city = Coverage(CITY_CODE, "开封市")
    for code, sums in _sums(as_of).items():
        for figures in (city, by_code.get(code)):
            if figures is not None:
                _add(figures, sums)
    targets = _targets()
    for figures in (city, *by_code.values()):
        figures.targets = {figure: targets.get((figures.code, key)) for figure, key in TARGET_INDICATORS.items()}
    return city, list(by_code.values())


def _sums(as_of: date) -> dict[str, dict[str, int]]:
    """Whole months before as_of's month from the month totals, the rest of the way from the day totals: one
    statement, a county's month row and day row added up here."""
    month_start = as_of.replace(day=1)
    months, days = CoverageMonth.__table__, CoverageDay.__table__
    selects = []
    for table, period, condition in ((months, months.c.month, months.c.month < month_start),
                                     (days, days.c.day, days.c.day.between(month_start, as_of))):
        # NEW_SINCE is the first of a month, so it splits month totals cleanly.
        recent = period >= NEW_SINCE
        columns = [sa.func.sum(table.c[measure]).label(measure) for measure in MEASURES]
        columns += [sa.func.sum(sa.case((recent, table.c[measure]), else_=0)).label(f"{measure}_since_2021")
                    for measure in ("holders", *TRAINING)]
        statement = sa.select(table.c.county_code, *columns).where(condition)
        selects.append(statement.group_by(table.c.county_code))
    sums: dict[str, Counter] = {}
    for row in db.session.execute(together(selects)):
        county = sums.setdefault(row.county_code, Counter())
        county.update({key: int(value or 0) for key, value in row._mapping.items() if key != "county_code"})
    return {code: {key: county[key] for key in (*MEASURES, *(f"{m}_since_2021" for m in ("holders", *TRAINING)))}
            for code, county in sums.items()}


def _add(figures: Coverage, sums: dict[str, int]) -> None:
    figures.holders += sums["holders"]
    figures.skilled += sums["level_5"]
    figures.high_skilled += sums["level_3"]
    for rank in range(1, 6):
        # level_k counts persons at level k or better, so the difference leaves those whose best is k.
        figures.by_level[str(rank)] += sums[f"level_{rank}"] - (sums[f"level_{rank - 1}"] if rank > 1 else 0)
    figures.certificates_valid += sums["certificates_valid"]
    figures.certificates_revoked += sums["certificates_revoked"]
    figures.new_holders_since_2021 += sums["holders_since_2021"]
    for measure in TRAINING:
        setattr(figures, measure, getattr(figures, measure) + sums[measure])
    for measure in ("enrolments", "subsidised_enrolments", "rural_enrolments"):
        key = f"{measure}_since_2021"
        setattr(figures, key, getattr(figures, key) + sums[key])


def _targets() -> dict[tuple[str, str], int]:
    """(county code, indicator key) → the 2025 target in persons (or 人次), converted from 万."""
    rows = db.session.execute(
        sa.select(Target.county_code, Target.indicator_key, Target.value, Indicator.unit)
        .join(Indicator, Indicator.key == Target.indicator_key)
        .where(Target.year == TARGET_YEAR, Target.indicator_key.in_(TARGET_INDICATORS.values())))
    return {(code, key): int(value * (Decimal(10_000) if unit.startswith("万") else 1))
            for code, key, value, unit in rows}


def baseline_2020() -> dict[str, str]:
    """The plan's 2020 figures as printed, shown beside the registry's own counts and never added to them."""
    rows = db.session.execute(sa.select(Indicator.key, Indicator.baseline_2020, Indicator.unit)
                              .where(Indicator.key.in_(TARGET_INDICATORS.values())))
    by_key = {key: f"{value}{unit}" for key, value, unit in rows if value}
    return {figure: by_key[key] for figure, key in TARGET_INDICATORS.items() if key in by_key}
