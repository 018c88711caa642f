"""从业人员数（按年）: the administrator enters a county's employed persons for a year with its source; the
figure is the denominator of the plan's rates on the cockpit. Audited; bad input is a Chinese message."""
from datetime import date

import pytest
import sqlalchemy as sa
from markupsafe import escape

from registry.core.audit import AuditEvent
from registry.core.db import db
from registry.core.roles import Role
from registry.reference.models import CountyEmployment
from registry.stats import indicators
from tests.helpers import count

GOOD = {"county_code": "410221", "year": "2024", "employed_persons": "412000", "source": "杞县统计年鉴2024 表4-2"}


def events() -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.entity_type == "county_employment")
                                   .order_by(AuditEvent.id)))


@pytest.fixture
def admin_client(make_user, login):
    return login(make_user(Role.ADMIN))


def test_the_admin_enters_and_corrects_a_figure_with_its_source(admin_client):
    page = admin_client.get("/admin/employment").get_data(as_text=True)
    assert "尚未录入任何县区的从业人员数" in page and 'value="410200"' in page  # the city may have its own
    response = admin_client.post("/admin/employment", data=GOOD)
    assert response.status_code == 302 and response.location.endswith("/admin/employment")
    row = db.session.scalars(sa.select(CountyEmployment)).one()
    assert (row.county_code, row.year, row.employed_persons, row.source) == ("410221", 2024, 412000, GOOD["source"])
    listed = admin_client.get("/admin/employment").get_data(as_text=True)
    assert "杞县（410221）" in listed and "412,000" in listed and GOOD["source"] in listed

    admin_client.post("/admin/employment", data=GOOD | {"employed_persons": "415000", "source": "更正：统计公报"})
    assert count(CountyEmployment) == 1
    assert [(event.action, event.after.get("employed_persons")) for event in events()] == [
        ("create", 412000), ("update", 415000)]
    reading = indicators.readings(indicators.Scope("410221", "杞县"), date(2024, 12, 31))
    assert reading["holder_rate_of_employed"].value == 0 and not reading["holder_rate_of_employed"].missing


@pytest.mark.parametrize(("overrides", "message"), [
    ({"employed_persons": "-5"}, "从业人员数：杞县 2024 年应为 1 至 100000000 的整数"),
    ({"employed_persons": "四十万"}, "应为整数"),
    ({"employed_persons": "1.5"}, "应为整数"),
    ({"employed_persons": ""}, "不能为空"),
    ({"county_code": "999999"}, "县区：未知或已撤销的县区代码 999999"),
    ({"county_code": "410224"}, "县区：未知或已撤销的县区代码 410224"),  # 开封县, merged into 祥符区
    ({"year": "2019"}, "年份：应在 2020 至 {this_year} 年之间"),
    ({"year": "{next_year}"}, "年份：应在 2020 至 {this_year} 年之间"),
    ({"year": "二〇二四"}, "应为整数"),
    ({"source": " "}, "不能为空"),
    ({"source": "源" * 201}, "最多 200 个字符"),
])
def test_bad_input_is_named_in_chinese_and_nothing_is_saved(admin_client, overrides, message):
    this_year = date.today().year  # at run time: a run can cross new year's eve
    overrides = {key: value.format(next_year=this_year + 1) for key, value in overrides.items()}
    response = admin_client.post("/admin/employment", data=GOOD | overrides)
    assert response.status_code == 400
    assert str(escape(message.format(this_year=this_year))) in response.get_data(as_text=True)
    assert count(CountyEmployment) == 0 and events() == []


@pytest.mark.parametrize("role", [Role.COUNTY, Role.AGENCY, Role.INSTITUTION])
def test_only_the_admin_enters_figures(client, login, make_user, make_agency, make_institution, role):
    organization = {Role.AGENCY: lambda: make_agency().id, Role.INSTITUTION: lambda: make_institution().id}
    login(make_user(role, county_code="410221" if role is Role.COUNTY else None,
                    organization_id=organization[role]() if role in organization else None))
    assert client.post("/admin/employment", data=GOOD).status_code == 403
    assert count(CountyEmployment) == 0
