"""The county desk: the cockpit opens on the scope it shows (a county official's own county, or the county an
admin picks), with headline cards against the county's targets, the city beside, and every page, chart and
export saying which scope it is."""
import io
import re
from datetime import date
from urllib.parse import unquote

import pytest
import sqlalchemy as sa

from registry.core.audit import AuditEvent
from registry.core.db import db
from registry.core.roles import Role
from registry.reference.operations import set_target

SPRING = "2025-04-30"


@pytest.fixture
def history(make_batch, make_person):
    """杞县: 3 holders from 2025-01-20, 2 more on 2025-04-10, holders target 10; 兰考县: 1 on 2025-03-01."""
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


def text_of(html: str) -> str:
    """The visible text without tags and white space, so assertions read like the page."""
    return re.sub(r"\s+", "", re.sub(r"<[^>]+>", "", html))


def card(page: str, key: str) -> str:
    match = re.search(rf'<article[^>]*id="card-{key}"[^>]*>(.*?)</article>', page, re.S)
    assert match, f"no card {key}"
    return text_of(match.group(1))


def test_a_county_official_lands_on_their_own_county(client, login, make_user, history):
    login(make_user(Role.COUNTY, county_code="410221"))
    page = client.get(f"/stats?as_of={SPRING}").get_data(as_text=True)
    heading = re.search(r'<h2 id="scope-heading">(.*?)</h2>', page, re.S)
    assert heading and text_of(heading.group(1)) == "杞县（截至2025-04-30）"
    holders = card(page, "holders")
    # 5 of 10; 2 added in 90 days = 0.2 a week; 5 more at that pace take 225 days → 2025-12-11;
    # 5 in the 35 weeks to 2025-12-31 → 1 a week. The city (6 holders, 135万) beside it.
    for expected in ("持证人员5", "目标10", "完成50.0%", "尚差5", "近90天每周0.2", "按期需每周1",
                     "预计达标2025-12-11", "全市6/1,350,000（135万）"):
        assert expected in holders, (expected, holders)
    for key in ("skilled", "high_skilled", "training", "subsidised"):
        assert "未设目标" in card(page, key)  # no county target for these: said, not a false 0%
    assert "进度预测（全市）" not in page


def test_an_admin_choosing_a_county_sees_the_same_cards(client, login, make_user, history):
    login(make_user(Role.COUNTY, county_code="410221"))
    official = client.get(f"/stats?as_of={SPRING}").get_data(as_text=True)
    client.post("/logout")
    login(make_user(Role.ADMIN))
    admin = client.get(f"/stats?as_of={SPRING}&county=410221").get_data(as_text=True)
    for key in ("holders", "skilled", "high_skilled", "training", "subsidised"):
        assert card(admin, key) == card(official, key), key
    city = client.get(f"/stats?as_of={SPRING}").get_data(as_text=True)
    assert "开封市（截至2025-04-30）" in text_of(city) and "持证人员6" in card(city, "holders")
    assert "目标1,350,000（135万）" in card(city, "holders")


def test_every_view_states_the_scope_it_shows(client, login, make_user, history):
    login(make_user(Role.COUNTY, county_code="410221"))
    drilldown = text_of(client.get("/stats/drilldowns/level").get_data(as_text=True))
    assert "范围：杞县" in drilldown and "范围：全市" not in drilldown
    export = client.get(f"/stats/counties.csv?as_of={SPRING}")
    assert "杞县" in unquote(export.headers["Content-Disposition"])
    page = client.get(f"/stats?as_of={SPRING}").get_data(as_text=True)
    assert "杞县每月累计持证人员" in page and "开封市每月累计" not in page


def pdf_text(data: bytes) -> str:
    """The report's text as pypdf extracts it, white space dropped (table cells and wrapped lines split it)."""
    from pypdf import PdfReader

    return re.sub(r"\s+", "", "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages))


def test_the_city_monthly_report_states_scope_data_date_and_definitions(client, login, make_user, history):
    login(make_user(Role.ADMIN))
    response = client.get(f"/stats/report.pdf?as_of={SPRING}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "开封市持证统计月报_20250430.pdf" in unquote(response.headers["Content-Disposition"])
    text = pdf_text(response.get_data())
    for expected in ("开封市人人持证月度报告", "统计截至2025-04-30", "范围：全市", "规划指标与进度预测（开封市）",
                     "持证人员：截至统计日至少持有一本有效证书", "农村劳动力技能培训：2021年以来参加培训",
                     "从业人员持证率：持证人员÷从业人员数", "职业技能等级认定备案机构：统计日前已备案",
                     "技能人才返汴就业创业无数据"):
        assert expected in text, expected
    assert "持证人员6" in text  # the city's holders: 5 in 杞县 and 1 in 兰考县
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.entity_type == "stats_report")).one()
    assert event.action == "export" and event.entity_id == "410200"

    county = pdf_text(client.get(f"/stats/counties/410221/report.pdf?as_of={SPRING}").get_data())
    assert "范围：杞县（410221）" in county and "统计截至2025-04-30" in county and "范围：全市" not in county


def test_the_city_report_is_the_admins(client, login, make_user, history):
    login(make_user(Role.COUNTY, county_code="410221"))
    assert client.get(f"/stats/report.pdf?as_of={SPRING}").status_code == 403
