"""The cockpit page, its exports and monthly report, and GET /api/v1/stats/coverage: shape, scope, input."""
import csv
import io
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from pypdf import PdfReader

from registry.core.roles import Role
from registry.core.audit import AuditEvent
from registry.core.db import db
from registry.reference.operations import set_target
from registry.reference.queries import current_counties
from registry.stats import county_table

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
    ("as_of={tomorrow}", "晚于今天"),
    ("county=999999", "未知的县区代码"),
])
def test_bad_input_is_a_400_with_a_chinese_message(client, login, make_user, query, message):
    query = query.format(tomorrow=date.today() + timedelta(days=1))  # at run time: a run can cross midnight
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
    holders = re.sub(r"<[^>]+>|\s", "", page.split('id="indicator-skilled_holders_total"')[1].split("</tr>")[0])
    assert "3" in holders and "1,350,000（135万）" in holders and "88.48万人" in holders and "统计口径" in page


# --- trend, projection, exports and the monthly report, on fixed dates ------------------------------------

SPRING = "2025-04-30"   # before the deadline (2025-12-31)
WINTER = "2026-01-15"   # after it


@pytest.fixture
def history(make_batch, make_person):
    """杞县: 3 holders from 2025-01-20, 2 more on 2025-04-10, target 10; 兰考县: 1 on 2025-03-01, no target."""
    from registry.assessment.operations import approve_batch, record_result
    from registry.certificates.operations import issue_batch

    def certify(count: int, county_code: str, assessed_on: date, issued_on: date) -> None:
        batch = make_batch(assessed_on=assessed_on)
        for _ in range(count):
            record_result(None, batch, make_person(county_code=county_code), theory=85, practical=85)
        approve_batch(None, batch)
        issue_batch(None, batch, issued_on=issued_on)

    certify(3, "410221", date(2025, 1, 10), date(2025, 1, 20))
    certify(2, "410221", date(2025, 4, 1), date(2025, 4, 10))
    certify(1, "410225", date(2025, 2, 20), date(2025, 3, 1))
    set_target(None, "skilled_holders_total", "410221", 2025, "0.001")  # 10 persons
    db.session.commit()


def row_order(page: str) -> list[str]:
    return re.findall(r'<tr id="county-(\d{6})"', page)


def test_the_page_projects_each_county_and_the_city(client, login, make_user, history):
    login(make_user(Role.ADMIN))
    page = client.get(f"/stats?as_of={SPRING}").get_data(as_text=True)
    qixian = page.split('id="county-410221"')[1].split("</tr>")[0]
    # 5 of 10; 2 added in the 90 days → 5 more take 225 days; 245 days to the deadline → 1 a week.
    for expected in (">5<", ">10<", "50.0%", ">2<", "2025-12-11", ">1<"):
        assert expected in qixian.replace(" ", "").replace("\n", ""), expected
    lankao = page.split('id="county-410225"')[1].split("</tr>")[0]
    assert lankao.count("未设目标") >= 3  # no holders target: no rate, no forecast, no weekly need
    city = page.split('id="card-holders"')[1].split("</article>")[0]
    # 6 of 1,350,000 at 3 per 90 days takes more than a century; 1,349,994 × 7 / 245 = 38,571.3 → 38,572.
    assert "按当前进度无法达到" in city and "38,572" in city and ">0.2<" in city
    assert 'id="county-city"' in page and "开封市（全市）" in page
    assert f'/stats/counties/410221/report.pdf?as_of={SPRING}' in page


def test_after_the_deadline_the_page_says_so(client, login, make_user, history):
    login(make_user(Role.ADMIN))
    page = client.get(f"/stats?as_of={WINTER}").get_data(as_text=True)
    qixian = page.split('id="county-410221"')[1].split("</tr>")[0]
    assert "期限已过" in qixian and "按当前进度无法达到" in qixian  # nothing added since October
    assert "统计日已过期限" in page


def test_the_trend_is_the_city_or_the_county_shown(client, login, make_user, history):
    login(make_user(Role.ADMIN))
    page = client.get(f"/stats?as_of={SPRING}").get_data(as_text=True)
    assert "开封市每月累计持证人员" in page and "2025年目标 1,350,000" in page
    months = re.findall(r'<tr><th scope="row">(\d{4}-\d{2})</th><td>([\d,]+)</td>', page)
    assert months[0] == ("2021-01", "0")
    assert months[-3:] == [("2025-02", "3"), ("2025-03", "4"), ("2025-04", "6")]
    page = client.get(f"/stats?as_of={SPRING}&county=410221").get_data(as_text=True)
    assert "杞县每月累计持证人员" in page and "2025年目标 10" in page and row_order(page) == ["410221"]
    months = re.findall(r'<tr><th scope="row">(\d{4}-\d{2})</th><td>([\d,]+)</td>', page)
    assert months[-3:] == [("2025-02", "3"), ("2025-03", "3"), ("2025-04", "5")]


