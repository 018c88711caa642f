"""The cockpit page and GET /api/v1/stats/coverage: shape, scope and bad input."""
from datetime import date, timedelta

import pytest

from registry.accounts.models import Role
from registry.reference.operations import set_target
from registry.core.db import db

FIGURES = {"holders", "skilled", "high_skilled", "certificates_valid", "certificates_revoked", "enrolments",
           "completions", "subsidised_enrolments", "new_holders_since_2021", "by_level", "targets"}


@pytest.fixture
def certified(approved_batch):
    from registry.certificates.operations import issue_batch

    batch = approved_batch(passed=3, failed=1)
    issue_batch(None, batch)
    db.session.commit()


def test_admin_gets_the_city_and_every_county(client, login, make_user, certified):
    login(make_user(Role.ADMIN))
    body = client.get("/api/v1/stats/coverage").get_json()
    assert body["as_of"] == date.today().isoformat()
    assert FIGURES <= set(body["city"]) and body["city"]["holders"] == 3
    assert body["city"]["by_level"] == {"1": 0, "2": 0, "3": 0, "4": 3, "5": 0}
    assert body["city"]["targets"]["holders"] == 1_350_000  # the plan's 135万
    assert body["city"]["baseline_2020"]["holders"] == "88.48万人"
    counties = {county["code"]: county for county in body["counties"]}
    assert len(counties) >= 9 and counties["410221"]["holders"] == 3 and counties["410225"]["holders"] == 0
    assert {"code", "name"} | FIGURES <= set(counties["410221"])


def test_a_past_date_counts_what_existed_then(client, login, make_user, certified):
    login(make_user(Role.ADMIN))
    body = client.get(f"/api/v1/stats/coverage?as_of={date.today() - timedelta(days=1)}").get_json()
    assert body["city"]["holders"] == 0


def test_county_targets_set_by_the_administrator_appear(client, login, make_user, certified):
    admin = make_user(Role.ADMIN)
    set_target(admin, "skilled_holders_total", "410221", 2025, "12.5")
    db.session.commit()
    login(admin)
    counties = {c["code"]: c for c in client.get("/api/v1/stats/coverage").get_json()["counties"]}
    assert counties["410221"]["targets"]["holders"] == 125_000


def test_a_county_official_sees_only_their_county(client, login, make_user, certified):
    login(make_user(Role.COUNTY, county_code="410221"))
    body = client.get("/api/v1/stats/coverage").get_json()
    assert [county["code"] for county in body["counties"]] == ["410221"]
    assert client.get("/api/v1/stats/coverage?county=410221").status_code == 200
    refused = client.get("/api/v1/stats/coverage?county=410225")
    assert refused.status_code == 403 and refused.get_json()["error"] == "forbidden"
    assert client.get("/stats?county=410225").status_code == 403
    page = client.get("/stats").get_data(as_text=True)
    assert "杞县" in page and "兰考县" not in page


@pytest.mark.parametrize("query, message", [
    ("as_of=2025-13-01", "格式应为 YYYY-MM-DD"),
    ("as_of=yesterday", "格式应为 YYYY-MM-DD"),
    (f"as_of={date.today() + timedelta(days=1)}", "晚于今天"),
    ("county=999999", "未知的县区代码"),
])
def test_bad_input_is_a_400_with_a_chinese_message(client, login, make_user, query, message):
    login(make_user(Role.ADMIN))
    response = client.get(f"/api/v1/stats/coverage?{query}")
    assert response.status_code == 400 and message in response.get_json()["message"]
    page = client.get(f"/stats?{query}")
    assert page.status_code == 400 and message in page.get_data(as_text=True)


def test_other_roles_and_anonymous_visitors_are_refused(client, login, make_user, make_institution):
    assert client.get("/api/v1/stats/coverage").status_code == 401
    login(make_user(Role.INSTITUTION, organization_id=make_institution().id))
    assert client.get("/api/v1/stats/coverage").status_code == 403
    assert client.get("/stats").status_code == 403


def test_the_page_shows_progress_against_the_target(client, login, make_user, certified):
    login(make_user(Role.ADMIN))
    page = client.get("/stats").get_data(as_text=True)
    assert "3 / 1,350,000" in page and "88.48万人" in page and "统计口径" in page
