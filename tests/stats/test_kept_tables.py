"""The drill-downs read from the kept totals give exactly the raw count's table (#17)."""
from datetime import date

import pytest
import sqlalchemy as sa

from registry.certificates.models import CertificateKind
from registry.core.db import db
from registry.demo_data import generate_demo_data
from registry.people.models import KEY_GROUP_LABELS, KeyGroup
from registry.stats import drilldown_tables, kept_tables, rebuild
from registry.stats.filters import Filters
from registry.stats.models import BreakdownMonth
from registry.stats.tables import DIMENSIONS, drilldown_table
from registry.training.models import ClassStatus
from registry.training.operations import enroll_person
from tests.stats.test_drilldowns import AGENCY, certify, world  # noqa: F401  (fixtures)
from tests.training.test_roster_import import (  # noqa: F401  (fixtures)
    commit, csv_bytes, institution_user, roster_rows, training_class, upload)

COUNTIES = (None, ["410221"], ["410221", "410225", "410202"])
# open, up to a day, across years from mid-month to mid-month, one whole month, two part-months, one day
RANGES = ((None, None), (None, date(2024, 6, 15)), (date(2022, 3, 10), date(2025, 7, 20)),
          (date(2025, 6, 1), date(2025, 6, 30)), (date(2025, 5, 3), date(2025, 6, 10)),
          (date(2025, 6, 2), date(2025, 6, 2)), (date(2021, 1, 1), None))


ANY_RANGE = ("month", "program")  # counts by day
OPEN_START = ("level", "occupation", "key_group", "agency", "institution")  # persons or classes as of a day
# every table of counts by day, and the others for the ranges open at the start
EVERY_TABLE = len(COUNTIES) * (len(ANY_RANGE) * len(RANGES)
                               + len(OPEN_START) * sum(1 for date_from, _date_to in RANGES if date_from is None))


def raw(dimension: str, filters: Filters) -> drilldown_tables.Table:
    _label, query, uses_kind = DIMENSIONS[dimension]
    arguments = {"county_codes": filters.county_codes, "date_from": filters.date_from, "date_to": filters.date_to}
    if uses_kind:
        arguments["kinds"] = filters.kinds
    if dimension == "occupation":
        arguments["top"] = 100
    return query(**arguments)


def assert_same_tables(date_ranges) -> int:
    compared = 0
    for county_codes in COUNTIES:
        for date_from, date_to in date_ranges:
            filters = Filters(None, county_codes, date_from, date_to, top=100)
            for dimension in DIMENSIONS:
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
    ("occupation", Filters(None, None, date(2025, 1, 1), None)),
    ("agency", Filters(None, None, None, None, CertificateKind.SKILL_LEVEL)),
    ("institution", Filters(None, None, date(2025, 1, 1), None)),
])
def test_what_the_kept_totals_cannot_answer_is_counted_from_the_raw_tables(app, dimension, filters):
    assert kept_tables.table(dimension, filters) is None


@pytest.mark.parametrize("dimension", ["program", "institution"])
def test_the_training_tables_ignore_a_certificate_kind_as_the_raw_count_does(world, dimension):
    filters = Filters(None, None, None, None, CertificateKind.SKILL_LEVEL)
    kept = kept_tables.table(dimension, filters)
    assert kept is not None and kept.rows == raw(dimension, filters).rows


def test_a_key_group_gained_in_a_roster_import_moves_the_holder_and_the_earlier_training(
        upload, client, make_person, make_class, make_institution, certify):
    person = make_person(name="学员1")  # in no group (not rural: the rural refresh must not be what moves it)
    certify([person], 3, date(2024, 5, 6))
    earlier = make_class(make_institution(name="另一培训学校"), county_code="410221", status=ClassStatus.RUNNING)
    enroll_person(None, earlier, person, date(2025, 3, 2))
    db.session.commit()
    row = roster_rows(1)[0]
    row[6] = KEY_GROUP_LABELS[KeyGroup.VETERAN]
    commit(client, upload(csv_bytes([row])))  # the roster flags 学员1 as a veteran too
    db.session.expire_all()
    filters = Filters(None, None, None, None)
    table = kept_tables.table("key_group", filters)
    assert table.rows == raw("key_group", filters).rows
    veterans = next(row for row in table.rows if row["group"] == KEY_GROUP_LABELS[KeyGroup.VETERAN])
    assert (veterans["holders"], veterans["enrolments"]) == (1, 2)
    assert rebuild.breakdown_differences() == []


def test_stats_rebuild_check_finds_a_tampered_breakdown_and_rebuild_mends_it(world, runner):
    assert runner.invoke(args=["stats", "rebuild", "--check"]).exit_code == 0
    db.session.execute(sa.update(BreakdownMonth).where(BreakdownMonth.dimension == "agency")
                       .values(holders=BreakdownMonth.holders + 1))
    db.session.commit()
    checked = runner.invoke(args=["stats", "rebuild", "--check"])
    assert checked.exit_code == 1 and "分项月汇总（agency" in checked.output
    assert runner.invoke(args=["stats", "rebuild"]).exit_code == 0
    assert rebuild.breakdown_differences() == []


def test_stats_rebuild_writes_each_kept_total_once(demo, monkeypatch):
    """The sources' changes are added up before the totals are written (the breakdowns a county at a time):
    however many chunks the sources take (one source a chunk here), each day and month total is written by one
    row of one upsert — on PostgreSQL a total updated once a chunk left a dead version of itself each time."""
    from registry.stats import breakdown_tally, tally

    written = []

    def recording(table, keys, measures, rows):
        written.extend((table.name, *(row[key] for key in keys)) for row in rows)
        upsert_adding(table, keys, measures, rows)

    upsert_adding = tally.upsert_adding
    for module in (tally, breakdown_tally):
        monkeypatch.setattr(module, "CHUNK", 1)
        monkeypatch.setattr(module, "upsert_adding", recording)
    rebuild.rebuild()
    assert {table for table, *_key in written} == {
        "coverage_days", "coverage_months", "breakdown_days", "breakdown_months"}
    assert len(written) == len(set(written))
    assert rebuild.differences() == []