def test_a_county_official_sees_the_trend_of_their_county(client, login, make_user, history):
    login(make_user(Role.COUNTY, county_code="410225"))
    page = client.get(f"/stats?as_of={SPRING}").get_data(as_text=True)
    assert "兰考县每月累计持证人员" in page and row_order(page) == ["410225"]
    assert '<select name="county">' not in page  # nothing to choose


@pytest.mark.parametrize("query, first", [
    ("sort=holders&dir=desc", ["410221", "410225"]),
    ("sort=reached_on", ["410221"]),                   # the only forecast; the rest have none and go last
    ("sort=holders_target&dir=desc", ["410221"]),
])
def test_the_table_sorts_by_any_column(client, login, make_user, history, query, first):
    login(make_user(Role.ADMIN))
    order = row_order(client.get(f"/stats?as_of={SPRING}&{query}").get_data(as_text=True))
    assert order[:len(first)] == first and len(order) >= 9
    rest = order[len(first):]
    if query.startswith("sort=reached_on"):
        assert rest == sorted(rest)  # no value: by code


def test_the_exports_are_the_table_as_shown(client, login, make_user, history):
    login(make_user(Role.ADMIN))
    query = f"as_of={SPRING}&sort=holders&dir=desc"
    order = row_order(client.get(f"/stats?{query}").get_data(as_text=True))
    response = client.get(f"/stats/counties.csv?{query}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "20250430.csv" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert rows[0] == county_table.headers()
    names = {county.code: county.name for county in current_counties()}
    assert [row[0] for row in rows[1:]] == [names[code] for code in order] + ["开封市"]
    qixian = dict(zip(rows[0], rows[1]))
    assert (qixian["持证人员"], qixian["持证目标"], qixian["持证完成率（%）"], qixian["近90天新增持证"],
            qixian["按此进度达标日期"], qixian["按期达标每周需新增"]) == ("5", "10", "50.0", "2", "2025-12-11", "1")
    assert dict(zip(rows[0], rows[2]))["持证目标"] == ""
    assert dict(zip(rows[0], rows[-1]))["按此进度达标日期"] == "按当前进度无法达到"

    workbook = load_workbook(io.BytesIO(client.get(f"/stats/counties.xlsx?{query}").get_data()))
    sheet = [list(row) for row in workbook.active.iter_rows(values_only=True)]
    assert sheet[0] == rows[0] and [row[0] for row in sheet[1:]] == [row[0] for row in rows[1:]]
    assert dict(zip(sheet[0], sheet[1]))["持证人员"] == 5 and dict(zip(sheet[0], sheet[1]))["持证完成率（%）"] == 50.0

    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.entity_type == "stats_table")
                                .order_by(AuditEvent.id)).all()
    assert [(event.action, event.after["format"], event.after["rows"]) for event in events] == [
        ("export", "csv", len(rows) - 1), ("export", "xlsx", len(rows) - 1)]
    assert events[0].after["as_of"] == SPRING and events[0].after["sort"] == "holders"


def test_a_county_official_exports_their_county_and_the_city_only(client, login, make_user, history):
    login(make_user(Role.COUNTY, county_code="410221"))
    rows = list(csv.reader(io.StringIO(client.get(f"/stats/counties.csv?as_of={SPRING}").get_data()
                                       .decode("utf-8-sig"))))
    assert [row[0] for row in rows[1:]] == ["杞县", "开封市"]
    assert client.get("/stats/counties.xlsx?county=410225").status_code == 403
    assert client.get("/stats/counties/410225/report.pdf").status_code == 403


def test_the_monthly_report_of_a_county(client, login, make_user, history):
    login(make_user(Role.ADMIN))
    response = client.get(f"/stats/counties/410221/report.pdf?as_of={SPRING}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "20250430.pdf" in response.headers["Content-Disposition"]
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.get_data())).pages)
    for expected in ("杞县人人持证月度报告", "2025年4月 · 统计截至 2025-04-30", "4月新增持证", "2025-12-11",
                     "开封市", "按期达标每周需新增", "持证目标 10", "2025-04", "统计口径"):
        assert expected in text, expected
    assert re.search(r"4月新增持证\s*2\b", text)
    assert client.get(f"/stats/counties/410221/report.pdf?as_of={SPRING}").get_data() == response.get_data()
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.entity_type == "stats_report")).first()
    assert event.action == "export" and event.entity_id == "410221" and event.after == {"as_of": SPRING}


@pytest.mark.parametrize("path, message", [
    ("/stats/counties/999999/report.pdf", "未知的县区代码"),
    ("/stats/counties/410221/report.pdf?as_of=2025-02-30", "格式应为 YYYY-MM-DD"),
    ("/stats/counties/410221/report.pdf?as_of={tomorrow}", "晚于今天"),
    ("/stats/counties.csv?county=999999", "未知的县区代码"),
    ("/stats/counties.xlsx?as_of=2025/04/30", "格式应为 YYYY-MM-DD"),
])
def test_bad_input_to_the_exports_and_the_report_is_a_400(client, login, make_user, path, message):
    path = path.format(tomorrow=date.today() + timedelta(days=1))  # at run time: a run can cross midnight
    login(make_user(Role.ADMIN))
    response = client.get(path)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "export")) == 0
