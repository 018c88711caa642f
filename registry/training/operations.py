"""Training operations: classes, their status, enrolment and completion. The caller commits."""
import enum
import math
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app

from registry.core.roles import Role
from registry.core.audit import changes, record_event
from registry.core.changes import note_classes_changed
from registry.core.db import db
from registry.core.errors import InvalidInput
from registry.organizations.models import TrainingInstitution
from registry.reference.checks import checked_work_type, current_county_code
from registry.people.identity import DocumentType, Gender
from registry.people.models import Person
from registry.people.operations import find_person, register_person
from registry.reference.models import LEVEL_LABELS, Occupation, Program
from registry.training.models import ClassStatus, Enrollment, EnrollmentStatus, TrainingClass, TrainingType
from registry.training.scopes import check_writable

# Strictly forward, one step at a time: a finished class is never reopened, so completions stay final.
NEXT_STATUS = {ClassStatus.PLANNED: ClassStatus.RUNNING, ClassStatus.RUNNING: ClassStatus.FINISHED,
               ClassStatus.FINISHED: ClassStatus.CLOSED}
CLOSED_MESSAGE = "状态：培训班已关闭，不能修改"
DEFAULT_HOURS_TOLERANCE = 0.1


# --- classes ----------------------------------------------------------------------------------------------

# Status is left out: a class starts out planned and change_class_status logs each move itself.
CLASS_FIELDS = ("institution_id", "name", "occupation_id", "work_type", "target_level", "training_type",
                "program_key", "is_subsidised", "planned_hours", "starts_on", "ends_on", "county_code")
ENROLLMENT_FIELDS = ("class_id", "person_id", "enrolled_on", "status", "completed_on", "attended_hours")


def class_fields(training_class: TrainingClass) -> dict:
    return {name: _plain(getattr(training_class, name)) for name in CLASS_FIELDS}


def enrollment_fields(enrollment: Enrollment) -> dict:
    return {name: _plain(getattr(enrollment, name)) for name in ENROLLMENT_FIELDS}


def _plain(value):
    """Dates and enum members as the text the audit log stores, so before and after compare equal."""
    if isinstance(value, date):
        return value.isoformat()
    return value.value if isinstance(value, enum.Enum) else value


def create_class(actor, **values) -> TrainingClass:
    """Values as named by _class_values; an institution user's class is always their institution's."""
    training_class = TrainingClass(**_class_values(actor, **values), status=ClassStatus.PLANNED)
    db.session.add(training_class)
    db.session.flush()
    record_event(actor, "create", "training_class", training_class.id, after=class_fields(training_class))
    return training_class


def update_class(actor, training_class: TrainingClass, **values) -> None:
    _check_open(actor, training_class)
    # Everything is checked before any attribute changes, so a look-up never autoflushes a half-edited row.
    values = _class_values(actor, **values)
    _check_dates_keep_enrolments(training_class, values["starts_on"], values["ends_on"])
    before = class_fields(training_class)
    for key, value in values.items():
        setattr(training_class, key, value)
    if before["county_code"] != training_class.county_code:
        db.session.execute(sa.update(Enrollment).where(Enrollment.class_id == training_class.id)
                           .values(class_county_code=training_class.county_code))
    note_classes_changed([training_class.id])  # its county or subsidy may have changed
    old, new = changes(before, class_fields(training_class))
    if new:
        record_event(actor, "update", "training_class", training_class.id, before=old, after=new)


def change_class_status(actor, training_class: TrainingClass, status: ClassStatus | str) -> None:
    _check_open(actor, training_class)
    try:
        status = ClassStatus(status)
    except ValueError:
        raise InvalidInput("status", f"状态：无效的选项 {status}") from None
    allowed = NEXT_STATUS[training_class.status]
    if status is not allowed:
        raise InvalidInput("status", f"状态：不能从“{training_class.status.label}”改为“{status.label}”"
                                     f"（只能改为“{allowed.label}”）")
    if status is ClassStatus.CLOSED and (waiting := db.session.scalar(sa.select(sa.func.count()).where(
        Enrollment.class_id == training_class.id, Enrollment.status == EnrollmentStatus.ENROLLED))):
        raise InvalidInput("status", f"状态：仍有 {waiting} 名学员在训，请先办理结业或退出后再关闭")
    record_event(actor, "update", "training_class", training_class.id,
                 before={"status": training_class.status.value}, after={"status": status.value})
    training_class.status = status


