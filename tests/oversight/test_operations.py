"""Oversight writes: signal handling, sampling audits, supervision and assessors, with their bad input."""
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from registry.core.db import db
from registry.core.errors import Forbidden, InvalidInput
from registry.core.models import AuditEvent
from registry.core.roles import Role
from registry.organizations.models import AgencyStatus
from registry.oversight import operations
from registry.oversight.models import (
    AuditItem, FindingKind, SamplingAudit, SignalInstance, SignalStatus, SupervisionOutcome, SupervisionRecord,
)
from tests.helpers import resident_id


def events(entity_type: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.entity_type == entity_type)
                                   .order_by(AuditEvent.id)))


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


# --- signal workflow ------------------------------------------------------------------------------------------

@pytest.fixture
def signal_in(app):
    def factory(county_code: str = "410221") -> SignalInstance:
        instance = SignalInstance(signal="late_results", subject_key=f"k{count(SignalInstance)}",
                                  county_code=county_code, summary="批次 #1 成绩录入滞后")
        db.session.add(instance)
        db.session.commit()
        return instance

    return factory


def test_a_county_official_explains_then_the_admin_confirms(signal_in, make_user):
    county, admin = make_user(Role.COUNTY, county_code="410221"), make_user(Role.ADMIN)
    instance = signal_in()

    operations.handle_signal(county, instance, SignalStatus.EXPLAINED, "机构称系补录历史成绩，附原始记录")
    operations.handle_signal(admin, instance, SignalStatus.CONFIRMED, "原始记录与成绩不符", owner_id=admin.id)
    db.session.commit()

    assert instance.status is SignalStatus.CONFIRMED and instance.owner_id == admin.id
    assert [(change.status, change.actor_id) for change in instance.changes] == [
        (SignalStatus.EXPLAINED, county.id), (SignalStatus.CONFIRMED, admin.id)]
    assert [event.after["status"] for event in events("signal_instance")] == ["explained", "confirmed"]


def test_signal_handling_refuses_bad_input_and_other_counties(signal_in, make_user):
    county, elsewhere = make_user(Role.COUNTY, county_code="410221"), make_user(Role.COUNTY, county_code="410222")
    instance = signal_in()
    with pytest.raises(Forbidden):
        operations.handle_signal(elsewhere, instance, SignalStatus.DISMISSED, "不是我县的")
    with pytest.raises(InvalidInput, match="说明：不能为空"):
        operations.handle_signal(county, instance, SignalStatus.DISMISSED, "  ")
    with pytest.raises(InvalidInput, match="负责人"):
        operations.handle_signal(county, instance, SignalStatus.EXPLAINED, "转交", owner_id=elsewhere.id)
    operations.handle_signal(county, instance, SignalStatus.DISMISSED, "核实无误")
    with pytest.raises(InvalidInput, match="已是“已排除”，不能改为“待处理”"):
        operations.handle_signal(county, instance, SignalStatus.OPEN, "重开")
    db.session.rollback()


# --- sampling audits ----------------------------------------------------------------------------------------

@pytest.fixture
def issued(approved_batch, welding_agency):
    """An agency with five certificates issued 2025-05-20 on a batch held in 杞县 (410221)."""
    from registry.certificates.operations import issue_batch

    agency = welding_agency()
    issue_batch(None, approved_batch(agency=agency, passed=5, failed=0), date(2025, 5, 20))
    db.session.commit()
    return agency


def test_an_audit_draws_the_same_sample_from_the_same_seed(issued, make_user):
    county = make_user(Role.COUNTY, county_code="410221")
    audit = operations.start_audit(county, issued, date(2025, 1, 1), date(2025, 12, 31), 3)
    db.session.commit()

    population = operations.audit_population(issued.id, "410221", date(2025, 1, 1), date(2025, 12, 31))
    assert audit.population == 5 and audit.county_code == "410221"
    assert [item.certificate_id for item in audit.items] == operations.draw_sample(population, 3, audit.seed)
    again = operations.start_audit(county, issued, date(2025, 1, 1), date(2025, 12, 31), 3, seed=audit.seed)
    assert [item.certificate_id for item in again.items] == [item.certificate_id for item in audit.items]
    assert events("sampling_audit")[0].after["seed"] == audit.seed


@pytest.mark.parametrize(("period", "size", "message"), [
    ((date(2025, 1, 1), date(2025, 12, 31)), 6, "只发放了 5 本证书，不能抽查 6 本"),
    ((date(2024, 1, 1), date(2024, 12, 31)), 1, "没有发放证书，无可抽查"),
    ((date(2025, 12, 31), date(2025, 1, 1)), 1, "结束日期不能早于开始日期"),
    ((date(2025, 1, 1), None), 1, "起止日期都不能为空"),
    ((date(2025, 1, 1), date(2025, 12, 31)), 0, "应为正整数"),
])
def test_an_audit_refuses_bad_input_and_saves_nothing(issued, make_user, period, size, message):
    county = make_user(Role.COUNTY, county_code="410221")
    with pytest.raises(InvalidInput, match=message):
        operations.start_audit(county, issued, *period, size)
    db.session.rollback()
    assert count(SamplingAudit) == 0 and count(AuditItem) == 0


def test_a_county_samples_only_certificates_assessed_in_its_county(issued, make_user):
    elsewhere = make_user(Role.COUNTY, county_code="410222")
    with pytest.raises(Forbidden):  # the agency neither is filed nor held a batch in 410222
        operations.start_audit(elsewhere, issued, date(2025, 1, 1), date(2025, 12, 31), 1)


