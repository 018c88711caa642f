"""Tests for training classes, their status, enrolment, completion and dropout."""
from datetime import date, timedelta
from functools import partial

import pytest
import sqlalchemy as sa

from registry.core.roles import Role
from registry.core.audit import AuditEvent
from registry.core.db import db
from registry.core.errors import Forbidden, InvalidInput
from registry.people.identity import DocumentType
from registry.people.models import KeyGroup, Person
from registry.people.operations import register_person
from registry.reference.models import Occupation
from registry.reference.operations import update_occupation
from registry.training import operations
from registry.training.models import ClassStatus, Enrollment, EnrollmentStatus, TrainingClass, TrainingType
from tests import helpers
from tests.helpers import count

resident_id = partial(helpers.resident_id, area="410222", born="19850505")

WELDER = "6-18-02-04"
COOK = "4-03-02-01"  # seeded without levels: every level is accepted


def occupation(code: str = WELDER) -> Occupation:
    return db.session.scalar(sa.select(Occupation).where(Occupation.code == code))


def events(entity_type: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.entity_type == entity_type)
                                   .order_by(AuditEvent.id)))


def class_input(institution_id: int | None, **overrides) -> dict:
    return {
        "institution_id": institution_id, "name": "2025年第1期焊工培训班", "occupation_id": occupation().id,
        "work_type": "", "target_level": 5, "training_type": TrainingType.EMPLOYMENT,
        "program_key": "kaifeng_manufacturing", "is_subsidised": True, "planned_hours": 80,
        "starts_on": date(2025, 3, 1), "ends_on": date(2025, 4, 30), "county_code": "410221",
    } | overrides


def known_person(sequence: int, name: str) -> Person:
    person = register_person(None, DocumentType.RESIDENT_ID, resident_id(sequence), name, "410222")
    db.session.commit()
    return person


@pytest.fixture
def admin(make_user):
    return make_user(Role.ADMIN)


@pytest.fixture
def institution(make_institution):
    return make_institution(county_code="410221")


@pytest.fixture
def staff(make_user, institution):
    return make_user(Role.INSTITUTION, organization_id=institution.id)


# --- classes ----------------------------------------------------------------------------------------------

def test_create_class_records_everything_and_audits(admin, institution):
    training_class = operations.create_class(admin, **class_input(institution.id, name="  焊工班 "))
    db.session.commit()
    assert training_class.name == "焊工班" and training_class.status is ClassStatus.PLANNED
    assert training_class.program_key == "kaifeng_manufacturing" and training_class.is_subsidised
    assert training_class.work_type is None and training_class.target_level == 5
    [event] = events("training_class")
    assert (event.action, event.entity_id, event.actor_id) == ("create", str(training_class.id), admin.id)
    assert event.after["starts_on"] == "2025-03-01" and event.after["training_type"] == "employment"


def test_institution_staff_always_create_for_their_own_institution(staff, institution, make_institution):
    other = make_institution()
    training_class = operations.create_class(staff, **class_input(other.id))
    assert training_class.institution_id == institution.id


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"name": "  "}, "name", "班级名称：不能为空"),
    ({"name": "班" * 121}, "name", "班级名称：最多120个字符"),
    ({"institution_id": None}, "institution_id", "培训机构：培训机构 （空） 不存在"),
    ({"institution_id": 9999}, "institution_id", "培训机构：培训机构 9999 不存在"),
    ({"occupation_id": None}, "occupation_id", "职业：未知或已停用的职业 （空）"),
    ({"target_level": 7}, "target_level", "目标等级：职业 6-18-02-04 焊工 没有 7"),
    ({"training_type": "hobby"}, "training_type", "培训类型：无效的选项 hobby"),
    ({"program_key": "nope"}, "program_key", "专项工程：未知的专项工程 nope"),
    ({"planned_hours": 0}, "planned_hours", "计划学时：应大于0"),
    ({"planned_hours": None}, "planned_hours", "计划学时：不能为空"),
    ({"starts_on": None}, "starts_on", "开始日期：不能为空"),
    ({"ends_on": None}, "ends_on", "结束日期：不能为空"),
    ({"ends_on": date(2025, 2, 28)}, "ends_on", "结束日期：不能早于开始日期"),
    ({"county_code": ""}, "county_code", "培训地点：未知的县区代码 （空）"),
    ({"county_code": "410200"}, "county_code", "培训地点：请选择具体县区，不能填市本级代码 410200"),
    ({"county_code": "410211"}, "county_code", "培训地点：县区代码 410211 已撤销，请改用 410202"),
])
def test_create_class_rejects_bad_input(admin, institution, overrides, field, message):
    with pytest.raises(InvalidInput) as raised:
        operations.create_class(admin, **class_input(institution.id) | overrides)
    assert (raised.value.field, raised.value.message) == (field, message)
    db.session.rollback()
    assert count(TrainingClass) == 0 and events("training_class") == []


