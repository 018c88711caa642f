"""The drill-downs that the kept totals answer exactly, read from them instead of the raw tables.

The kept totals count the cockpit's counted kinds, so only a filter without a certificate kind can use them.
Tables of counts by day (the month table: new holders are counted on their first certificate's day; the
programme table: 人次) work for any date range. Tables with persons or classes in them (holders by best
level, by occupation, agency or key group; an institution's classes) hold them only as of a day, so a range
with a start date (persons certified within it) is still counted from the raw tables
(registry.stats.drilldowns). The level and month tables read the coverage totals, the others the breakdowns
of registry.stats.breakdown_tally. docs/STATISTICS.md lists which.
"""
from collections import Counter

import sqlalchemy as sa

from registry.core.db import db
from registry.stats import drilldown_tables
from registry.stats.filters import Filters
from registry.stats.models import BreakdownDay, BreakdownMonth
from registry.stats.periods import in_period, monthly_sums, pieces, together

LEVELS = range(1, 6)
MONTH_MEASURES = {"new_holders": "holders", "certificates": "certificates_valid", "enrolments": "enrolments",
                  "completions": "completions"}


def table(dimension: str, filters: Filters) -> drilldown_tables.Table | None:
    """The dimension's table from the kept totals, or None when the totals cannot answer this filter."""
    if dimension == "program":  # training only: the kind does not apply
        return _by_program(filters)
    if filters.kind is not None and dimension != "institution":
        return None
    if dimension == "month":
        return _by_month(filters)
    if filters.date_from is not None:
        return None
    readers = {"level": _by_level, "occupation": _by_occupation, "key_group": _by_key_group,
               "agency": _by_agency, "institution": _by_institution}
    return readers[dimension](filters) if dimension in readers else None


def _by_level(filters: Filters) -> drilldown_tables.Table:
    measures = ["holders", *(f"level_{level}" for level in LEVELS), "certificates_valid",
                *(f"certificates_level_{level}" for level in LEVELS)]
    sums = Counter()
    for counts in monthly_sums(measures, filters.county_codes, None, filters.date_to).values():
        sums.update(counts)
    # level_k counts the persons at level k or better: the difference leaves those whose best is k.
    holders_at = {level: sums[f"level_{level}"] - sums[f"level_{level - 1}"] for level in LEVELS}
    certificates_at: dict[int | None, int] = {level: sums[f"certificates_level_{level}"] for level in LEVELS}
    certificates_at[None] = sums["certificates_valid"] - sum(certificates_at.values())
    return drilldown_tables.level_table(holders_at, certificates_at, sums["holders"])


def _by_month(filters: Filters) -> drilldown_tables.Table:
    sums = monthly_sums(list(MONTH_MEASURES.values()), filters.county_codes, filters.date_from, filters.date_to)
    figures = {month: Counter({key: counts[measure] for key, measure in MONTH_MEASURES.items()})
               for month, counts in sums.items() if any(counts.values())}
    return drilldown_tables.month_table(figures, filters.date_from, filters.date_to)


def _by_occupation(filters: Filters) -> drilldown_tables.Table:
    sums = breakdown_sums("occupation", ["holders", "certificates_valid", "enrolments"], filters)
    figures = {None if value == "" else int(value): Counter(
        holders=counts["holders"], certificates=counts["certificates_valid"], enrolments=counts["enrolments"])
        for value, counts in sums.items()}
    return drilldown_tables.occupation_table(figures, filters.top)


def _by_key_group(filters: Filters) -> drilldown_tables.Table:
    sums = breakdown_sums("key_group", ["holders", "enrolments", "completions"], filters)
    return drilldown_tables.key_group_table({int(value): counts for value, counts in sums.items()})


def _by_program(filters: Filters) -> drilldown_tables.Table:
    sums = breakdown_sums("program", ["enrolments", "completions", "subsidised"], filters)
    return drilldown_tables.program_table({value or None: dict(counts) for value, counts in sums.items()})


def _by_agency(filters: Filters) -> drilldown_tables.Table:
    measures = {"assessed": "assessed", "passed": "passed", "certificates": "certificates_valid",
                "holders": "holders", "revoked": "certificates_revoked"}
    sums = breakdown_sums("agency", list(measures.values()), filters)
    return drilldown_tables.agency_table({
        None if value == "" else int(value): Counter({key: counts[measure] for key, measure in measures.items()})
        for value, counts in sums.items() if counts["assessed"] or counts["certificates_valid"]
        or counts["certificates_revoked"]})


def _by_institution(filters: Filters) -> drilldown_tables.Table:
    measures = ["classes", "enrolments", "completions", "subsidised"]
    sums = breakdown_sums("institution", measures, filters)
    return drilldown_tables.institution_table({int(value): {measure: counts[measure] for measure in measures}
                                         for value, counts in sums.items() if counts["enrolments"]})


def breakdown_sums(dimension: str, measures: list[str], filters: Filters) -> dict[str, Counter]:
    """Each value's sums of the measures over the counties and dates of the filter; values summing to
    nothing left out (as a raw count has no row for them)."""
    selects = []
    for period, first, last in pieces(filters.date_from, filters.date_to):
        table = (BreakdownMonth if period == "month" else BreakdownDay).__table__
        statement = sa.select(table.c.value, *[sa.func.sum(table.c[measure]).label(measure) for measure in measures])
        statement = in_period(statement.where(table.c.dimension == dimension), table, period,
                              filters.county_codes, first, last)
        selects.append(statement.group_by(table.c.value))
    sums: dict[str, Counter] = {}
    for row in db.session.execute(together(selects)):
        sums.setdefault(row.value, Counter()).update(
            {measure: int(row._mapping[measure] or 0) for measure in measures})
    return {value: counts for value, counts in sums.items() if any(counts.values())}
