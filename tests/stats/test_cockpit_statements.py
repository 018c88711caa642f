"""The cockpit reads each kind of kept figure once per scope it shows (#17, item 3): on PostgreSQL a page's
cost is mostly the statements it sends, so the readings of two days (now and the pace's start) come from one
statement each, and reading days together gives what reading them one by one gives."""
from datetime import date, timedelta

import pytest

from registry.certificates.operations import issue_batch
from registry.core.db import db
from registry.core.roles import Role
from registry.reference.models import CITY_CODE
from registry.reference.operations import set_employment
from registry.stats import indicators
from tests.helpers import recorded

QIXIAN = "410221"


@pytest.fixture
def certified(approved_batch):
    issue_batch(None, approved_batch(passed=3, failed=1))
    last_year = date.today().year - 1
    set_employment(None, QIXIAN, last_year - 1, 200, "测试来源")
    set_employment(None, QIXIAN, last_year, 300, "测试来源")
    db.session.commit()


def reads_of(statements, table: str) -> int:
    return sum(f"FROM {table}" in sql for sql, _parameters in statements)


@pytest.mark.parametrize(("role", "county", "scopes"), [(Role.ADMIN, None, 1), (Role.COUNTY, QIXIAN, 2)])
def test_each_scope_reads_its_totals_agencies_and_employment_once(client, login, make_user, certified,
                                                                  role, county, scopes):
    login(make_user(role, county_code=county))
    with recorded() as statements:
        assert client.get("/stats").status_code == 200
    # The county table, each scope's readings (an official sees the city's beside the county's), the trend.
    assert reads_of(statements, "coverage_months") == 1 + scopes + 1
    assert reads_of(statements, "coverage_days") == 1 + 1 + scopes + 1  # and the county table's pace
    assert reads_of(statements, "county_employment") == scopes
    assert sum("count(CASE WHEN (agencies.filed_on" in sql for sql, _ in statements) == scopes
    assert reads_of(statements, "settings") <= 1


@pytest.mark.parametrize("code", [QIXIAN, CITY_CODE])
def test_days_read_together_read_what_each_day_reads_alone(certified, code):
    scope = indicators.Scope(code, "测试")
    today = date.today()
    days = (today, today - timedelta(days=1), date(today.year - 2, 6, 30), date(today.year - 3, 6, 30))
    together = indicators._values(scope, days)
    assert together == [indicators._values(scope, (day,))[0] for day in days]
    assert [values["skilled_holders_total"] for values, _missing in together] == [3, 0, 0, 0]
    if code == QIXIAN:  # each day's rate divides by the latest figure of its year or before
        rates = [values["holder_rate_of_employed"] for values, _missing in together]
        assert rates == [3 * indicators.RATE_SCALE // 300, 0, 0, None]
        assert "从业人员数" in together[3][1]["holder_rate_of_employed"]