def test_level_and_work_type_must_exist_for_the_occupation(admin, institution):
    welder = occupation()
    update_occupation(admin, welder, welder.code, welder.name, welder.edition, levels=[5, 4, 3],
                      work_types="电焊工\n气焊工")
    with pytest.raises(InvalidInput, match="目标等级：职业 6-18-02-04 焊工 没有 一级/高级技师"):
        operations.create_class(admin, **class_input(institution.id, target_level=1))
    with pytest.raises(InvalidInput, match="工种：职业 6-18-02-04 焊工 没有工种 钎焊工（可选：电焊工、气焊工）"):
        operations.create_class(admin, **class_input(institution.id, work_type="钎焊工"))
    training_class = operations.create_class(
        admin, **class_input(institution.id, work_type=" 气焊工 ", target_level=None))
    assert (training_class.work_type, training_class.target_level) == ("气焊工", None)


def test_inactive_occupation_and_institution_are_refused(admin, make_institution):
    closed = make_institution(is_active=False)
    with pytest.raises(InvalidInput, match=f"培训机构：{closed.name} 已停用"):
        operations.create_class(admin, **class_input(closed.id))
    welder = occupation()
    update_occupation(admin, welder, welder.code, welder.name, welder.edition, is_active=False)
    with pytest.raises(InvalidInput, match="职业：未知或已停用的职业"):
        operations.create_class(admin, **class_input(make_institution().id))


def test_update_logs_only_the_changed_fields(admin, make_class):
    training_class = make_class()
    original = training_class.name
    operations.update_class(admin, training_class, **class_input(
        training_class.institution_id, name="改名", program_key=None, is_subsidised=False, target_level=None))
    db.session.commit()
    event = events("training_class")[-1]
    assert (event.action, event.before, event.after) == ("update", {"name": original}, {"name": "改名"})
    operations.update_class(admin, training_class, **class_input(
        training_class.institution_id, name="改名", program_key=None, is_subsidised=False, target_level=None))
    assert events("training_class")[-1].id == event.id  # nothing changed, nothing logged


def test_update_keeps_dates_around_existing_enrolments(admin, make_class, make_person):
    training_class = make_class(status=ClassStatus.RUNNING)
    operations.enroll_person(admin, training_class, make_person(), date(2025, 3, 10))
    values = class_input(training_class.institution_id)
    with pytest.raises(InvalidInput, match="开始日期：已有学员于 2025-03-10 报名，不能晚于该日"):
        operations.update_class(admin, training_class, **values | {"starts_on": date(2025, 4, 10)})
    # Within ENROLLMENT_EARLY_DAYS (30) of the earliest enrolment the start may still move later.
    operations.update_class(admin, training_class, **values | {"starts_on": date(2025, 4, 9)})
    with pytest.raises(InvalidInput, match="结束日期：已有学员于 2025-03-10 报名，不能早于该日"):
        operations.update_class(admin, training_class, **values | {"ends_on": date(2025, 3, 9),
                                                                    "starts_on": date(2025, 3, 1)})


def test_status_moves_strictly_forward_one_step(admin, make_class):
    training_class = make_class()
    for status in (ClassStatus.RUNNING, ClassStatus.FINISHED, ClassStatus.CLOSED):
        operations.change_class_status(admin, training_class, status)
    db.session.commit()
    assert [(event.before, event.after) for event in events("training_class")[1:]] == [
        ({"status": "planned"}, {"status": "running"}),
        ({"status": "running"}, {"status": "finished"}),
        ({"status": "finished"}, {"status": "closed"}),
    ]


