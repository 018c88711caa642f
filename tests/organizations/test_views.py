"""Tests for the administrator's agency and institution pages."""
import re
from datetime import date

import pytest
import sqlalchemy as sa

from registry.core.roles import Role
from registry.core.audit import AuditEvent
from registry.core.db import db
from registry.organizations.credit_code import credit_code_check_char
from registry.organizations.models import Agency, AgencyScope, AgencyStatus, TrainingInstitution
from registry.reference.models import Occupation, Target
from tests.helpers import count

VALID_CREDIT_CODE = "91420000757013137P"
WELDER = "6-18-02-04"


def welder_id() -> int:
    return db.session.scalar(sa.select(Occupation.id).where(Occupation.code == WELDER))


def agency_form(**overrides) -> dict:
    return {
        "name": "开封市新备案评价中心", "agency_type": "S", "ministry_code": "0000", "site_code": "410123",
        "filing_number": "豫人社认定备〔2024〕009号", "filed_on": "2024-03-01", "county_code": "410223",
        "status": "active",
    } | overrides


def scope_form(**overrides) -> dict:
    return {"occupation_id": str(welder_id()), "work_type": "", "lowest_level": "5", "highest_level": "3",
            "valid_from": "2024-01-01", "valid_to": "2026-12-31"} | overrides


@pytest.fixture
def admin_client(make_user, login):
    return login(make_user())


# --- access -----------------------------------------------------------------------------------------------

@pytest.fixture
def pages(make_agency, make_institution):
    agency = make_agency(scopes=[(WELDER, None, 5, 3, date(2024, 1, 1), None)])
    institution = make_institution()
    return agency, institution, [
        ("get", "/admin/agencies"), ("get", "/admin/agencies/new"), ("get", f"/admin/agencies/{agency.id}"),
        ("get", f"/admin/agencies/{agency.id}/edit"), ("post", f"/admin/agencies/{agency.id}/scopes"),
        ("post", f"/admin/agencies/{agency.id}/scopes/{agency.scopes[0].id}/remove"),
        ("get", "/admin/institutions"), ("get", "/admin/institutions/new"),
        ("get", f"/admin/institutions/{institution.id}/edit"),
    ]


@pytest.mark.parametrize("role", [None, Role.COUNTY, Role.AGENCY, Role.INSTITUTION, Role.ADMIN])
def test_only_administrators_reach_organisation_pages(client, make_user, login, pages, role):
    agency, institution, paths = pages
    if role is not None:
        organization = {Role.AGENCY: agency.id, Role.INSTITUTION: institution.id}.get(role)
        login(make_user(role, organization_id=organization))
    for method, path in paths:
        response = getattr(client, method)(path)
        if role is None:
            assert response.status_code == 302 and "/login" in response.location, path
        elif role is Role.ADMIN:
            assert response.status_code in (200, 302), path
        else:
            assert response.status_code == 403, path
    assert count(AgencyScope) == (0 if role is Role.ADMIN else 1)


def test_navigation_links_to_both_lists(admin_client):
    html = admin_client.get("/dashboard").get_data(as_text=True)
    assert 'href="/admin/agencies"' in html and 'href="/admin/institutions"' in html


# --- agency list ------------------------------------------------------------------------------------------

def test_progress_counts_active_agencies_against_the_target(admin_client, make_agency):
    make_agency(), make_agency(), make_agency(status=AgencyStatus.SUSPENDED)
    assert "备案评价机构：2 / 150" in admin_client.get("/admin/agencies").get_data(as_text=True)
    agency_target = Target.indicator_key == "recognition_agencies"
    db.session.execute(sa.update(Target).where(agency_target).values(value=160))
    db.session.commit()
    assert "备案评价机构：2 / 160" in admin_client.get("/admin/agencies").get_data(as_text=True)
    db.session.execute(sa.delete(Target).where(agency_target))
    db.session.commit()
    assert "备案评价机构：2 / 150" in admin_client.get("/admin/agencies").get_data(as_text=True)


def test_agency_list_searches_filters_and_sorts(admin_client, make_agency):
    make_agency(name="甲机构", filing_number="豫备-A1", filed_on=date(2022, 1, 1), county_code="410221")
    make_agency(name="乙机构", filing_number="豫备-B2", filed_on=date(2021, 1, 1), status=AgencyStatus.WITHDRAWN)
    make_agency(name="丙机构", filing_number="豫备-C3", filed_on=date(2023, 1, 1))

    def names(query: str) -> list[str]:
        html = admin_client.get(f"/admin/agencies?{query}").get_data(as_text=True)
        return [name for _, name in sorted((html.index(n), n) for n in ("甲机构", "乙机构", "丙机构") if n in html)]

    assert names("q=B2") == ["乙机构"]
    assert names("q=甲") == ["甲机构"]
    assert names("status=withdrawn") == ["乙机构"]
    assert names("county=410221") == ["甲机构"]
    assert names("sort=filed_on") == ["乙机构", "甲机构", "丙机构"]
    assert names("sort=filed_on&dir=desc") == ["丙机构", "甲机构", "乙机构"]
    assert len(names("status=bogus&sort=bogus")) == 3  # unknown filter and sort values are ignored
    assert names("per_page=1&sort=filed_on&page=2") == ["甲机构"]


