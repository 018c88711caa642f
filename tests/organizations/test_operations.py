"""Tests for filing agencies and their scope, and registering training institutions."""
from datetime import date

import pytest
import sqlalchemy as sa

from registry.core.audit import AuditEvent
from registry.core.db import db
from registry.core.errors import InvalidInput
from registry.organizations import operations
from registry.organizations.credit_code import credit_code_check_char
from registry.organizations.models import (
    Agency, AgencyScope, AgencyStatus, AgencyType, InstitutionKind, TrainingInstitution,
)
from registry.reference.models import Occupation

VALID_CREDIT_CODE = "91420000757013137P"
WELDER = "6-18-02-04"


def events(entity_type: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.entity_type == entity_type)
                                   .order_by(AuditEvent.id)))


def occupation(code: str = WELDER) -> Occupation:
    return db.session.scalar(sa.select(Occupation).where(Occupation.code == code))


COOK = "4-03-02-01"  # seeded without levels: every level is accepted until an administrator sets them


def agency_input(**overrides) -> dict:
    return {
        "name": "开封市测试职业技能评价中心", "agency_type": AgencyType.SOCIAL, "site_code": "410001",
        "filing_number": "豫人社认定备〔2023〕001号", "filed_on": date(2023, 5, 1), "county_code": "410221",
    } | overrides


# --- agencies ---------------------------------------------------------------------------------------------

def test_create_agency_keeps_the_filed_name_and_audits(make_user):
    admin = make_user()
    agency = operations.create_agency(admin, **agency_input(name="  开封（汴京）技能评价中心 "))
    db.session.commit()
    assert agency.name == "开封（汴京）技能评价中心"
    assert agency.ministry_code == "0000" and agency.status is AgencyStatus.ACTIVE
    assert agency.number_prefix == "S000041410001"
    [event] = events("agency")
    assert (event.action, event.entity_id, event.actor_id) == ("create", str(agency.id), admin.id)
    assert event.after["site_code"] == "410001" and event.after["filed_on"] == "2023-05-01"


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"ministry_code": "123"}, "ministry_code", "人社部机构代码：应为4位数字（省级备案填 0000）"),
    ({"ministry_code": "１２３４"}, "ministry_code", "人社部机构代码：应为4位数字（省级备案填 0000）"),
    ({"site_code": "41001"}, "site_code", "站点序列码：应为6位数字"),
    ({"site_code": "41000A"}, "site_code", "站点序列码：应为6位数字"),
    ({"name": "   "}, "name", "机构名称：不能为空"),
    ({"filing_number": ""}, "filing_number", "备案编号：不能为空"),
    ({"county_code": "419999"}, "county_code", "所在县区：未知的县区代码 419999"),
    ({"county_code": "410200"}, "county_code", "所在县区：请选择具体县区，不能填市本级代码 410200"),
    ({"county_code": "410211"}, "county_code", "所在县区：县区代码 410211 已撤销，请改用 410202"),
    ({"agency_type": "X"}, "agency_type", "机构类型：无效的选项 X"),
    ({"status": "closed"}, "status", "备案状态：无效的选项 closed"),
])
def test_create_agency_rejects_bad_input(app, overrides, field, message):
    with pytest.raises(InvalidInput) as raised:
        operations.create_agency(None, **agency_input(**overrides))
    assert (raised.value.field, raised.value.message) == (field, message)
    assert db.session.scalar(sa.select(sa.func.count(Agency.id))) == 0
    assert events("agency") == []


def test_duplicate_site_code_and_name_are_refused(make_agency):
    make_agency(name="已备案机构", site_code="410001")
    with pytest.raises(InvalidInput, match="站点序列码：410001 已被其他评价机构使用"):
        operations.create_agency(None, **agency_input(site_code="410001"))
    with pytest.raises(InvalidInput, match="机构名称：已备案机构 已备案"):
        operations.create_agency(None, **agency_input(name="已备案机构"))


