"""The 申报条件 page: the administrator views and sets each level's rule, audited (before and after), with Chinese
errors naming the level and field; nobody else may."""
import pytest
import sqlalchemy as sa

from registry.assessment import eligibility
from registry.assessment.models import EligibilityRule
from registry.core.audit import AuditEvent
from registry.core.db import db
from registry.core.errors import Forbidden
from registry.core.roles import Role
from tests.helpers import count


@pytest.fixture
def admin_client(client, login, make_user):
    login(make_user())
    return client


def test_the_admin_sets_changes_and_clears_a_rule(admin_client):
    page = admin_client.get("/admin/eligibility").get_data(as_text=True)
    assert page.count("未设置（不检查）") == 5
    response = admin_client.post("/admin/eligibility", data={
        "level": "4", "action": "save", "previous_level_years": "4", "work_years": "6",
        "education": "技工学校，中等职业学校"})
    assert response.status_code == 302
    page = admin_client.get("/admin/eligibility").get_data(as_text=True)
    assert "持本职业五级/初级工证书满4年；从事本职业满6年；学历为技工学校、中等职业学校" in page
    admin_client.post("/admin/eligibility", data={"level": "4", "action": "save", "work_years": "8"})
    rule = db.session.get(EligibilityRule, 4)
    assert (rule.previous_level_years, rule.work_years, rule.education) == (None, 8, "")
    changed = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "set_eligibility_rule")
                                 .order_by(AuditEvent.id)).all()
    assert changed[1].before == {"previous_level_years": 4, "work_years": 6, "education": "技工学校、中等职业学校"}
    assert changed[1].after == {"previous_level_years": None, "work_years": 8, "education": ""}
    admin_client.post("/admin/eligibility", data={"level": "4", "action": "clear"})
    assert db.session.get(EligibilityRule, 4) is None
    assert count(AuditEvent, AuditEvent.action == "clear_eligibility_rule") == 1
    audit = admin_client.get("/admin/audit").get_data(as_text=True)
    assert "设置申报条件" in audit and "取消申报条件" in audit and "从事本职业年限" in audit


@pytest.mark.parametrize(("data", "message"), [
    ({"level": "3", "work_years": "六"}, "三级/高级工：从事本职业年限：应为0–60的整数，实为“六”"),
    ({"level": "3", "previous_level_years": "61"}, "三级/高级工：持低一级证书年限：应为0–60的整数，实为 61"),
    ({"level": "2"}, "二级/技师：等级：二级/技师的申报条件至少要有一条途径"),
    ({"level": "5", "previous_level_years": "2"}, "五级/初级工没有更低的等级，应留空"),
    ({"level": "0", "work_years": "2"}, "等级：应为1–5，实为“0”"),
])
def test_bad_input_is_a_chinese_message_and_nothing_changes(admin_client, data, message):
    eligibility.set_rule(None, 3, previous_level_years=5, work_years=None, educations=[])
    db.session.commit()
    response = admin_client.post("/admin/eligibility", data={"action": "save", **data})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    rule = db.session.get(EligibilityRule, 3)
    assert (rule.previous_level_years, rule.work_years) == (5, None), "the stored rule is untouched"
    assert count(AuditEvent, AuditEvent.action == "set_eligibility_rule") == 1


def test_only_the_admin_sets_rules(client, login, make_user, agency):
    login(make_user(Role.AGENCY, organization_id=agency.id))
    assert client.get("/admin/eligibility").status_code == 403
    assert client.post("/admin/eligibility", data={"level": "4", "work_years": "2"}).status_code == 403
    with pytest.raises(Forbidden):
        eligibility.set_rule(make_user(Role.COUNTY, county_code="410221"), 4, None, 2, [])
    assert count(EligibilityRule) == 0


def test_the_settings_page_links_to_the_rules(admin_client):
    page = admin_client.get("/admin/settings").get_data(as_text=True)
    assert 'href="/admin/eligibility"' in page and 'href="/stats/counted-kinds"' in page