# --- agency forms -----------------------------------------------------------------------------------------

def test_create_agency_redirects_to_its_page(admin_client):
    response = admin_client.post("/admin/agencies/new", data=agency_form())
    agency = db.session.scalar(sa.select(Agency))
    assert response.status_code == 302 and response.location.endswith(f"/admin/agencies/{agency.id}")
    assert agency.county_code == "410223" and agency.filed_on == date(2024, 3, 1)
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.entity_type == "agency"))
    assert event.action == "create" and event.actor_name.startswith("admin")
    html = admin_client.get(response.location).get_data(as_text=True)
    assert "S000041410123" in html and "尚未登记备案范围" in html


@pytest.mark.parametrize(("overrides", "message"), [
    ({"ministry_code": "12345"}, "人社部机构代码：应为4位数字"),
    ({"site_code": "41012"}, "站点序列码：应为6位数字"),
    ({"site_code": "900001"}, "站点序列码：900001 已被其他评价机构使用"),
    ({"name": "已有机构"}, "机构名称：已有机构 已备案"),
    ({"county_code": "410299"}, "所在县区：未知的县区代码 410299"),
    ({"filed_on": "2024-13-01"}, "备案日期：日期格式应为 年-月-日"),
    ({"filed_on": ""}, "备案日期：不能为空"),
])
def test_create_agency_shows_the_reason_and_writes_nothing(admin_client, make_agency, overrides, message):
    make_agency(name="已有机构", site_code="900001")
    events_before = count(AuditEvent)
    response = admin_client.post("/admin/agencies/new", data=agency_form(**overrides))
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert count(Agency) == 1 and count(AuditEvent) == events_before


def test_edit_agency_prefills_and_saves(admin_client, make_agency):
    agency = make_agency(name="原名称", site_code="410555")
    html = admin_client.get(f"/admin/agencies/{agency.id}/edit").get_data(as_text=True)
    assert 'value="原名称"' in html and 'value="410555"' in html
    response = admin_client.post(f"/admin/agencies/{agency.id}/edit",
                                 data=agency_form(name="原名称", site_code="410555", status="suspended"))
    assert response.status_code == 302
    db.session.refresh(agency)
    assert agency.status is AgencyStatus.SUSPENDED and agency.county_code == "410223"
    event = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event.action == "update" and event.after["status"] == "suspended"
    assert admin_client.get("/admin/agencies/99999/edit").status_code == 404


# --- filed scope ------------------------------------------------------------------------------------------

def test_detail_page_lists_scope_with_level_labels(admin_client, make_agency):
    agency = make_agency(scopes=[(WELDER, "电焊", 5, 2, date(2024, 1, 1), None)])
    html = admin_client.get(f"/admin/agencies/{agency.id}").get_data(as_text=True)
    assert "6-18-02-04 焊工" in html and "电焊" in html and "长期" in html
    assert "五级/初级工 至 二级/技师" in html
    assert '<option value="2">二级/技师</option>' in html  # the add-scope form offers every level by name
    assert f"/admin/agencies/{agency.id}/scopes/{agency.scopes[0].id}/remove" in html


def test_add_scope(admin_client, make_agency):
    agency = make_agency()
    response = admin_client.post(f"/admin/agencies/{agency.id}/scopes", data=scope_form(work_type=" 电焊 "))
    assert response.status_code == 302
    [scope] = db.session.scalars(sa.select(AgencyScope)).all()
    assert (scope.work_type, scope.lowest_level, scope.highest_level) == ("电焊", 5, 3)
    assert scope.valid_to == date(2026, 12, 31)
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.entity_type == "agency_scope"))
    assert event.action == "create" and event.after["agency_id"] == agency.id


@pytest.mark.parametrize(("overrides", "message"), [
    ({"lowest_level": "3", "highest_level": "4"}, "最高等级：四级/中级工 低于最低等级 三级/高级工"),
    ({"valid_to": "2023-06-30"}, "有效期止：2023-06-30 早于有效期起 2024-01-01"),
    ({"occupation_id": "999999"}, "职业：未知或已停用的职业 999999"),
    ({"valid_from": ""}, "有效期起：不能为空"),
    ({"lowest_level": "x"}, "最低等级：请选择等级"),
])
def test_add_scope_shows_the_reason_and_writes_nothing(admin_client, make_agency, overrides, message):
    agency = make_agency()
    events_before = count(AuditEvent)
    response = admin_client.post(f"/admin/agencies/{agency.id}/scopes", data=scope_form(**overrides))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert message in html and agency.name in html
    assert count(AgencyScope) == 0 and count(AuditEvent) == events_before