@pytest.mark.parametrize(("start", "target", "message"), [
    (ClassStatus.PLANNED, "finished", "状态：不能从“计划中”改为“已结束”（只能改为“进行中”）"),
    (ClassStatus.PLANNED, "closed", "状态：不能从“计划中”改为“已关闭”（只能改为“进行中”）"),
    (ClassStatus.RUNNING, "planned", "状态：不能从“进行中”改为“计划中”（只能改为“已结束”）"),
    (ClassStatus.FINISHED, "running", "状态：不能从“已结束”改为“进行中”（只能改为“已关闭”）"),
    (ClassStatus.RUNNING, "paused", "状态：无效的选项 paused"),
    (ClassStatus.CLOSED, "planned", "状态：培训班已关闭，不能修改"),
])
def test_status_refuses_other_moves(admin, make_class, start, target, message):
    training_class = make_class(status=start)
    with pytest.raises(InvalidInput) as raised:
        operations.change_class_status(admin, training_class, target)
    assert (raised.value.field, raised.value.message) == ("status", message)
    assert training_class.status is start


def test_a_class_with_trainees_still_in_training_cannot_close(admin, make_class, make_person):
    training_class = make_class(status=ClassStatus.RUNNING)
    enrollment = operations.enroll_person(admin, training_class, make_person(), date(2025, 3, 1))
    operations.change_class_status(admin, training_class, ClassStatus.FINISHED)
    with pytest.raises(InvalidInput, match="状态：仍有 1 名学员在训，请先办理结业或退出后再关闭"):
        operations.change_class_status(admin, training_class, ClassStatus.CLOSED)
    operations.record_dropout(admin, enrollment)
    operations.change_class_status(admin, training_class, ClassStatus.CLOSED)
    assert training_class.status is ClassStatus.CLOSED


def test_a_closed_class_is_read_only_for_everyone(admin, make_class, make_person):
    training_class = make_class(status=ClassStatus.RUNNING)
    enrollment = operations.enroll_person(admin, training_class, make_person(), date(2025, 3, 1))
    operations.record_completion(admin, enrollment, date(2025, 4, 30), 80)
    operations.change_class_status(admin, training_class, ClassStatus.FINISHED)
    operations.change_class_status(admin, training_class, ClassStatus.CLOSED)
    attempts = [
        lambda: operations.update_class(admin, training_class, **class_input(training_class.institution_id)),
        lambda: operations.enroll_person(admin, training_class, make_person()),
        lambda: operations.record_completion(admin, enrollment, date(2025, 4, 29), 70),
        lambda: operations.record_dropout(admin, enrollment),
        lambda: operations.complete_all(admin, training_class, date(2025, 4, 30), 80),
    ]
    for attempt in attempts:
        with pytest.raises(InvalidInput, match="状态：培训班已关闭，不能修改"):
            attempt()


def test_operations_refuse_actors_outside_the_write_scope(make_class, make_user, make_institution, make_person):
    training_class = make_class()
    outsiders = [make_user(Role.INSTITUTION, organization_id=make_institution().id),
                 make_user(Role.COUNTY, county_code=training_class.county_code)]
    for outsider in outsiders:
        with pytest.raises(Forbidden):
            operations.update_class(outsider, training_class, **class_input(training_class.institution_id))
        with pytest.raises(Forbidden):
            operations.enroll_person(outsider, training_class, make_person())


# --- enrolment --------------------------------------------------------------------------------------------

def test_enrol_person_audits_and_defaults_the_date(staff, make_class, make_person):
    training_class = make_class(actor=staff, starts_on=date.today() - timedelta(days=3),
                                ends_on=date.today() + timedelta(days=30))
    person = make_person()
    enrollment = operations.enroll_person(staff, training_class, person)
    db.session.commit()
    assert enrollment.enrolled_on == date.today() and enrollment.status is EnrollmentStatus.ENROLLED
    [event] = events("enrollment")
    assert event.actor_id == staff.id and event.after["person_id"] == person.id
    assert event.after["status"] == "enrolled"


def test_default_enrolment_date_outside_the_class_is_its_first_day(admin, make_class, make_person):
    training_class = make_class(starts_on=date(2025, 3, 1), ends_on=date(2025, 4, 30))
    assert operations.enroll_person(admin, training_class, make_person()).enrolled_on == date(2025, 3, 1)


