"""The drill-downs that the kept coverage totals answer exactly, read from them instead of the raw tables.

The kept totals count the cockpit's counted kinds, so only a filter without a certificate kind can use them.
The month table adds up per month (new holders are counted on their first certificate's day, and every other
column is a count by day), so any date range works. The level table's holders are persons by their best level
as of a day, which the totals hold only for a range open at the start: a start date (persons certified
within the range) still needs the raw count (registry.stats.drilldowns). docs/STATISTICS.md lists which.
"""
from collections import Counter
from datetime import date, timedelta

import sqlalchemy as sa

from registry.core.db import db
from registry.stats import drilldowns
from registry.stats.filters import Filters
from registry.stats.models import CoverageDay, CoverageMonth

LEVELS = range(1, 6)
MONTH_MEASURES = {"new_holders": "holders", "certificates": "certificates_valid", "enrolments": "enrolments",
                  "completions": "completions"}


def table(dimension: str, filters: Filters) -> drilldowns.Table | None:
    """The dimension's table from the kept totals, or None when the totals cannot answer this filter."""
    if filters.kind is not None:
        return None
    if dimension == "month":
        return _by_month(filters)
    if dimension == "level" and filters.date_from is None:
        return _by_level(filters)
    return None


def _by_level(filters: Filters) -> drilldowns.Table:
    measures = ["holders", *(f"level_{level}" for level in LEVELS), "certificates_valid",
                *(f"certificates_level_{level}" for level in LEVELS)]
    sums = Counter()
    for counts in monthly_sums(measures, filters.county_codes, None, filters.date_to).values():
        sums.update(counts)
    # level_k counts the persons at level k or better: the difference leaves those whose best is k.
    holders_at = {level: sums[f"level_{level}"] - sums[f"level_{level - 1}"] for level in LEVELS}
    certificates_at: dict[int | None, int] = {level: sums[f"certificates_level_{level}"] for level in LEVELS}
    certificates_at[None] = sums["certificates_valid"] - sum(certificates_at.values())
    return drilldowns.level_table(holders_at, certificates_at, sums["holders"])


def _by_month(filters: Filters) -> drilldowns.Table:
    sums = monthly_sums(list(MONTH_MEASURES.values()), filters.county_codes, filters.date_from, filters.date_to)
    figures = {month: Counter({key: counts[measure] for key, measure in MONTH_MEASURES.items()})
               for month, counts in sums.items() if any(counts.values())}
    return drilldowns.month_table(figures, filters.date_from, filters.date_to)


def monthly_sums(measures: list[str], county_codes: list[str] | None, date_from: date | None,
                 date_to: date | None) -> dict[str, Counter]:
    """Each month's (“2025-06”) sums of the measures over the counties and the inclusive date range: the month
    totals for the months wholly inside the range, the day totals for the part-months at its ends."""
    whole_from = None if date_from is None else _month_start_on_or_after(date_from)
    whole_until = None if date_to is None else (date_to + timedelta(days=1)).replace(day=1)  # exclusive
    if whole_from is not None and whole_until is not None and whole_from >= whole_until:
        # the range lies within one month (or two part-months): the day totals alone
        return _sums(CoverageDay, measures, county_codes, date_from, date_to)
    sums = _sums(CoverageMonth, measures, county_codes, whole_from,
                 None if whole_until is None else whole_until - timedelta(days=1))
    if date_from is not None and date_from < whole_from:
        _merge(sums, _sums(CoverageDay, measures, county_codes, date_from, whole_from - timedelta(days=1)))
    if date_to is not None and whole_until <= date_to:
        _merge(sums, _sums(CoverageDay, measures, county_codes, whole_until, date_to))
    return sums


def _sums(model, measures: list[str], county_codes, first: date | None, last: date | None) -> dict[str, Counter]:
    table = model.__table__
    period = table.c.month if model is CoverageMonth else table.c.day
    statement = sa.select(period, *[sa.func.sum(table.c[measure]).label(measure) for measure in measures])
    if county_codes is not None:
        statement = statement.where(table.c.county_code.in_(county_codes))
    if first is not None:
        statement = statement.where(period >= first)
    if last is not None:
        statement = statement.where(period <= last)
    sums: dict[str, Counter] = {}
    for row in db.session.execute(statement.group_by(period)):
        month = row[0].isoformat()[:7]
        sums.setdefault(month, Counter()).update({measure: int(row._mapping[measure] or 0) for measure in measures})
    return sums


def _merge(into: dict[str, Counter], more: dict[str, Counter]) -> None:
    for month, counts in more.items():
        into.setdefault(month, Counter()).update(counts)


def _month_start_on_or_after(day: date) -> date:
    if day.day == 1:
        return day
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)