def test_add_scope_refuses_a_level_the_occupation_lacks(admin_client, make_agency):
    agency = make_agency()
    db.session.get(Occupation, welder_id()).levels = [5, 4, 3]
    db.session.commit()
    response = admin_client.post(f"/admin/agencies/{agency.id}/scopes",
                                 data=scope_form(lowest_level="4", highest_level="2"))
    assert "等级：职业 6-18-02-04 焊工 没有 二级/技师" in response.get_data(as_text=True)
    assert count(AgencyScope) == 0


def test_remove_scope(admin_client, make_agency):
    agency = make_agency(scopes=[(WELDER, None, 5, 3, date(2024, 1, 1), None)])
    other = make_agency(scopes=[(WELDER, None, 5, 3, date(2024, 1, 1), None)])
    scope_id, other_scope_id = agency.scopes[0].id, other.scopes[0].id
    assert admin_client.post(f"/admin/agencies/{agency.id}/scopes/{other_scope_id}/remove").status_code == 404
    response = admin_client.post(f"/admin/agencies/{agency.id}/scopes/{scope_id}/remove")
    assert response.status_code == 302
    assert db.session.get(AgencyScope, scope_id) is None and db.session.get(AgencyScope, other_scope_id)
    event = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert (event.action, event.entity_type, event.entity_id) == ("delete", "agency_scope", str(scope_id))
    assert event.before["lowest_level"] == 5


CSRF_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.mark.csrf
def test_hand_written_forms_carry_the_csrf_token(client, make_user, make_agency):
    admin = make_user()
    agency = make_agency(scopes=[(WELDER, None, 5, 3, date(2024, 1, 1), None)])
    scope_id = agency.scopes[0].id
    token = CSRF_TOKEN.search(client.get("/login").get_data(as_text=True)).group(1)
    client.post("/login", data={"username": admin.username, "password": "correct-horse-1",
                                "csrf_token": token})
    remove = f"/admin/agencies/{agency.id}/scopes/{scope_id}/remove"
    assert client.post(remove).status_code == 400
    html = client.get(f"/admin/agencies/{agency.id}").get_data(as_text=True)
    form = re.search(rf'action="{remove}">\s*<input type="hidden" name="csrf_token" value="([^"]+)"', html)
    assert client.post(remove, data={"csrf_token": form.group(1)}).status_code == 302
    assert db.session.get(AgencyScope, scope_id) is None


# --- institutions -----------------------------------------------------------------------------------------

def test_institution_list_searches_and_filters(admin_client, make_institution):
    make_institution(name="开封技工学校", kind="technician_college", county_code="410221")
    make_institution(name="汴梁厨艺培训", credit_code=VALID_CREDIT_CODE)
    assert "汴梁厨艺培训" not in admin_client.get("/admin/institutions?q=技工").get_data(as_text=True)
    html = admin_client.get("/admin/institutions?q=757013").get_data(as_text=True)
    assert "汴梁厨艺培训" in html and "开封技工学校" not in html
    html = admin_client.get("/admin/institutions?kind=technician_college&county=410221&sort=county").get_data(
        as_text=True)
    assert "开封技工学校" in html and "汴梁厨艺培训" not in html


def test_create_and_edit_institution(admin_client):
    form = {"name": "开封市测试职业培训学校", "credit_code": "91420000757013137p", "kind": "private_school",
            "county_code": "410225", "is_active": "y"}
    assert admin_client.post("/admin/institutions/new", data=form).status_code == 302
    institution = db.session.scalar(sa.select(TrainingInstitution))
    assert institution.credit_code == VALID_CREDIT_CODE and institution.is_active
    response = admin_client.post(f"/admin/institutions/{institution.id}/edit", data=form | {"is_active": ""})
    assert response.status_code == 302
    db.session.refresh(institution)
    assert not institution.is_active
    actions = db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.entity_type == "institution")
                                 .order_by(AuditEvent.id)).all()
    assert actions == ["create", "update"]


@pytest.mark.parametrize(("credit_code", "message"), [
    ("91420000757013137Q", "统一社会信用代码：校验码不符：末位 Q 与前17位不一致，请对照营业执照核对"),
    ("91420000757O13137P", "统一社会信用代码：包含非法字符 O"),
    ("910000000000000000", None),  # a valid code of another institution: the duplicate message
])
def test_create_institution_shows_the_reason_and_writes_nothing(admin_client, make_institution, credit_code,
                                                                 message):
    if message is None:
        first17 = credit_code[:17]
        credit_code = first17 + credit_code_check_char(first17)
        make_institution(name="先登记的学校", credit_code=credit_code)
        message = f"统一社会信用代码：{credit_code} 已登记为 先登记的学校"
    before = count(TrainingInstitution), count(AuditEvent)
    response = admin_client.post("/admin/institutions/new", data={
        "name": "新学校", "credit_code": credit_code, "kind": "other", "county_code": "410202",
    })
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert (count(TrainingInstitution), count(AuditEvent)) == before
