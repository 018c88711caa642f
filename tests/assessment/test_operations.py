"""Batches only inside the agency's filed scope; results scored against the pass mark; approval freezes them."""
from datetime import date

import pytest
import sqlalchemy as sa

from registry.core.roles import Role
from registry.assessment.models import AssessmentResult, BatchStatus
from registry.assessment.operations import approve_batch, create_batch, record_result
from registry.core.audit import AuditEvent
from registry.core.db import db
from registry.core.errors import Forbidden, InvalidInput
from registry.organizations.models import AgencyStatus
from registry.reference.models import Occupation


AGENCY = dict(scopes=[("6-18-02-04", None, 5, 3, "2024-01-01", "2025-12-31")])  # the `agency` fixture (tests/conftest.py)


def occupation_id(code: str = "6-18-02-04") -> int:
    return db.session.scalar(sa.select(Occupation.id).where(Occupation.code == code))


def plan(agency, **overrides):
    values = {"agency_id": agency.id, "occupation_id": occupation_id(), "work_type": None, "level": 4,
              "assessed_on": date(2025, 5, 10), "county_code": "410221"} | overrides
    batch = create_batch(None, **values)
    db.session.commit()
    return batch


def test_batch_inside_the_filed_scope_is_planned_and_audited(agency):
    batch = plan(agency)
    assert batch.status is BatchStatus.PLANNED
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.entity_type == "assessment_batch"))
    assert event.action == "create" and event.after["level"] == 4


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"level": 2}, "level", "二级/技师 不在本机构 2025-05-10 有效的备案范围内"),
    ({"occupation_id": None}, "occupation_id", "未知的职业"),
    ({"assessed_on": date(2026, 1, 5)}, "level", "2026-01-05 有效的备案范围内"),
    ({"assessed_on": date(2023, 12, 31)}, "level", "2023-12-31 有效的备案范围内"),
    ({"assessed_until": date(2026, 2, 1)}, "level", "2026-02-01"),
    ({"assessed_until": date(2025, 5, 1)}, "assessed_until", "结束日期：不能早于认定日期"),
    ({"county_code": "410200"}, "county_code", "认定地点"),
])
def test_out_of_scope_or_malformed_batches_are_refused(agency, overrides, field, message):
    if overrides.get("occupation_id", 0) is None:
        overrides["occupation_id"] = 99999
    with pytest.raises(InvalidInput) as caught:
        plan(agency, **overrides)
    db.session.rollback()
    assert caught.value.field == field and message in caught.value.message


def test_a_scope_for_one_work_type_does_not_cover_another(make_agency):
    agency = make_agency(scopes=[("6-18-02-04", "电焊", 5, 3, "2024-01-01", None)])
    assert plan(agency, work_type="电焊").work_type == "电焊"
    with pytest.raises(InvalidInput, match="焊工（氩弧焊）"):
        plan(agency, work_type="氩弧焊")


def test_a_suspended_agency_cannot_plan(make_agency):
    suspended = make_agency(status=AgencyStatus.SUSPENDED, scopes=[("6-18-02-04", None, 5, 3, "2024-01-01", None)])
    with pytest.raises(InvalidInput, match="备案状态为“暂停”"):
        plan(suspended)


def test_level_must_exist_for_the_occupation(make_agency):
    welding = db.session.get(Occupation, occupation_id())
    welding.levels = [5, 4]
    db.session.commit()
    agency = make_agency(scopes=[("6-18-02-04", None, 5, 4, "2024-01-01", None)])
    with pytest.raises(InvalidInput, match="没有 三级/高级工"):
        plan(agency, level=3)


def test_an_agency_user_always_plans_for_its_own_agency(agency, make_agency, make_user):
    other = make_agency(scopes=[("6-18-02-04", None, 5, 3, "2024-01-01", None)])
    user = make_user(Role.AGENCY, organization_id=agency.id)
    batch = create_batch(user, agency_id=other.id, occupation_id=occupation_id(), work_type=None, level=4,
                         assessed_on=date(2025, 5, 10), county_code="410221")
    assert batch.agency_id == agency.id


def test_results_pass_on_every_required_score(app, agency, make_person):
    batch = plan(agency)
    passed = record_result(None, batch, make_person(), theory="60", practical=75.5)
    failed = record_result(None, batch, make_person(), theory=59.99, practical=90)
    assert passed.is_passed and not failed.is_passed
    assert batch.status is BatchStatus.RESULTS_ENTERED
    app.config["ASSESSMENT_PASS_MARK"] = 80
    assert not record_result(None, batch, make_person(), theory=79, practical=90).is_passed


def test_review_score_counts_only_for_levels_two_and_one(make_agency, make_person):
    agency = make_agency(scopes=[("6-18-02-04", None, 5, 1, "2024-01-01", None)])
    technician = plan(agency, level=2)
    # A blank review score is a missing score, refused, never a silent 不合格.
    with pytest.raises(InvalidInput, match="综合评审成绩：二级、一级必须填写综合评审成绩"):
        record_result(None, technician, make_person(), theory=90, practical=90)
    assert not record_result(None, technician, make_person(), theory=90, practical=90, review=50).is_passed
    assert record_result(None, technician, make_person(), theory=90, practical=90, review=70).is_passed
    with pytest.raises(InvalidInput, match="仅二级/技师和一级/高级技师有综合评审"):
        record_result(None, plan(agency, level=4), make_person(), theory=90, practical=90, review=70)


@pytest.mark.parametrize(("scores", "field", "message"), [
    ({"theory": 101, "practical": 60}, "theory_score", "应在0–100之间"),
    ({"theory": -1, "practical": 60}, "theory_score", "应在0–100之间"),
    ({"theory": "六十", "practical": 60}, "theory_score", "应为0–100的数字"),
    ({"theory": None, "practical": None}, "theory_score", "理论和操作成绩不能都为空"),
])
def test_bad_scores_are_refused_and_write_nothing(agency, make_person, scores, field, message):
    batch = plan(agency)
    person = make_person()
    with pytest.raises(InvalidInput) as caught:
        record_result(None, batch, person, **scores)
    db.session.rollback()
    assert caught.value.field == field and message in caught.value.message
    assert db.session.scalar(sa.select(sa.func.count(AssessmentResult.id))) == 0


def test_a_person_has_one_result_per_batch(agency, make_person):
    batch, person = plan(agency), make_person()
    record_result(None, batch, person, theory=50, practical=50)
    record_result(None, batch, person, theory=70, practical=70)
    db.session.commit()
    results = db.session.scalars(sa.select(AssessmentResult)).all()
    assert len(results) == 1 and results[0].is_passed
    actions = db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.entity_type == "assessment_result"))
    assert list(actions) == ["create", "update"]


def test_approval_freezes_results(agency, make_person):
    batch = plan(agency)
    with pytest.raises(InvalidInput, match="只有已录入成绩的批次可以审核"):
        approve_batch(None, batch)
    person = make_person()
    record_result(None, batch, person, theory=70, practical=70)
    approve_batch(None, batch)
    with pytest.raises(InvalidInput, match="成绩不能再修改"):
        record_result(None, batch, person, theory=10, practical=10)


def test_another_agency_cannot_act_on_the_batch(agency, make_agency, make_user, make_person):
    batch = plan(agency)
    stranger = make_user(Role.AGENCY, organization_id=make_agency().id)
    with pytest.raises(Forbidden):
        record_result(stranger, batch, make_person(), theory=70, practical=70)
    with pytest.raises(Forbidden):
        approve_batch(stranger, batch)
