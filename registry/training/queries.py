"""Read-only training queries: the filtered class and trainee lists, their tallies, choices and exports.
(The cockpit counts training in registry/stats/.)"""
from dataclasses import dataclass, fields, replace
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager, joinedload

from registry.core.db import db, is_unconditional
from registry.organizations.models import TrainingInstitution
from registry.people.models import Person
from registry.people.name_search import name_contains
from registry.reference.models import LEVEL_LABELS
from registry.training.models import Enrollment, EnrollmentStatus, TrainingClass
IS_COMPLETED = Enrollment.status == EnrollmentStatus.COMPLETED


# --- the list pages -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ClassFilters:
    status: str | None = None
    occupation_id: int | None = None
    program_key: str | None = None
    is_subsidised: bool | None = None
    starts_from: date | None = None
    starts_to: date | None = None
    county_code: str | None = None
    institution_id: int | None = None


@dataclass(frozen=True)
class TraineeFilters(ClassFilters):
    class_id: int | None = None
    enrollment_status: str | None = None
    key_group: int | None = None
    enrolled_from: date | None = None
    enrolled_to: date | None = None
    name: str | None = None


def filtered_classes(scope: sa.ColumnElement[bool], filters: ClassFilters) -> sa.Select:
    return _class_conditions(sa.select(TrainingClass).where(scope), filters)


def filtered_enrollments(scope: sa.ColumnElement[bool], filters: TraineeFilters) -> sa.Select:
    """The enrolments in `scope` (a WHERE clause on Enrollment, see training/scopes.py) alone, their classes'
    and persons' conditions as IN subqueries: counting a city's enrolments then reads no class or person row
    unless a condition needs it (#17). `with_holders` adds the joins the page's rows and the export load."""
    statement = sa.select(Enrollment)
    if not is_unconditional(scope):
        statement = statement.where(scope)
    if filters.county_code is not None:  # the county stored on each enrolment, as a county's own scope
        statement = statement.where(Enrollment.class_county_code == filters.county_code)
    class_filters = replace(filters, county_code=None)
    if any(getattr(class_filters, field.name) is not None for field in fields(ClassFilters)):
        classes = _class_conditions(sa.select(TrainingClass.id), class_filters)
        statement = statement.where(Enrollment.class_id.in_(classes))
    persons = [condition(value) for value, condition in (
        (filters.key_group, lambda value: Person.key_groups.op("&")(value) != 0),
        (filters.name, name_contains),
    ) if value is not None]
    if persons:
        statement = statement.where(Enrollment.person_id.in_(sa.select(Person.id).where(*persons)))
    conditions = [
        (filters.class_id, lambda value: Enrollment.class_id == value),
        (filters.enrollment_status, lambda value: Enrollment.status == value),
        (filters.enrolled_from, lambda value: Enrollment.enrolled_on >= value),
        (filters.enrolled_to, lambda value: Enrollment.enrolled_on <= value),
    ]
    return statement.where(*[condition(value) for value, condition in conditions if value is not None])


def sorted_by(statement: sa.Select, key: str) -> sa.Select:
    """The join a sort by the trainee's or the class's name needs (the other orders read enrolments only)."""
    if key == "name":
        return statement.join(Person, Enrollment.person_id == Person.id)
    if key == "class":
        return statement.join(TrainingClass, Enrollment.class_id == TrainingClass.id)
    return statement


def with_holders(statement: sa.Select) -> sa.Select:
    """The statement joined to each enrolment's person and class, loaded with them (the rows, the export)."""
    return (statement.join(Person, Enrollment.person_id == Person.id)
            .join(TrainingClass, Enrollment.class_id == TrainingClass.id).options(*TRAINEE_LOADS))


def _class_conditions(statement: sa.Select, filters: ClassFilters) -> sa.Select:
    conditions = [
        (filters.status, lambda value: TrainingClass.status == value),
        (filters.occupation_id, lambda value: TrainingClass.occupation_id == value),
        (filters.program_key, lambda value: TrainingClass.program_key == value),
        (filters.is_subsidised, lambda value: TrainingClass.is_subsidised.is_(value)),
        (filters.starts_from, lambda value: TrainingClass.starts_on >= value),
        (filters.starts_to, lambda value: TrainingClass.starts_on <= value),
        (filters.county_code, lambda value: TrainingClass.county_code == value),
        (filters.institution_id, lambda value: TrainingClass.institution_id == value),
    ]
    return statement.where(*[condition(value) for value, condition in conditions if value is not None])


def enrolment_count_column() -> sa.ScalarSelect:
    """The number of trainees of the class in the outer query, to sort the class list by."""
    return (sa.select(sa.func.count(Enrollment.id)).where(Enrollment.class_id == TrainingClass.id)
            .correlate(TrainingClass).scalar_subquery())


