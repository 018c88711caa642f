"""/figures: the city's and each county's progress for anyone, equal to the cockpit's, without personal data."""
import re
from datetime import date

import pytest

from registry.core.db import db
from registry.core.roles import Role
from registry.reference.operations import set_target
from registry.stats.public import public_figures


@pytest.fixture
def issued(approved_batch, make_batch, make_person):
    """杞县: 3 holders at level 4 (target 10); 兰考县: 2 holders at level 3 (highly skilled)."""
    from registry.assessment.operations import approve_batch, record_result
    from registry.certificates.operations import issue_batch

    issue_batch(None, approved_batch(passed=3, failed=1))
    batch = make_batch(level=3, county_code="410225")
    for _ in range(2):
        record_result(None, batch, make_person(county_code="410225", name="兰考人"), theory=90, practical=90)
    approve_batch(None, batch)
    issue_batch(None, batch)
    set_target(None, "skilled_holders_total", "410221", 2025, "0.001")
    db.session.commit()


def cells(page: str, county: str) -> list[str]:
    row = re.search(rf"<tr><td>{county}</td>(.*?)</tr>", page, re.S).group(1)
    return [cell.strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]


def test_anyone_sees_each_county_against_its_target(client, issued):
    response = client.get("/figures")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert cells(page, "杞县") == ["3", "10", "30.0%", "3", "未设目标", "", "0", "未设目标", ""]
    assert cells(page, "兰考县") == ["2", "未设目标", "", "2", "未设目标", "", "2", "未设目标", ""]
    assert "全市持证人员" in page and "1,350,000（135万）" in page  # the plan's city target


def test_the_public_figures_equal_the_cockpits(client, login, make_user, issued):
    login(make_user(Role.ADMIN))
    cockpit = client.get("/api/v1/stats/coverage").get_json()
    city, counties = public_figures(date.today())
    for place, figures in ((city, cockpit["city"]), *zip(counties, cockpit["counties"], strict=True)):
        assert place.code == figures["code"]
        for key in ("holders", "skilled", "high_skilled"):
            assert (place.figures[key].value, place.figures[key].target) == (figures[key], figures["targets"][key])


def test_no_personal_data_is_shown(client, issued):
    page = client.get("/figures").get_data(as_text=True)
    assert "兰考人" not in page and not re.search(r"\d{17}[\dX]", page)


def test_an_anonymous_copy_may_be_shared_for_five_minutes_and_revalidated(client, issued):
    first = client.get("/figures")
    assert first.cache_control.public and first.cache_control.max_age == 300
    assert "Cookie" in first.vary and "Set-Cookie" not in first.headers
    again = client.get("/figures", headers={"If-None-Match": first.get_etag()[0]})
    assert again.status_code == 304 and again.get_data() == b""


def test_a_signed_in_copy_is_never_shared(client, login, make_user, issued):
    login(make_user(Role.COUNTY, county_code="410221"))
    response = client.get("/figures")
    assert response.status_code == 200
    assert response.cache_control.private and response.cache_control.no_store and not response.cache_control.public