def test_update_agency_logs_only_changed_fields(make_agency, make_user):
    admin = make_user()
    agency = make_agency(site_code="410001")
    values = operations.agency_fields(agency) | {"filed_on": agency.filed_on}
    operations.update_agency(admin, agency, **values | {"status": "suspended", "site_code": "410009"})
    db.session.commit()
    assert agency.status is AgencyStatus.SUSPENDED and agency.number_prefix.endswith("410009")
    event = events("agency")[-1]
    assert event.action == "update" and event.actor_id == admin.id
    assert event.before == {"site_code": "410001", "status": "active"}
    assert event.after == {"site_code": "410009", "status": "suspended"}


def test_update_agency_may_keep_its_own_name_and_site_but_not_take_anothers(make_agency):
    first, second = make_agency(site_code="410001"), make_agency(site_code="410002")
    values = operations.agency_fields(second) | {"filed_on": second.filed_on}
    operations.update_agency(None, second, **values)
    assert len(events("agency")) == 2  # an unchanged save records nothing
    with pytest.raises(InvalidInput, match="站点序列码：410001 已被其他评价机构使用"):
        operations.update_agency(None, second, **values | {"site_code": first.site_code})
    with pytest.raises(InvalidInput, match=f"机构名称：{first.name} 已备案"):
        operations.update_agency(None, second, **values | {"name": first.name})
    db.session.rollback()
    assert db.session.get(Agency, second.id).site_code == "410002"


# --- filed scope ------------------------------------------------------------------------------------------

def test_add_and_remove_scope_are_audited(make_agency, make_user):
    admin = make_user()
    agency = make_agency()
    scope = operations.add_scope(admin, agency, occupation().id, None, 5, 3, date(2024, 1, 1), None)
    db.session.commit()
    assert agency.covers(occupation().id, "任意", 4, date(2025, 6, 1))
    assert not agency.covers(occupation().id, None, 2, date(2025, 6, 1))
    [created] = events("agency_scope")
    assert created.action == "create" and created.entity_id == str(scope.id)
    assert created.after == {
        "agency_id": agency.id, "occupation_id": occupation().id, "work_type": None,
        "lowest_level": 5, "highest_level": 3, "valid_from": "2024-01-01", "valid_to": None,
    }
    scope_id = scope.id
    operations.remove_scope(admin, scope)
    db.session.commit()
    assert db.session.get(AgencyScope, scope_id) is None and agency.scopes == []
    removed = events("agency_scope")[-1]
    assert (removed.action, removed.entity_id, removed.after) == ("delete", str(scope_id), None)
    assert removed.before == created.after


@pytest.mark.parametrize(("lowest", "highest", "field", "message"), [
    (3, 4, "highest_level", "最高等级：四级/中级工 低于最低等级 三级/高级工"),
    (6, 3, "lowest_level", "最低等级：应为1–5的等级数字，实为 6"),
    (5, 0, "highest_level", "最高等级：应为1–5的等级数字，实为 0"),
])
def test_level_range_must_be_real_and_ordered(make_agency, lowest, highest, field, message):
    agency = make_agency()
    with pytest.raises(InvalidInput) as raised:
        operations.add_scope(None, agency, occupation().id, None, lowest, highest, date(2024, 1, 1), None)
    assert (raised.value.field, raised.value.message) == (field, message)


def test_each_level_in_the_range_must_exist_for_the_occupation(make_agency):
    agency = make_agency()
    cook = occupation(COOK)
    assert cook.levels == []
    # Levels not yet known: every level is accepted.
    operations.add_scope(None, agency, cook.id, None, 5, 1, date(2024, 1, 1), None)
    cook.levels = [5, 4, 3]
    with pytest.raises(InvalidInput) as raised:
        operations.add_scope(None, agency, cook.id, None, 4, 2, date(2024, 1, 1), None)
    assert raised.value.field == "highest_level"
    assert raised.value.message == f"等级：职业 {cook} 没有 二级/技师"
    cook.levels = [3, 2, 1]
    with pytest.raises(InvalidInput, match="没有 四级/中级工") as raised:
        operations.add_scope(None, agency, cook.id, None, 4, 2, date(2024, 1, 1), None)
    assert raised.value.field == "lowest_level"