def _class_values(
    actor, *, institution_id: int | None, name: str, occupation_id: int | None, work_type: str | None,
    target_level: int | None, training_type: TrainingType | str, program_key: str | None, is_subsidised: bool,
    planned_hours: int | None, starts_on: date | None, ends_on: date | None, county_code: str | None,
) -> dict:
    occupation = db.session.get(Occupation, occupation_id) if occupation_id is not None else None
    if occupation is None or not occupation.is_active:
        raise InvalidInput("occupation_id", f"职业：未知或已停用的职业 {occupation_id or '（空）'}")
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise InvalidInput("name", "班级名称：" + ("最多120个字符" if name else "不能为空"))
    if training_type not in set(TrainingType):
        raise InvalidInput("training_type", f"培训类型：无效的选项 {training_type}")
    program_key = (program_key or "").strip() or None
    if program_key is not None and db.session.get(Program, program_key) is None:
        raise InvalidInput("program_key", f"专项工程：未知的专项工程 {program_key}")
    if not isinstance(planned_hours, int) or planned_hours <= 0:
        raise InvalidInput("planned_hours", "计划学时：" + ("应大于0" if isinstance(planned_hours, int) else "不能为空"))
    for field, label, value in (("starts_on", "开始日期", starts_on), ("ends_on", "结束日期", ends_on)):
        if not isinstance(value, date):
            raise InvalidInput(field, f"{label}：不能为空")
    if ends_on < starts_on:
        raise InvalidInput("ends_on", "结束日期：不能早于开始日期")
    return {
        "institution_id": _institution_id(actor, institution_id), "name": name,
        "occupation_id": occupation.id, "work_type": checked_work_type(occupation, work_type),
        "target_level": _target_level(occupation, target_level), "training_type": TrainingType(training_type),
        "program_key": program_key, "planned_hours": planned_hours, "is_subsidised": bool(is_subsidised),
        "starts_on": starts_on, "ends_on": ends_on,
        "county_code": current_county_code(county_code, "county_code", "培训地点"),
    }


def _institution_id(actor, institution_id: int | None) -> int:
    # Institution staff always act for their own institution, whatever the form says.
    if getattr(actor, "role", None) is Role.INSTITUTION:
        institution_id = actor.institution_id
    institution = db.session.get(TrainingInstitution, institution_id) if institution_id is not None else None
    if institution is None:
        raise InvalidInput("institution_id", f"培训机构：培训机构 {institution_id or '（空）'} 不存在")
    if not institution.is_active:
        raise InvalidInput("institution_id", f"培训机构：{institution.name} 已停用")
    return institution.id


def _target_level(occupation: Occupation, level: int | None) -> int | None:
    # allowed_levels only ever holds the digits 1–5, so this also refuses a digit that is no level at all.
    if level is not None and level not in occupation.allowed_levels:
        raise InvalidInput("target_level", f"目标等级：职业 {occupation} 没有 {LEVEL_LABELS.get(level, level)}")
    return level


def _check_dates_keep_enrolments(training_class: TrainingClass, starts_on: date, ends_on: date) -> None:
    """New dates must still contain every enrolment already made, or those records would break the rule."""
    earliest, latest = db.session.execute(
        sa.select(sa.func.min(Enrollment.enrolled_on), sa.func.max(Enrollment.enrolled_on))
        .where(Enrollment.class_id == training_class.id)
    ).one()
    if earliest is not None and starts_on > earliest + timedelta(days=early_enrolment_days()):
        raise InvalidInput("starts_on", f"开始日期：已有学员于 {earliest.isoformat()} 报名，不能晚于该日"
                                        f" {early_enrolment_days()} 天以上")
    if latest is not None and ends_on < latest:
        raise InvalidInput("ends_on", f"结束日期：已有学员于 {latest.isoformat()} 报名，不能早于该日")


def _check_open(actor, training_class: TrainingClass) -> None:
    check_writable(actor, training_class)
    if training_class.status is ClassStatus.CLOSED:
        raise InvalidInput("status", CLOSED_MESSAGE)