def test_enrolment_refuses_twice_dates_outside_and_finished_classes(admin, make_class, make_person):
    training_class = make_class()
    person = make_person()
    operations.enroll_person(admin, training_class, person)
    with pytest.raises(InvalidInput) as raised:
        operations.enroll_person(admin, training_class, person)
    assert (raised.value.field, raised.value.message) == ("document_number", "证件号码：该人员已在本班")
    with pytest.raises(InvalidInput, match="报名日期：应在培训班起止日期 2025-03-01 至 2025-04-30 之内"):
        operations.enroll_person(admin, training_class, make_person(), date(2025, 5, 1))
    with pytest.raises(InvalidInput, match="报名日期：应在培训班起止日期"):
        operations.enroll_person(admin, training_class, make_person(), date(2025, 1, 29))
    # Up to ENROLLMENT_EARLY_DAYS (30) before the start a trainee may already enrol.
    assert operations.enroll_person(admin, training_class, make_person(), date(2025, 1, 30)).enrolled_on \
        == date(2025, 1, 30)
    finished = make_class(status=ClassStatus.FINISHED)
    with pytest.raises(InvalidInput, match="状态：培训班已结束，不能再报名"):
        operations.enroll_person(admin, finished, person)
    assert count(Enrollment) == 2


def test_enrol_by_document_registers_a_new_person_with_key_groups(staff, make_class):
    training_class = make_class(actor=staff)
    groups = int(KeyGroup.RURAL_LABOUR | KeyGroup.VETERAN)
    enrollment = operations.enroll_by_document(
        staff, training_class, document_type=DocumentType.RESIDENT_ID, document_number=resident_id(1),
        name=" 王小明 ", county_code="410222", phone="13800000000", key_groups=groups,
    )
    db.session.commit()
    person = enrollment.person
    assert (person.name, person.county_code, person.key_groups) == ("王小明", "410222", groups)
    assert [event.action for event in events("person")] == ["create"]
    assert len(events("enrollment")) == 1


def test_enrol_by_document_reuses_a_known_person(staff, make_class):
    person = known_person(3, "李四")
    number = resident_id(3)
    first, second = make_class(actor=staff), make_class(actor=staff)
    for training_class in (first, second):
        enrollment = operations.enroll_by_document(
            staff, training_class, document_type="resident_id", document_number=number, name="李四",
            county_code="410221")
        assert enrollment.person_id == person.id
    assert count(Person) == 1 and count(Enrollment) == 2


def test_enrol_by_document_refuses_a_number_registered_under_another_name(staff, make_class):
    known_person(4, "李四")
    number = resident_id(4)
    with pytest.raises(InvalidInput) as raised:
        operations.enroll_by_document(staff, make_class(actor=staff), document_type="resident_id",
                                      document_number=number, name="张三", county_code="410221")
    assert (raised.value.field, raised.value.message) == ("name", "姓名：与该证件号码已登记的姓名不符，请核对证件号码和姓名")


def test_enrol_by_document_reports_an_invalid_number(staff, make_class):
    with pytest.raises(InvalidInput) as raised:
        operations.enroll_by_document(staff, make_class(actor=staff), document_type="resident_id",
                                      document_number="410221199001010000", name="张三", county_code="410221")
    assert raised.value.field == "document_number" and raised.value.message.startswith("证件号码：身份证号码校验码不符")


def test_enrolling_into_a_finished_class_registers_nobody(staff, make_class):
    training_class = make_class(actor=staff, status=ClassStatus.FINISHED)
    with pytest.raises(InvalidInput, match="状态：培训班已结束，不能再报名"):
        operations.enroll_by_document(staff, training_class, document_type="resident_id",
                                      document_number=resident_id(2), name="赵六", county_code="410221")
    assert count(Person) == 0 and events("person") == []


# --- completion -------------------------------------------------------------------------------------------

@pytest.fixture
def running(admin, make_class, make_person):
    """A running class of 80 planned hours with two trainees enrolled on its first day."""
    training_class = make_class(status=ClassStatus.RUNNING)
    enrollments = [operations.enroll_person(admin, training_class, make_person(), date(2025, 3, 1))
                   for _ in range(2)]
    db.session.commit()
    return training_class, enrollments


def test_record_completion_audits_the_change(admin, running):
    _, (enrollment, _) = running
    operations.record_completion(admin, enrollment, date(2025, 4, 30), 78)
    db.session.commit()
    assert (enrollment.status, enrollment.completed_on, enrollment.attended_hours) == (
        EnrollmentStatus.COMPLETED, date(2025, 4, 30), 78)
    event = events("enrollment")[-1]
    assert event.action == "update"
    assert event.before == {"status": "enrolled", "completed_on": None, "attended_hours": None}
    assert event.after == {"status": "completed", "completed_on": "2025-04-30", "attended_hours": 78}


