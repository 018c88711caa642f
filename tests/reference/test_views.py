"""The administrator's occupation, target and county pages."""
import re
from decimal import Decimal

import pytest
import sqlalchemy as sa
from markupsafe import escape

from registry.core.roles import Role
from registry.core.audit import AuditEvent
from registry.core.db import db
from registry.organizations.models import Agency, TrainingInstitution
from registry.reference import operations
from registry.reference.models import CITY_CODE, County, Occupation, Target
from registry.reference.queries import current_counties
from tests.helpers import count

COOK = "4-03-02-01"
CSRF_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def audit_rows(entity_type: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.entity_type == entity_type)))


def cook() -> Occupation:
    return db.session.scalar(sa.select(Occupation).where(Occupation.code == COOK, Occupation.edition == 2022))


def target(indicator_key: str, county_code: str, year: int = 2025) -> Target | None:
    return db.session.scalar(sa.select(Target).filter_by(indicator_key=indicator_key, county_code=county_code,
                                                         year=year))


def occupation_form(**overrides) -> dict:
    return {"code": "6-99-99-01", "name": "演示职业", "edition": "2022", "levels": ["5", "4", "3"],
            "work_types": "甲方向\n乙方向\n甲方向", "is_active": "y", "confidence": "", "source": "测试"} | overrides


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def admin(make_user):
    return make_user()


@pytest.fixture
def admin_client(admin, login):
    return login(admin)


@pytest.fixture
def denominators(admin):
    for number, county in enumerate(current_counties(), start=1):
        operations.set_county_denominator(admin, county, 100_000 * number)
    db.session.commit()


# ---- access --------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", [None, Role.COUNTY, Role.AGENCY, Role.INSTITUTION, Role.ADMIN])
def test_only_administrators_reach_reference_pages(client, make_user, login, role):
    from registry.demo import seed_demo_organisations

    seed_demo_organisations()
    db.session.commit()
    if role is not None:
        organization = {Role.AGENCY: db.session.scalar(sa.select(Agency.id)),
                        Role.INSTITUTION: db.session.scalar(sa.select(TrainingInstitution.id))}.get(role)
        login(make_user(role, organization_id=organization))
    paths = [("get", "/admin/occupations"), ("get", "/admin/occupations/new"),
             ("get", f"/admin/occupations/{cook().id}/edit"), ("get", "/admin/targets"),
             ("get", "/admin/targets/edit"), ("post", "/admin/targets/split"), ("get", "/admin/counties"),
             ("get", "/admin/counties/410221/edit")]
    for method, path in paths:
        response = getattr(client, method)(path)
        if role is None:
            assert response.status_code == 302 and "/login" in response.location, path
        elif role is Role.ADMIN:
            assert response.status_code in (200, 302), path
        else:
            assert response.status_code == 403, path


def test_navigation_links_to_reference_pages(admin_client):
    html = text(admin_client.get("/dashboard"))
    for path in ("/admin/occupations", "/admin/targets", "/admin/counties"):
        assert f'href="{path}"' in html


# ---- occupations ---------------------------------------------------------------------------------

def test_occupation_list_searches_and_filters(admin_client, admin):
    html = text(admin_client.get("/admin/occupations?q=烹调"))
    assert "中式烹调师" in html and "西式烹调师" in html and "中式面点师" not in html
    assert "未确定（各等级均可）" in html
    assert "4-03-02-01" in text(admin_client.get("/admin/occupations?q=4-03-02"))
    operations.create_occupation(admin, "6-99-99-02", "停用职业", 2015, levels=[5, 4], work_types="甲\n乙",
                                 is_active=False)
    db.session.commit()
    html = text(admin_client.get("/admin/occupations?active=0"))
    assert "停用职业" in html and "中式烹调师" not in html and "五级/初级工、四级/中级工" in html and "甲、乙" in html
    html = text(admin_client.get("/admin/occupations?edition=2015"))
    assert "停用职业" in html and "中式烹调师" not in html


def test_occupation_list_sorts_and_pages(admin_client):
    total = count(Occupation)
    html = text(admin_client.get("/admin/occupations?per_page=5"))
    assert f"共 {total} 条，第 1 / {-(-total // 5)} 页" in html and 'rel="next"' in html
    html = text(admin_client.get("/admin/occupations?sort=code&dir=desc&per_page=200"))
    codes = re.findall(r"<td>(\d-\d\d-\d\d-\d\d)</td>", html)
    assert codes == sorted(codes, reverse=True) and len(codes) == total


def test_create_occupation(admin_client):
    response = admin_client.post("/admin/occupations/new", data=occupation_form())
    assert response.status_code == 302 and response.location.endswith("/admin/occupations")
    occupation = db.session.scalar(sa.select(Occupation).where(Occupation.code == "6-99-99-01"))
    assert (occupation.levels, occupation.work_types) == ([5, 4, 3], ["甲方向", "乙方向"])
    [event] = audit_rows("occupation")
    assert (event.action, event.entity_id) == ("create", str(occupation.id))


