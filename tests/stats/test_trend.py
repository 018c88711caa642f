"""The monthly series against a plain recount of the day totals, and the projection as a pure function."""
from collections import Counter
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from registry.core.db import db
from registry.stats import trend
from registry.stats.coverage import coverage
from registry.stats.tally import add_to_days
from registry.stats.trend import DEADLINE, MonthPoint, holders_added, monthly_series, project

# (county, day, holders, level_5 = skilled, level_3 = highly skilled): gaps, month edges, a non-current code.
DAYS = [
    ("410221", date(2024, 11, 30), 4, 2, 1),
    ("410221", date(2025, 1, 1), 3, 3, 0),
    ("410221", date(2025, 1, 31), 2, 1, 1),
    ("410225", date(2025, 1, 15), 5, 0, 0),
    ("410221", date(2025, 4, 10), 1, 1, 1),
    ("410225", date(2025, 4, 11), 7, 6, 2),
    ("410299", date(2025, 4, 12), 9, 0, 0),  # a county code no longer current: still the city's
]


@pytest.fixture
def days(app):
    # through the tally's own upsert, so the month totals the series reads hold the same sums
    add_to_days({(county_code, day): Counter(holders=holders, level_5=skilled, level_3=high_skilled)
                 for county_code, day, holders, skilled, high_skilled in DAYS})
    db.session.flush()


def recount(until: date, county_codes: list[str] | None) -> tuple[int, int, int]:
    """Plain SQL over the day totals, written apart from the query under test."""
    sql = "SELECT COALESCE(SUM(holders), 0), COALESCE(SUM(level_5), 0), COALESCE(SUM(level_3), 0) " \
          "FROM coverage_days WHERE day <= :until"
    parameters = {"until": until}
    if county_codes:
        sql += " AND county_code IN (" + ", ".join(f":c{i}" for i in range(len(county_codes))) + ")"
        parameters |= {f"c{i}": code for i, code in enumerate(county_codes)}
    return tuple(int(value) for value in db.session.execute(sa.text(sql), parameters).one())