# --- enrolment --------------------------------------------------------------------------------------------

def default_enrolment_date(training_class: TrainingClass) -> date:
    """Today while the class runs, else its first day (enrolling ahead of time, or back-filling records)."""
    today = date.today()
    return today if training_class.starts_on <= today <= training_class.ends_on else training_class.starts_on


def early_enrolment_days() -> int:
    """How many days before its start a class may already enrol (app config ENROLLMENT_EARLY_DAYS)."""
    return current_app.config["ENROLLMENT_EARLY_DAYS"]


def enrolment_date_problem(training_class: TrainingClass, enrolled_on: date) -> tuple[str, str]:
    """("error" or "warning", why) for a 报名日期 outside the class's dates, ("", "") inside them.

    Registering ahead of the start is common (a class fills before it opens): up to early_enrolment_days()
    before it is only worth a look, earlier than that or after the class ended it is a mistake.
    """
    start, end = training_class.starts_on, training_class.ends_on
    if start <= enrolled_on <= end:
        return "", ""
    early = (start - enrolled_on).days
    if 0 < early <= early_enrolment_days():
        return "warning", f"报名日期 {enrolled_on.isoformat()} 早于开班日期 {start.isoformat()} {early} 天（允许提前 " \
                          f"{early_enrolment_days()} 天内报名），请核对"
    return "error", f"{enrolled_on.isoformat()} 不在培训班起止日期 {start.isoformat()} 至 {end.isoformat()} 之内" \
                    f"（开班前最多可提前 {early_enrolment_days()} 天报名）"


def enroll_person(actor, training_class: TrainingClass, person: Person,
                  enrolled_on: date | None = None) -> Enrollment:
    check_accepts_enrolment(actor, training_class)
    enrolled_on = enrolled_on or default_enrolment_date(training_class)
    if enrolment_date_problem(training_class, enrolled_on)[0] == "error":
        raise InvalidInput("enrolled_on", f"报名日期：应在培训班起止日期 {training_class.starts_on.isoformat()}"
                                          f" 至 {training_class.ends_on.isoformat()} 之内"
                                          f"（开班前最多可提前 {early_enrolment_days()} 天报名）")
    if db.session.scalar(sa.select(Enrollment.id).where(
        Enrollment.class_id == training_class.id, Enrollment.person_id == person.id,
    )):
        raise InvalidInput("document_number", "证件号码：该人员已在本班")
    enrollment = Enrollment(class_id=training_class.id, class_county_code=training_class.county_code,
                            person_id=person.id, enrolled_on=enrolled_on, status=EnrollmentStatus.ENROLLED)
    db.session.add(enrollment)
    db.session.flush()
    note_classes_changed([training_class.id])
    record_event(actor, "create", "enrollment", enrollment.id, after=enrollment_fields(enrollment))
    return enrollment


def enroll_by_document(
    actor, training_class: TrainingClass, *, document_type: DocumentType | str, document_number: str,
    name: str, county_code: str, gender: Gender | None = None, phone: str | None = None, key_groups: int = 0,
    enrolled_on: date | None = None) -> Enrollment:
    """Enrol the person with this document, registering them if unknown; a known person is left as is."""
    check_accepts_enrolment(actor, training_class)
    document_type = DocumentType(document_type)
    person = find_person(document_type, document_number)
    if person is None:
        person = register_person(actor, document_type, document_number, name, county_code, gender=gender,
                                 phone=phone, key_groups=key_groups)
    elif person.name != (name or "").strip():
        # Most often a mistyped number that happens to belong to someone else: never enrol the wrong person.
        raise InvalidInput("name", "姓名：与该证件号码已登记的姓名不符，请核对证件号码和姓名")
    return enroll_person(actor, training_class, person, enrolled_on)


def check_accepts_enrolment(actor, training_class: TrainingClass) -> None:
    _check_open(actor, training_class)
    if training_class.status is ClassStatus.FINISHED:
        raise InvalidInput("status", "状态：培训班已结束，不能再报名")


# --- completion -------------------------------------------------------------------------------------------