@pytest.mark.parametrize(("completed_on", "hours", "field", "message"), [
    (date(2025, 2, 28), 80, "completed_on", "结业日期：培训班尚未开始（开始日期 2025-03-01）"),
    ("tomorrow", 80, "completed_on", "结业日期：不能晚于今天"),
    (None, 80, "completed_on", "结业日期：不能为空"),
    (date(2025, 4, 30), -1, "attended_hours", "参训学时：不能为负数"),
    (date(2025, 4, 30), None, "attended_hours", "参训学时：不能为空"),
    (date(2025, 4, 30), 89, "attended_hours", "参训学时：89 超过上限 88（计划学时 80 加允许的超出部分）"),
])
def test_record_completion_rejects_bad_input(admin, running, completed_on, hours, field, message):
    _, (enrollment, _) = running
    if completed_on == "tomorrow":  # worked out when the test runs, since a run can cross midnight
        completed_on = date.today() + timedelta(days=1)
    with pytest.raises(InvalidInput) as raised:
        operations.record_completion(admin, enrollment, completed_on, hours)
    assert (raised.value.field, raised.value.message) == (field, message)
    assert enrollment.status is EnrollmentStatus.ENROLLED


def test_hours_up_to_the_tolerance_are_accepted_and_the_tolerance_is_a_setting(app, admin, running):
    _, (first, second) = running
    operations.record_completion(admin, first, date(2025, 4, 30), 88)
    app.config["TRAINING_HOURS_TOLERANCE"] = 0
    with pytest.raises(InvalidInput, match="参训学时：81 超过上限 80"):
        operations.record_completion(admin, second, date(2025, 4, 30), 81)


def test_completion_needs_a_started_class_and_an_earlier_enrolment(admin, make_class, make_person):
    planned = make_class()
    enrollment = operations.enroll_person(admin, planned, make_person(), date(2025, 3, 20))
    with pytest.raises(InvalidInput, match="状态：培训班尚未开班（计划中），不能办理结业"):
        operations.record_completion(admin, enrollment, date(2025, 4, 30), 80)
    operations.change_class_status(admin, planned, ClassStatus.RUNNING)
    with pytest.raises(InvalidInput, match="结业日期：不能早于报名日期 2025-03-20"):
        operations.record_completion(admin, enrollment, date(2025, 3, 19), 80)


def test_dropout_clears_a_completion_and_can_be_completed_again(admin, running):
    _, (enrollment, _) = running
    operations.record_completion(admin, enrollment, date(2025, 4, 30), 80)
    operations.record_dropout(admin, enrollment)
    assert (enrollment.status, enrollment.completed_on, enrollment.attended_hours) == (
        EnrollmentStatus.DROPPED, None, None)
    with pytest.raises(InvalidInput, match="状态：该学员已退出"):
        operations.record_dropout(admin, enrollment)
    operations.record_completion(admin, enrollment, date(2025, 4, 29), 60)
    assert enrollment.status is EnrollmentStatus.COMPLETED
    statuses = [event.after["status"] for event in events("enrollment")[2:]]
    assert statuses == ["completed", "dropped", "completed"]


def test_complete_all_completes_only_those_still_enrolled(admin, running, make_person):
    training_class, (first, second) = running
    third = operations.enroll_person(admin, training_class, make_person(), date(2025, 3, 2))
    operations.record_dropout(admin, second)
    db.session.commit()
    before = len(events("enrollment"))
    assert operations.complete_all(admin, training_class, date(2025, 4, 30), 80) == 2
    db.session.commit()
    assert [e.status for e in (first, second, third)] == [
        EnrollmentStatus.COMPLETED, EnrollmentStatus.DROPPED, EnrollmentStatus.COMPLETED]
    assert len(events("enrollment")) == before + 2
    assert operations.complete_all(admin, training_class, date(2025, 4, 30), 80) == 0


def test_complete_all_checks_every_trainee_before_changing_any(admin, running, make_person):
    training_class, (first, second) = running
    operations.enroll_person(admin, training_class, make_person(), date(2025, 3, 20))
    db.session.commit()
    with pytest.raises(InvalidInput, match="结业日期：有 1 名学员的报名日期晚于该日（最晚 2025-03-20）"):
        operations.complete_all(admin, training_class, date(2025, 3, 10), 40)
    with pytest.raises(InvalidInput, match="参训学时：100 超过上限 88"):
        operations.complete_all(admin, training_class, date(2025, 4, 30), 100)
    assert {first.status, second.status} == {EnrollmentStatus.ENROLLED}