@pytest.mark.parametrize(("overrides", "message"), [
    ({"code": "4-3-2-1"}, "职业编码：格式应为 d-dd-dd-dd，例如 4-03-02-01"),
    ({"code": COOK}, "职业编码：2022 版大典中已有职业 4-03-02-01"),
    ({"name": ""}, "职业名称：不能为空"),
    ({"edition": "abc"}, "大典版本：应为整数"),
    ({"edition": "22"}, "大典版本：应为版本年份，例如 2015 或 2022"),
    ({"levels": ["7"]}, "技能等级：7 不是有效的等级"),
    ({"levels": ["x"]}, "技能等级：包含无效的选项"),
    ({"work_types": "乙" * 61}, f"工种/职业方向：“{'乙' * 61}”超过 60 个字符"),
])
def test_create_occupation_refuses_bad_input(admin_client, overrides, message):
    before = count(Occupation)
    response = admin_client.post("/admin/occupations/new", data=occupation_form(**overrides))
    assert response.status_code == 200
    assert escape(message) in text(response)
    assert count(Occupation) == before and audit_rows("occupation") == []


def test_edit_occupation(admin_client):
    occupation = cook()
    occupation.work_types = ["热菜", "冷菜"]
    db.session.commit()
    form_html = text(admin_client.get(f"/admin/occupations/{occupation.id}/edit"))
    assert "热菜\n冷菜" in form_html and 'value="4-03-02-01"' in form_html
    response = admin_client.post(f"/admin/occupations/{occupation.id}/edit", data=occupation_form(
        code=COOK, name="中式烹调师", levels=["5", "4", "3", "2", "1"], work_types="热菜\n冷菜\n面点"))
    assert response.status_code == 302
    assert cook().work_types == ["热菜", "冷菜", "面点"] and cook().levels == [5, 4, 3, 2, 1]
    [event] = audit_rows("occupation")
    assert event.action == "update" and event.after["work_types"] == ["热菜", "冷菜", "面点"]


def test_edit_occupation_refuses_taken_code(admin_client):
    occupation = db.session.scalar(sa.select(Occupation).where(Occupation.code != COOK))
    response = admin_client.post(f"/admin/occupations/{occupation.id}/edit", data=occupation_form(code=COOK))
    assert "职业编码：2022 版大典中已有职业 4-03-02-01" in text(response)
    db.session.expire_all()
    assert occupation.code != COOK and audit_rows("occupation") == []


# ---- targets -------------------------------------------------------------------------------------

def test_target_table_keeps_the_plans_figures_visible(admin_client, admin):
    operations.set_target(admin, "skilled_holders_total", CITY_CODE, 2025, 140)
    operations.set_target(admin, "skilled_holders_total", "410221", 2025, "12.5")
    db.session.commit()
    html = text(admin_client.get("/admin/targets"))
    row = re.search(r"<tr>\s*<td[^>]*>持证人员总量.*?</tr>", html, re.S).group(0)
    assert "万人" in row and "88.48" in row and ">135<" in row and ">140<" in row and ">12.5<" in row
    assert "与全市不一致" in row
    assert "&gt;60" in html and "≥30" in html and "杞县" in html


def test_target_table_for_another_year(admin_client, admin):
    operations.set_target(admin, "high_skilled_workers", "410225", 2030, 3)
    db.session.commit()
    html = text(admin_client.get("/admin/targets?year=2030"))
    assert "规划 2025 目标</th>" not in html and ">3<" in html and '<option value="2030" selected>' in html


def test_edit_target_form_starts_from_the_existing_target(admin_client):
    html = text(admin_client.get("/admin/targets/edit",
                                 query_string={"indicator": "skilled_holders_total", "county": CITY_CODE}))
    assert 'value="135"' in html and '<option selected value="skilled_holders_total">' in html


def test_set_target_through_the_form(admin_client):
    response = admin_client.post("/admin/targets/edit", data={
        "indicator_key": "skilled_holders_total", "county_code": "410221", "year": "2025", "comparator": ">=",
        "value": "12.5"})
    assert response.status_code == 302 and response.location.endswith("/admin/targets?year=2025")
    saved = target("skilled_holders_total", "410221")
    assert (saved.value, saved.comparator) == (Decimal("12.5"), ">=")
    assert [event.action for event in audit_rows("target")] == ["create"]