def hours_limit(training_class: TrainingClass) -> int:
    """The most hours a trainee may be credited: planned hours plus the configured tolerance, rounded down."""
    tolerance = current_app.config.get("TRAINING_HOURS_TOLERANCE", DEFAULT_HOURS_TOLERANCE)
    # Decimal: 80 × 1.1 in floating point is 88.00000000000001, which would round down wrongly at the edge.
    return math.floor(Decimal(training_class.planned_hours) * (1 + Decimal(str(tolerance))))


def record_completion(actor, enrollment: Enrollment, completed_on: date | None,
                      attended_hours: int | None) -> None:
    """Mark a trainee completed; a completed or dropped record may be corrected the same way (audited)."""
    check_completion(actor, enrollment.training_class, completed_on, attended_hours)
    if completed_on < enrollment.enrolled_on:
        raise InvalidInput("completed_on", f"结业日期：不能早于报名日期 {enrollment.enrolled_on.isoformat()}")
    set_enrollment_outcome(actor, enrollment, EnrollmentStatus.COMPLETED, completed_on, attended_hours)


def record_dropout(actor, enrollment: Enrollment) -> None:
    _check_open(actor, enrollment.training_class)
    if enrollment.status is EnrollmentStatus.DROPPED:
        raise InvalidInput("status", "状态：该学员已退出")
    set_enrollment_outcome(actor, enrollment, EnrollmentStatus.DROPPED, None, None)


def complete_all(actor, training_class: TrainingClass, completed_on: date | None,
                 attended_hours: int | None) -> int:
    """Complete every trainee still enrolled; returns how many. All are checked before any is changed."""
    check_completion(actor, training_class, completed_on, attended_hours)
    waiting = list(db.session.scalars(sa.select(Enrollment).where(
        Enrollment.class_id == training_class.id, Enrollment.status == EnrollmentStatus.ENROLLED,
    ).order_by(Enrollment.id)))
    late = [enrollment.enrolled_on for enrollment in waiting if enrollment.enrolled_on > completed_on]
    if late:
        raise InvalidInput("completed_on", f"结业日期：有 {len(late)} 名学员的报名日期晚于该日"
                                           f"（最晚 {max(late).isoformat()}）")
    for enrollment in waiting:
        set_enrollment_outcome(actor, enrollment, EnrollmentStatus.COMPLETED, completed_on, attended_hours)
    return len(waiting)


def check_completion(actor, training_class: TrainingClass, completed_on, attended_hours) -> None:
    _check_open(actor, training_class)
    if training_class.status is ClassStatus.PLANNED:
        raise InvalidInput("status", "状态：培训班尚未开班（计划中），不能办理结业")
    if not isinstance(completed_on, date):
        raise InvalidInput("completed_on", "结业日期：不能为空")
    if completed_on < training_class.starts_on:
        raise InvalidInput("completed_on", f"结业日期：培训班尚未开始（开始日期 {training_class.starts_on.isoformat()}）")
    if completed_on > date.today():
        raise InvalidInput("completed_on", "结业日期：不能晚于今天")
    if not isinstance(attended_hours, int) or isinstance(attended_hours, bool):
        raise InvalidInput("attended_hours", "参训学时：不能为空")
    if attended_hours < 0:
        raise InvalidInput("attended_hours", "参训学时：不能为负数")
    limit = hours_limit(training_class)
    if attended_hours > limit:
        raise InvalidInput("attended_hours", f"参训学时：{attended_hours} 超过上限 {limit}"
                                             f"（计划学时 {training_class.planned_hours} 加允许的超出部分）")


def set_enrollment_outcome(actor, enrollment: Enrollment, status: EnrollmentStatus, completed_on: date | None,
                           attended_hours: int | None) -> None:
    """Write an outcome whose values the caller checked (check_completion); imports call it row by row."""
    _check_open(actor, enrollment.training_class)
    before = enrollment_fields(enrollment)
    enrollment.status, enrollment.completed_on = status, completed_on
    enrollment.attended_hours = attended_hours
    note_classes_changed([enrollment.class_id])
    old, new = changes(before, enrollment_fields(enrollment))
    if new:
        record_event(actor, "update", "enrollment", enrollment.id, before=old, after=new)
