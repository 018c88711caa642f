"""The level and month drill-downs read from the kept totals give exactly the raw count's table (#17)."""
from datetime import date

import pytest

from registry.certificates.models import CertificateKind
from registry.core.db import db
from registry.demo_data import generate_demo_data
from registry.stats import drilldowns, kept_tables
from registry.stats.filters import Filters
from registry.stats.tables import drilldown_table
from tests.stats.test_drilldowns import AGENCY, certify, world  # noqa: F401  (fixtures)

COUNTIES = (None, ["410221"], ["410221", "410225", "410202"])
# open, up to a day, across years from mid-month to mid-month, one whole month, two part-months, one day
RANGES = ((None, None), (None, date(2024, 6, 15)), (date(2022, 3, 10), date(2025, 7, 20)),
          (date(2025, 6, 1), date(2025, 6, 30)), (date(2025, 5, 3), date(2025, 6, 10)),
          (date(2025, 6, 2), date(2025, 6, 2)), (date(2021, 1, 1), None))


# every month table, and the level tables of the ranges open at the start
EVERY_TABLE = len(COUNTIES) * (len(RANGES) + sum(1 for date_from, _date_to in RANGES if date_from is None))


def raw(dimension: str, filters: Filters) -> drilldowns.Table:
    query = {"level": drilldowns.holders_by_level, "month": drilldowns.by_month}[dimension]
    return query(filters.county_codes, filters.date_from, filters.date_to, filters.kinds)


def assert_same_tables(date_ranges) -> int:
    compared = 0
    for county_codes in COUNTIES:
        for date_from, date_to in date_ranges:
            filters = Filters(None, county_codes, date_from, date_to)
            for dimension in ("level", "month"):
                kept = kept_tables.table(dimension, filters)
                if kept is None:
                    continue
                expected = raw(dimension, filters)
                assert (kept.rows, kept.total) == (expected.rows, expected.total), (dimension, filters)
                compared += 1
    return compared


@pytest.fixture
def demo(app):
    generate_demo_data(300, seed=3)
    db.session.commit()


def test_a_demo_registry_gives_the_same_tables_from_the_kept_totals(demo):
    assert assert_same_tables(RANGES) == EVERY_TABLE


def test_revoked_corrected_imported_and_multi_level_holders_give_the_same_tables(world):
    assert assert_same_tables(RANGES) == EVERY_TABLE


def test_the_page_shows_the_kept_table(world):
    filters = Filters(None, None, None, None)
    table = drilldown_table("level", filters)
    assert table.total["holders"] > 0 and table.rows == raw("level", filters).rows


@pytest.mark.parametrize("dimension, filters", [
    ("level", Filters(None, None, date(2025, 1, 1), None)),  # certified within a range: persons, not sums
    ("level", Filters(None, None, None, None, CertificateKind.QUALIFICATION)),
    ("month", Filters(None, None, None, None, CertificateKind.SKILL_LEVEL)),
    ("occupation", Filters(None, None, None, None)),
])
def test_what_the_kept_totals_cannot_answer_is_counted_from_the_raw_tables(app, dimension, filters):
    assert kept_tables.table(dimension, filters) is None