@pytest.mark.parametrize(("overrides", "message"), [
    ({"value": "-1"}, "目标值：不能为负数"),
    ({"value": "abc"}, "目标值：应为数字"),
    ({"value": ""}, "目标值：不能为空"),
    ({"value": "1.23456"}, "目标值：最多 4 位小数"),
    ({"year": "2040"}, "年份：应在 2021 至 2035 年之间"),
    ({"indicator_key": "nothing"}, "指标：未知指标 nothing"),
    ({"county_code": "410224"}, "县区：未知或已撤销的县区代码 410224"),
    ({"comparator": "<"}, "比较方式：只能是 =、> 或 >="),
])
def test_set_target_refuses_bad_input(admin_client, overrides, message):
    before = count(Target)
    response = admin_client.post("/admin/targets/edit", data={
        "indicator_key": "skilled_holders_total", "county_code": "410221", "year": "2025", "comparator": "=",
        "value": "12.5"} | overrides)
    assert response.status_code == 200 and escape(message) in text(response)
    assert count(Target) == before and audit_rows("target") == []


def test_split_target_by_denominators(admin_client, denominators):
    response = admin_client.post("/admin/targets/split", data={"indicator_key": "skilled_holders_total",
                                                              "year": "2025"}, follow_redirects=True)
    assert "已按各县区从业人员数分解全市目标" in text(response)
    parts = [target("skilled_holders_total", county.code).value for county in current_counties()]
    assert sum(parts) == Decimal("135")
    assert len(audit_rows("target")) == len(parts)
    assert "与全市不一致" not in text(response)


@pytest.mark.parametrize(("data", "message"), [
    ({"indicator_key": "skilled_holders_total", "year": "2025"}, "分解权重：县区 龙亭区（410202）未设置从业人员数"),
    ({"indicator_key": "holder_rate_of_employed", "year": "2025"}, "不能按权重分解"),
    ({"indicator_key": "skilled_holders_total", "year": "2031"}, "年份：持证人员总量尚无 2031 年的全市目标"),
    ({"indicator_key": "skilled_holders_total", "year": "abc"}, "年份：应为整数"),
])
def test_split_target_refuses_bad_input(admin_client, data, message):
    before = count(Target)
    response = admin_client.post("/admin/targets/split", data=data, follow_redirects=True)
    assert escape(message) in text(response)
    assert count(Target) == before and audit_rows("target") == []


def test_target_page_warns_about_missing_denominators(admin_client):
    assert "尚未设置从业人员数，暂不能分解：龙亭区" in text(admin_client.get("/admin/targets"))


@pytest.mark.csrf
def test_split_form_carries_the_csrf_token(client, admin, denominators):
    token = CSRF_TOKEN.search(text(client.get("/login"))).group(1)
    client.post("/login", data={"username": admin.username, "password": "correct-horse-1", "csrf_token": token})
    form = re.search(r'action="/admin/targets/split".*?</form>', text(client.get("/admin/targets")), re.S).group(0)
    token = CSRF_TOKEN.search(form).group(1)
    assert client.post("/admin/targets/split", data={"indicator_key": "high_skilled_workers", "year": "2025",
                                                     "csrf_token": token}).status_code == 302
    assert target("high_skilled_workers", "410221") is not None


# ---- counties ------------------------------------------------------------------------------------

def test_county_list_shows_retired_codes_and_denominators(admin_client, admin):
    operations.set_county_denominator(admin, db.session.get(County, "410221"), 560_000)
    db.session.commit()
    html = text(admin_client.get("/admin/counties"))
    assert "已撤销，并入 龙亭区（410202）" in html and "已撤销，并入 祥符区（410212）" in html
    assert "560,000" in html and "未设置" in html and "市辖区" in html


def test_edit_county_denominator(admin_client):
    response = admin_client.post("/admin/counties/410221/edit", data={"employed_persons": "560000"})
    assert response.status_code == 302
    assert db.session.get(County, "410221").employed_persons == 560_000
    assert 'value="560000"' in text(admin_client.get("/admin/counties/410221/edit"))
    admin_client.post("/admin/counties/410221/edit", data={"employed_persons": ""})
    db.session.expire_all()
    assert db.session.get(County, "410221").employed_persons is None
    assert [(event.entity_id, event.after) for event in audit_rows("county")] == [
        ("410221", {"employed_persons": 560_000}), ("410221", {"employed_persons": None})]


@pytest.mark.parametrize(("code", "value", "message"), [
    ("410221", "0", "从业人员数：应为 1 至 100000000 之间的整数"),
    ("410221", "abc", "从业人员数：应为整数"),
    ("410221", "1.5", "从业人员数：应为整数"),
    ("410224", "1000", "从业人员数：开封县已撤销，请在祥符区设置"),
])
def test_edit_county_refuses_bad_input(admin_client, code, value, message):
    response = admin_client.post(f"/admin/counties/{code}/edit", data={"employed_persons": value})
    assert response.status_code == 200 and escape(message) in text(response)
    assert db.session.get(County, code).employed_persons is None and audit_rows("county") == []


@pytest.mark.parametrize("path", ["/admin/occupations/999999/edit", "/admin/counties/999999/edit"])
def test_editing_something_missing_is_404(admin_client, path):
    assert admin_client.get(path).status_code == 404
