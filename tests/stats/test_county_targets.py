"""County targets on one form: pasted from Excel or split from the city's by a stated key (previewed first);
bad input names the line and saves nothing; a target below what is reached is saved with a notice."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from registry.core.db import db
from registry.core.roles import Role
from registry.reference.models import Target


def county_targets(key: str = "skilled_holders_total") -> dict[str, Decimal]:
    rows = db.session.execute(sa.select(Target.county_code, Target.value)
                              .where(Target.indicator_key == key, Target.year == 2025, Target.county_code != "410200"))
    return {code: value for code, value in rows}


@pytest.fixture
def admin(login, make_user):
    login(make_user(Role.ADMIN))


def test_a_paste_from_excel_sets_every_county_at_once(client, admin):
    paste = "县区\t目标\n410221\t12.5\n兰考县\t9.8\n"
    response = client.post("/stats/targets", data={"indicator_key": "skilled_holders_total", "paste": paste,
                                                   "action": "save_paste"})
    assert response.status_code == 302
    assert county_targets() == {"410221": Decimal("12.5"), "410225": Decimal("9.8")}
    page = client.get("/stats?county=410221").get_data(as_text=True)
    assert "125,000（12.5万）" in page


@pytest.mark.parametrize("paste, as_of, message", [
    ("410221\t-3", "", "第 1 行（杞县）：目标值“-3”不能为负数"),
    ("410221\t十二", "", "第 1 行（杞县）：目标值“十二”不是数字"),
    ("410221\t12\n999999\t3", "", "第 2 行：未知的县区“999999”"),
    ("410221\t12", "2020-12-31", "对照日期：2020-12-31 早于规划期起点 2021-01-01"),
    ("410221\t12", "{tomorrow}", "晚于今天"),
])
def test_bad_input_says_why_in_chinese_and_saves_nothing(client, admin, paste, as_of, message):
    as_of = as_of.format(tomorrow=date.today() + timedelta(days=1))  # at run time: a run can cross midnight
    response = client.post("/stats/targets", data={"indicator_key": "skilled_holders_total", "paste": paste,
                                                   "as_of": as_of, "action": "save_paste"})
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert county_targets() == {}


def test_a_target_below_what_is_reached_is_saved_with_a_notice(client, admin, approved_batch):
    from registry.certificates.operations import issue_batch

    issue_batch(None, approved_batch(passed=3, failed=0))  # 3 holders in 杞县
    db.session.commit()
    response = client.post("/stats/targets", data={"indicator_key": "skilled_holders_total",
                                                   "paste": "杞县 0.0002", "action": "save_paste"},
                           follow_redirects=True)
    assert "杞县：目标低于" in response.get_data(as_text=True)
    assert county_targets() == {"410221": Decimal("0.0002")}


def test_the_city_target_split_by_2020_holders_is_previewed_then_saved(client, admin, make_batch, make_person,
                                                                       make_agency):
    from registry.assessment.operations import approve_batch, record_result
    from registry.certificates.operations import issue_batch

    agency = make_agency(scopes=[("6-18-02-04", None, 5, 3, "2015-01-01", None)], filed_on="2015-01-01")
    for county_code, count in (("410221", 3), ("410225", 1)):
        batch = make_batch(agency=agency, assessed_on=date(2020, 6, 1))
        for _ in range(count):
            record_result(None, batch, make_person(county_code=county_code), theory=85, practical=85)
        approve_batch(None, batch)
        issue_batch(None, batch, issued_on=date(2020, 6, 5))
    db.session.commit()
    data = {"indicator_key": "skilled_holders_total", "key": "holders_2020", "action": "preview_split"}
    preview = client.post("/stats/targets", data=data).get_data(as_text=True)
    assert "尚未保存" in preview and "101.25" in preview and "33.75" in preview  # 135万 split 3 : 1
    assert county_targets() == {}
    assert client.post("/stats/targets", data=data | {"action": "save_split"}).status_code == 302
    targets = county_targets()
    assert targets["410221"] == Decimal("101.25") and targets["410225"] == Decimal("33.75")
    assert sum(targets.values()) == 135


def test_a_rate_cannot_be_split(client, admin):
    response = client.post("/stats/targets", data={"indicator_key": "holder_rate_of_employed",
                                                   "key": "employed", "action": "preview_split"})
    assert response.status_code == 400 and "不能按权重分解" in response.get_data(as_text=True)