def trainee_tallies(class_ids: list[int]) -> dict[int, tuple[int, int]]:
    """(trainees, completed) per class, for one page of the class list at a time."""
    if not class_ids:
        return {}
    statement = (sa.select(Enrollment.class_id, sa.func.count(Enrollment.id),
                           sa.func.coalesce(sa.func.sum(sa.case((IS_COMPLETED, 1), else_=0)), 0))
                 .where(Enrollment.class_id.in_(class_ids)).group_by(Enrollment.class_id))
    return {class_id: (int(total), int(done)) for class_id, total, done in db.session.execute(statement)}


def institution_choices(include_id: int | None = None) -> list[tuple[int, str]]:
    """Active institutions, plus the one a class already belongs to even if it was deactivated since."""
    statement = (sa.select(TrainingInstitution.id, TrainingInstitution.name)
                 .where(sa.or_(TrainingInstitution.is_active, TrainingInstitution.id == include_id))
                 .order_by(TrainingInstitution.name))
    return [(institution_id, name) for institution_id, name in db.session.execute(statement)]


# The newest classes are the ones looked for; a select longer than this no longer reads (as the batch form's).
CLASS_CHOICES_LIMIT = 500


def class_choices(scope: sa.ColumnElement[bool], search: str | None = None, number: int | None = None,
                  chosen: int | None = None) -> list[tuple[int, str]]:
    """The newest readable classes whose name holds `search` (or whose id is `number`, when the search is
    a number), at most CLASS_CHOICES_LIMIT, and the `chosen` one wherever it falls."""
    statement = sa.select(TrainingClass.id, TrainingClass.name).where(scope)
    if search is not None:
        matches = TrainingClass.name.contains(search, autoescape=True)
        statement = statement.where(matches if number is None else sa.or_(matches, TrainingClass.id == number))
    rows = list(db.session.execute(statement.order_by(TrainingClass.starts_on.desc(), TrainingClass.id.desc())
                                   .limit(CLASS_CHOICES_LIMIT)))
    if chosen is not None and chosen not in {class_id for class_id, _name in rows}:
        rows = [*db.session.execute(sa.select(TrainingClass.id, TrainingClass.name)
                                    .where(scope, TrainingClass.id == chosen)), *rows]
    return [(class_id, f"{name}（{class_id}）") for class_id, name in rows]


# --- exports: exactly the rows of the filtered list, with the headers the page shows -----------------------

# What each row shows of its relations, joined into the rows' own statement: one round trip for the page.
CLASS_LOADS = (joinedload(TrainingClass.institution), joinedload(TrainingClass.occupation),
               joinedload(TrainingClass.program), joinedload(TrainingClass.county))
_CLASS = contains_eager(Enrollment.training_class)
TRAINEE_LOADS = (contains_eager(Enrollment.person).joinedload(Person.county),
                 _CLASS.joinedload(TrainingClass.institution),
                 _CLASS.joinedload(TrainingClass.occupation), _CLASS.joinedload(TrainingClass.county))
CLASS_HEADERS = ["编号", "班级名称", "培训机构", "职业编码", "职业", "工种/职业方向", "目标等级", "培训类型", "专项工程",
                 "补贴性培训", "计划学时", "开始日期", "结束日期", "培训地点", "状态", "学员人数", "已结业人数"]
# The plain document number never leaves the registry in a list: only its masked form.
TRAINEE_HEADERS = ["姓名", "证件类型", "证件号码（脱敏）", "性别", "人员所在县区", "重点群体", "培训班编号", "培训班",
                   "培训机构", "职业", "培训地点", "补贴性培训", "报名日期", "状态", "结业日期", "参训学时"]


def class_export_rows(statement: sa.Select) -> list[list]:
    completed = (sa.select(sa.func.count(Enrollment.id))
                 .where(Enrollment.class_id == TrainingClass.id, IS_COMPLETED)
                 .correlate(TrainingClass).scalar_subquery())
    statement = statement.add_columns(enrolment_count_column(), completed).options(*CLASS_LOADS)
    rows = []
    for training_class, total, done in db.session.execute(statement):
        occupation, program = training_class.occupation, training_class.program
        rows.append([
            training_class.id, training_class.name, training_class.institution.name, occupation.code,
            occupation.name, training_class.work_type or "",
            LEVEL_LABELS.get(training_class.target_level, "不定等级"), training_class.training_type.label,
            program.name if program else "",
            _yes_no(training_class.is_subsidised), training_class.planned_hours, training_class.starts_on,
            training_class.ends_on, training_class.county.name, training_class.status.label, total, done,
        ])
    return rows


def trainee_export_rows(statement: sa.Select) -> list[list]:
    rows = []
    for enrollment in db.session.scalars(statement.options(*TRAINEE_LOADS)):
        person, training_class = enrollment.person, enrollment.training_class
        rows.append([
            person.name, person.document_type.label, person.document_masked,
            person.gender.label if person.gender else "", person.county.name, "、".join(person.group_labels),
            training_class.id, training_class.name, training_class.institution.name,
            str(training_class.occupation), training_class.county.name, _yes_no(training_class.is_subsidised),
            enrollment.enrolled_on, enrollment.status.label, enrollment.completed_on,
            enrollment.attended_hours,
        ])
    return rows


def _yes_no(value: bool) -> str:
    return "是" if value else "否"