def test_an_audit_closes_only_when_every_item_is_checked_and_every_problem_answered(issued, make_user):
    county = make_user(Role.COUNTY, county_code="410221")
    agency_user = make_user(Role.AGENCY, organization_id=issued.id)
    audit = operations.start_audit(county, issued, date(2025, 1, 1), date(2025, 12, 31), 2)
    first, second = audit.items
    operations.record_finding(county, first, FindingKind.CONFORMING, "")
    with pytest.raises(InvalidInput, match="第 2 项尚未记录抽查结论"):
        operations.close_audit(county, audit, "小结")
    with pytest.raises(InvalidInput, match="必须写明问题"):
        operations.record_finding(county, second, FindingKind.PROBLEM, "")
    operations.record_finding(county, second, FindingKind.PROBLEM, "考生签到表缺失")
    with pytest.raises(InvalidInput, match="第 2 项发现的问题机构尚未答复"):
        operations.close_audit(county, audit, "小结")
    with pytest.raises(Forbidden):
        operations.answer_item(county, second, "官员不能替机构答复")
    with pytest.raises(InvalidInput, match="无需答复"):
        operations.answer_item(agency_user, first, "多余的答复")
    operations.answer_item(agency_user, second, "已补交签到表扫描件")
    operations.close_audit(county, audit, "抽查 2 本，1 本缺签到表，已补交")
    db.session.commit()
    assert audit.status.value == "closed" and audit.closed_at is not None
    with pytest.raises(InvalidInput, match="已结束"):
        operations.record_finding(county, first, FindingKind.PROBLEM, "再改")
    assert [event.action for event in events("audit_item")] == ["finding", "finding", "answer"]


# --- supervision ----------------------------------------------------------------------------------------------

def test_supervision_warns_then_suspends_and_a_suspended_agency_cannot_plan_or_issue(
        welding_agency, approved_batch, make_batch, make_user):
    from registry.certificates.operations import issue_batch

    admin = make_user(Role.ADMIN)
    agency = welding_agency()
    batch = approved_batch(agency=agency, passed=1, failed=0)
    operations.record_supervision(admin, agency, date.today(), "档案不全", date.today() + timedelta(days=30),
                                  SupervisionOutcome.WARNED)
    db.session.commit()
    assert agency.standing_label == "警告" and agency.status is AgencyStatus.ACTIVE
    operations.record_supervision(admin, agency, date.today(), "逾期未整改", date.today() + timedelta(days=60),
                                  SupervisionOutcome.SUSPENDED)
    db.session.commit()
    assert agency.standing_label == "暂停"
    with pytest.raises(InvalidInput, match="备案状态为“暂停”，不能发证"):
        issue_batch(None, batch)
    db.session.rollback()
    with pytest.raises(InvalidInput, match="备案状态为“暂停”，不能安排认定"):
        make_batch(agency=agency)
    db.session.rollback()
    assert count(SupervisionRecord) == 2 and len(events("supervision_record")) == 2


def test_supervision_refuses_a_warning_without_a_deadline(welding_agency, make_user):
    with pytest.raises(InvalidInput, match="必须给出整改期限"):
        operations.record_supervision(make_user(Role.ADMIN), welding_agency(), date.today(), "问题", None,
                                      SupervisionOutcome.WARNED)
    with pytest.raises(Forbidden):
        operations.record_supervision(make_user(Role.COUNTY), welding_agency(), date.today(), "问题", None,
                                      SupervisionOutcome.NORMAL)


# --- assessors -------------------------------------------------------------------------------------------------

def welding() -> int:
    from registry.reference.models import Occupation

    return db.session.scalar(sa.select(Occupation.id).where(Occupation.code == "6-18-02-04"))


def test_a_batch_takes_assessors_only_from_its_roster_and_scope(welding_agency, make_batch, make_user):
    agency, other = welding_agency(), welding_agency()
    agency_user = make_user(Role.AGENCY, organization_id=agency.id)
    junior = operations.add_assessor(agency_user, agency, "赵考评", resident_id(1, "19800101"), "KP-1",
                                     [(welding(), 5, 4)])
    stranger = operations.add_assessor(None, other, "钱考评", resident_id(2, "19800101"), "KP-2", [(welding(), 5, 1)])
    assert junior.document_masked == resident_id(1, "19800101")[:6] + "********" + resident_id(1, "19800101")[-4:]
    batch = make_batch(agency=agency, level=3)
    with pytest.raises(InvalidInput, match="赵考评 的考评范围不含 焊工 三级/高级工"):
        operations.assign_assessor(agency_user, batch, junior)
    with pytest.raises(InvalidInput, match="钱考评 不在 .* 的考评员名单中"):
        operations.assign_assessor(agency_user, batch, stranger)
    operations.assign_assessor(agency_user, make_batch(agency=agency, level=4), junior)
    with pytest.raises(InvalidInput, match="已在本机构名单中"):
        operations.add_assessor(agency_user, agency, "赵考评", resident_id(1, "19800101"), "KP-1", [(welding(), 5, 4)])
    with pytest.raises(Forbidden):
        operations.add_assessor(agency_user, other, "孙", resident_id(3, "19800101"), "KP-3", [(welding(), 5, 4)])