def month_end(month: str, until: date) -> date:
    year, number = map(int, month.split("-"))
    following = date(year + number // 12, number % 12 + 1, 1)
    return min(following - timedelta(days=1), until)


@pytest.mark.parametrize("county_codes", [None, ["410221"], ["410225"], ["410221", "410225"]])
@pytest.mark.parametrize("until", [date(2025, 1, 20), date(2025, 4, 11), date(2025, 6, 30)])
def test_each_point_is_the_recount_at_the_end_of_its_month(days, county_codes, until):
    points = monthly_series(county_codes, until, since=date(2024, 10, 1))
    months = [point.month for point in points]
    assert months[0] == "2024-10" and months[-1] == f"{until:%Y-%m}"
    assert len(months) == len(set(months)) == (until.year - 2024) * 12 + until.month - 9  # consecutive
    for point in points:
        assert (point.holders, point.skilled, point.high_skilled) == recount(month_end(point.month, until),
                                                                             county_codes), point


def test_the_city_counts_every_code_and_a_later_start_carries_what_came_before(days):
    points = monthly_series(None, date(2025, 5, 31), since=date(2025, 3, 1))
    assert points == [MonthPoint("2025-03", 14, 6, 2), MonthPoint("2025-04", 31, 13, 5),
                      MonthPoint("2025-05", 31, 13, 5)]


def test_without_a_start_the_series_begins_at_the_first_activity(days):
    assert monthly_series(["410225"], date(2025, 4, 30))[0] == MonthPoint("2025-01", 5, 0, 0)
    assert monthly_series(["410202"], date(2025, 4, 30)) == []
    assert monthly_series(["410202"], date(2025, 2, 28), since=date(2025, 1, 1)) == [
        MonthPoint("2025-01", 0, 0, 0), MonthPoint("2025-02", 0, 0, 0)]
    # A start after the date shows just the date's month.
    assert [p.month for p in monthly_series(None, date(2025, 1, 20), since=date(2025, 6, 1))] == ["2025-01"]


def test_holders_added_counts_the_days_after_the_start_up_to_and_including_the_end(days):
    assert holders_added(date(2025, 1, 1), date(2025, 4, 11)) == {"410221": 3, "410225": 12}
    assert holders_added(date(2024, 12, 31), date(2025, 4, 12)) == {"410221": 6, "410225": 12, "410299": 9}
    assert holders_added(date(2025, 4, 12), date(2025, 6, 1)) == {}


def test_the_last_point_matches_the_coverage_of_the_same_day(app, approved_batch):
    from registry.certificates.operations import issue_batch

    for assessed_on, issued_on in ((date(2025, 1, 10), date(2025, 1, 20)),
                                   (date(2025, 3, 1), date(2025, 3, 5))):
        issue_batch(None, approved_batch(passed=2, failed=0, assessed_on=assessed_on), issued_on=issued_on)
    db.session.commit()
    as_of = date(2025, 3, 31)
    city, (county,) = coverage(as_of, ["410221"])
    points = monthly_series(["410221"], as_of, since=date(2025, 1, 1))
    assert [(p.month, p.holders) for p in points] == [("2025-01", 2), ("2025-02", 2), ("2025-03", 4)]
    last = (points[-1].holders, points[-1].skilled, points[-1].high_skilled)
    assert last == (county.holders, county.skilled, county.high_skilled)
    assert last == (city.holders, city.skilled, city.high_skilled)


# --- the projection: pure, every date a parameter ---------------------------------------------------------

AS_OF = date(2025, 6, 30)


def test_the_date_the_target_is_reached_at_the_recent_pace():
    projection = project(current=100, added=90, target=1000, as_of=AS_OF)  # one a day
    assert projection.weekly_pace == 7
    assert projection.reached_on == AS_OF + timedelta(days=900) and projection.reach_label == "2027-12-17"
    assert not projection.on_track
    # A part-day is a whole day: 10 to go at 3 per 90 days is 300 days.
    assert project(current=0, added=3, target=10, as_of=AS_OF).reached_on == AS_OF + timedelta(days=300)
    assert project(current=990, added=90, target=1000, as_of=AS_OF).on_track


def test_the_weekly_pace_the_deadline_asks_for():
    projection = project(current=0, added=0, target=1000, as_of=AS_OF, deadline=date(2025, 12, 31))
    # 184 days = 26.29 weeks: 1000 / 26.29 = 38.04, rounded up.
    assert projection.needed_weekly == 39 and projection.needed_label == "39"
    assert project(0, 0, 7_000, date(2025, 12, 24), date(2025, 12, 31)).needed_weekly == 7_000
    assert project(0, 0, 1_350_000, date(2021, 1, 1), date(2025, 12, 31)).needed_label == "5,179"


def test_a_pace_of_nothing_never_reaches_the_target():
    for added in (0, -2):
        projection = project(current=10, added=added, target=100, as_of=AS_OF)
        assert projection.reached_on is None and projection.reach_label == "按当前进度无法达到"
        assert projection.needed_weekly is not None  # the deadline question still has an answer
    # Nor does a pace that would take more than a century.
    assert project(0, 1, 1_350_000, AS_OF).reach_label == "按当前进度无法达到"


@pytest.mark.parametrize("as_of", [DEADLINE, DEADLINE + timedelta(days=1), date(2026, 11, 27)])
def test_on_and_after_the_deadline_it_says_so(as_of):
    projection = project(current=10, added=9, target=100, as_of=as_of)
    assert projection.deadline_passed and projection.needed_weekly is None
    assert projection.needed_label == "期限已过"
    assert projection.reach_label == (as_of + timedelta(days=900)).isoformat()  # still forecast at the pace


def test_the_day_before_the_deadline_is_still_in_time():
    projection = project(current=0, added=0, target=10, as_of=DEADLINE - timedelta(days=1))
    assert not projection.deadline_passed and projection.needed_weekly == 70  # 10 in one seventh of a week


@pytest.mark.parametrize("current", [100, 150])
def test_a_reached_target_is_reached(current):
    projection = project(current=current, added=0, target=100, as_of=date(2026, 11, 27))
    assert projection.is_reached and projection.on_track and projection.reached_on is None
    assert projection.reach_label == projection.needed_label == "已达标"
    assert projection.remaining == 0


@pytest.mark.parametrize("target", [None, 0])
def test_without_a_target_there_is_nothing_to_project(target):
    projection = project(current=5, added=5, target=target, as_of=AS_OF)
    assert projection.reached_on is None and projection.needed_weekly is None and not projection.on_track
    assert projection.reach_label == projection.needed_label == "未设目标"


def test_the_deadline_is_the_end_of_the_target_year():
    assert trend.DEADLINE == date(2025, 12, 31) and trend.PACE_DAYS == 90
