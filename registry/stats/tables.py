"""The tables under the filter bar: what the drill-down and funnel pages show, export, and the API returns."""
from datetime import date

from registry.stats import drilldown_tables, drilldowns, funnel, kept_tables
from registry.stats.filters import Filters

MONTHS_BY_DEFAULT = 24
# dimension → (menu label, query, whether the certificate kind applies)
DIMENSIONS = {
    "level": ("按等级", drilldowns.holders_by_level, True),
    "occupation": ("按职业", drilldowns.by_occupation, True),
    "key_group": ("按重点群体", drilldowns.by_key_group, True),
    "program": ("按专项工程", drilldowns.training_by_program, False),
    "agency": ("按评价机构", drilldowns.by_agency, True),
    "institution": ("按培训机构", drilldowns.training_by_institution, False),
    "month": ("按月份", drilldowns.by_month, True),
}
FUNNEL_TABLES = {"county": ("培训—认定—取证漏斗（按县区）", "县区"),
                 "institution": ("培训—认定—取证漏斗（按培训机构）", "培训机构")}

def drilldown_table(dimension: str, filters: Filters) -> drilldown_tables.Table:
    """The table of one dimension under the filter bar: what the page shows, exports and the API returns."""
    kept = kept_tables.table(dimension, filters)
    if kept is not None:
        return kept
    _label, query, uses_kind = DIMENSIONS[dimension]
    arguments = {"county_codes": filters.county_codes, "date_from": filters.date_from,
                 "date_to": filters.date_to}
    if uses_kind:
        arguments["kinds"] = filters.kinds
    if dimension == "occupation":
        arguments["top"] = filters.top
    return query(**arguments)


def funnel_tables(filters: Filters) -> dict[str, drilldown_tables.Table]:
    by = {"county": funnel.funnel_by_county, "institution": funnel.funnel_by_institution}
    tables = {}
    for name, (title, label) in FUNNEL_TABLES.items():
        total, rows = by[name](filters.county_codes, filters.date_from, filters.date_to)
        tables[name] = funnel.funnel_table(title, label, total, rows)
    return tables


def recent_months(filters: Filters) -> Filters:
    """The month table defaults to the 24 months up to the end date, not to the first certificate ever."""
    last = filters.date_to or date.today()
    month = last.year * 12 + last.month - MONTHS_BY_DEFAULT  # months since year 0, zero-based
    first = date(month // 12, month % 12 + 1, 1)
    return Filters(filters.county, filters.county_codes, first, filters.date_to, filters.kind, filters.top)


