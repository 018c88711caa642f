"""Drill-downs and the funnel as JSON: the same tables as the pages, scoped alike."""
from registry.core.roles import Role
from registry.certificates.operations import issue_batch
from registry.core.db import db


def test_a_drilldown_is_the_pages_table(api, client, login, make_user, token_for, approved_batch):
    issue_batch(None, approved_batch(passed=2, failed=1))
    db.session.commit()
    admin = make_user(Role.ADMIN)
    body = api.get("/api/v1/stats/drilldowns/level", token=token_for(admin)).get_json()
    assert body["columns"][0]["key"] and body["total"] is not None
    login(admin)
    page = client.get("/stats/drilldowns/level").get_data(as_text=True)
    assert body["title"] in page
    assert body["total"]["holders"] == 2 and body["rows"][3] == {"level": "四级/中级工", "holders": 2,
                                                                 "certificates": 2}


def test_scope_and_bad_input(api, make_user, token_for):
    county = token_for(make_user(Role.COUNTY, county_code="410221"))
    assert api.get("/api/v1/stats/funnel", token=county).status_code == 200
    other = api.get("/api/v1/stats/funnel?county=410225", token=county)
    assert other.status_code == 403 and other.get_json()["error"] == "forbidden"
    bad = api.get("/api/v1/stats/drilldowns/level?from=2025-02-30", token=county)
    assert bad.status_code == 400 and "格式应为 YYYY-MM-DD" in bad.get_json()["message"]
    assert api.get("/api/v1/stats/drilldowns/shoe_size", token=county).status_code == 404
    institution = token_for(make_user(Role.ADMIN))
    assert api.get("/api/v1/stats/drilldowns/month", token=institution).status_code == 200