def test_work_type_must_belong_to_the_occupation_when_it_lists_any(make_agency):
    agency = make_agency()
    welder = occupation()
    scope = operations.add_scope(None, agency, welder.id, " 水下焊工 ", 5, 3, date(2024, 1, 1), None)
    assert scope.work_type == "水下焊工"
    welder.work_types = ["焊工", "焊接设备操作工"]
    with pytest.raises(InvalidInput) as raised:
        operations.add_scope(None, agency, welder.id, "水下焊工", 5, 3, date(2024, 1, 1), None)
    assert raised.value.field == "work_type"
    assert raised.value.message == f"工种：职业 {welder} 没有工种 水下焊工（可选：焊工、焊接设备操作工）"
    assert operations.add_scope(None, agency, welder.id, "焊工", 5, 3, date(2024, 1, 1), None).work_type == "焊工"


def test_scope_dates_and_occupation_are_checked(make_agency):
    agency = make_agency()
    with pytest.raises(InvalidInput) as raised:
        operations.add_scope(None, agency, occupation().id, None, 5, 3, date(2024, 1, 1), date(2023, 12, 31))
    assert (raised.value.field, raised.value.message) == ("valid_to", "有效期止：2023-12-31 早于有效期起 2024-01-01")
    with pytest.raises(InvalidInput, match="职业：未知或已停用的职业 999999"):
        operations.add_scope(None, agency, 999999, None, 5, 3, date(2024, 1, 1), None)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(AgencyScope.id))) == 0
    assert events("agency_scope") == []


def test_one_day_scope_is_accepted(make_agency):
    agency = make_agency()
    day = date(2024, 1, 1)
    scope = operations.add_scope(None, agency, occupation().id, None, 5, 5, day, day)
    assert scope.valid_to == scope.valid_from


# --- training institutions --------------------------------------------------------------------------------

def test_create_institution_normalises_the_credit_code_and_audits(make_user):
    admin = make_user()
    institution = operations.create_institution(
        admin, name=" 开封市测试技工学校 ", credit_code=" 9142 0000 7570 1313 7p ", kind="technician_college",
        county_code="410212",
    )
    db.session.commit()
    assert institution.credit_code == VALID_CREDIT_CODE and institution.name == "开封市测试技工学校"
    assert institution.kind is InstitutionKind.TECHNICIAN_COLLEGE and institution.is_active
    [event] = events("institution")
    assert (event.action, event.actor_id) == ("create", admin.id)
    assert event.after["credit_code"] == VALID_CREDIT_CODE


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"credit_code": "91420000757013137Q"}, "credit_code", "统一社会信用代码：校验码不符：末位 Q 与前17位不一致，请对照营业执照核对"),
    ({"credit_code": "9142000075701313"}, "credit_code", "统一社会信用代码：应为18位，实为16位"),
    ({"credit_code": ""}, "credit_code", "统一社会信用代码：不能为空"),
    ({"county_code": "999999"}, "county_code", "所在县区：未知的县区代码 999999"),
    ({"kind": "university"}, "kind", "机构类型：无效的选项 university"),
    ({"name": ""}, "name", "机构名称：不能为空"),
])
def test_create_institution_rejects_bad_input(app, overrides, field, message):
    values = {"name": "测试学校", "credit_code": VALID_CREDIT_CODE, "kind": "other", "county_code": "410202"}
    with pytest.raises(InvalidInput) as raised:
        operations.create_institution(None, **values | overrides)
    assert (raised.value.field, raised.value.message) == (field, message)
    assert db.session.scalar(sa.select(sa.func.count(TrainingInstitution.id))) == 0
    assert events("institution") == []


def test_credit_code_is_unique(make_institution):
    first = make_institution(name="第一学校", credit_code=VALID_CREDIT_CODE)
    with pytest.raises(InvalidInput, match=f"统一社会信用代码：{VALID_CREDIT_CODE} 已登记为 第一学校"):
        operations.create_institution(None, name="第二学校", credit_code=VALID_CREDIT_CODE.lower(), kind="other",
                                      county_code="410202")
    other = "91410200MA" + "0000001"
    operations.update_institution(None, first, name="第一学校", credit_code=other + credit_code_check_char(other),
                                  kind="other", county_code="410202", is_active=False)
    event = events("institution")[-1]
    assert event.action == "update"
    assert event.before == {"credit_code": VALID_CREDIT_CODE, "kind": "private_school", "is_active": True}
    assert event.after["is_active"] is False
