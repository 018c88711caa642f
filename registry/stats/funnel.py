"""The training-to-certificate funnel — enrolled → completed → assessed → passed → certified — per county and
per institution, and the enrolments behind each leak. Read-only; docs/STATISTICS.md defines every stage.

The unit is the enrolment (人次) in a class held in the county, enrolled in the date range. Stages are nested:
an enrolment is "assessed" only if it was also completed, so each rate is a share of the stage before.
An assessment belongs to an enrolment when the batch is linked to the enrolment's class
(AssessmentBatch.training_class_id); a batch linked to no class belongs to every enrolment of the same person
in a class of the batch's occupation enrolled on or before the assessment date.
"""
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from registry.assessment.models import AssessmentBatch, AssessmentResult, BatchStatus
from registry.certificates.models import Certificate
from registry.core.db import db
from registry.organizations.models import TrainingInstitution
from registry.people.models import Person
from registry.reference.models import County
from registry.reference.queries import current_counties
from registry.stats.drilldowns import Table, TableColumn, rate
from registry.training.models import Enrollment, EnrollmentStatus, TrainingClass

STAGES = {"enrolled": "报名人次", "completed": "结业人次", "assessed": "参加认定人次", "passed": "认定合格人次",
          "certified": "取得证书人次"}
STEP_RATES = {"completed": "结业率", "assessed": "参加认定率", "passed": "合格率", "certified": "取证率"}


@dataclass(frozen=True)
class Leak:
    title: str
    reached: str  # the stage the enrolments reached…
    missed: str   # …and the next one they did not


LEAKS = {
    "never_assessed": Leak("结业未参加认定", "completed", "assessed"),
    "failed": Leak("参加认定未合格", "assessed", "passed"),
    "uncertified": Leak("认定合格未取证", "passed", "certified"),
}


def _belongs_to_enrolment() -> sa.ColumnElement[bool]:
    linked = AssessmentBatch.training_class_id == Enrollment.class_id
    by_person = sa.and_(AssessmentBatch.training_class_id.is_(None),
                        AssessmentBatch.occupation_id == TrainingClass.occupation_id,
                        AssessmentBatch.assessed_on >= Enrollment.enrolled_on)
    return sa.and_(AssessmentResult.person_id == Enrollment.person_id,
                   AssessmentBatch.id == AssessmentResult.batch_id, sa.or_(linked, by_person))


IS_PASSED = AssessmentResult.is_passed.is_(True)
HAS_CERTIFICATE = sa.exists().where(Certificate.result_id == AssessmentResult.id)
IS_COMPLETED = Enrollment.status == EnrollmentStatus.COMPLETED
# Whether an enrolment reached each stage; every stage implies the ones before it.
REACHED = {
    "enrolled": sa.true(),
    "completed": IS_COMPLETED,
    "assessed": sa.and_(IS_COMPLETED, sa.exists().where(_belongs_to_enrolment())),
    "passed": sa.and_(IS_COMPLETED, sa.exists().where(_belongs_to_enrolment(), IS_PASSED)),
    "certified": sa.and_(IS_COMPLETED,
                         sa.exists().where(_belongs_to_enrolment(), IS_PASSED, HAS_CERTIFICATE)),
}


@dataclass
class FunnelRow:
    key: str | int | None
    name: str
    enrolled: int = 0
    completed: int = 0
    assessed: int = 0
    passed: int = 0
    certified: int = 0

    def step_rate(self, stage: str) -> float | None:
        """The share of the previous stage that reached this one."""
        stages = list(STAGES)
        return rate(getattr(self, stage), getattr(self, stages[stages.index(stage) - 1]))

    def leak(self, name: str) -> int:
        leak = LEAKS[name]
        return getattr(self, leak.reached) - getattr(self, leak.missed)

    def add(self, other: "FunnelRow") -> None:
        for stage in STAGES:
            setattr(self, stage, getattr(self, stage) + getattr(other, stage))


def _enrolments(statement: sa.Select, county_codes, institution_id, enrolled_from, enrolled_to) -> sa.Select:
    statement = statement.select_from(Enrollment).join(TrainingClass, TrainingClass.id == Enrollment.class_id)
    if county_codes is not None:
        statement = statement.where(TrainingClass.county_code.in_(county_codes))
    if institution_id is not None:
        statement = statement.where(TrainingClass.institution_id == institution_id)
    if enrolled_from is not None:
        statement = statement.where(Enrollment.enrolled_on >= enrolled_from)
    if enrolled_to is not None:
        statement = statement.where(Enrollment.enrolled_on <= enrolled_to)
    return statement


def _stage_counts(group_by, county_codes, enrolled_from, enrolled_to) -> dict:
    sums = [sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0).label(stage)
            for stage, condition in REACHED.items()]
    statement = _enrolments(sa.select(group_by.label("key"), *sums),
                            county_codes, None, enrolled_from, enrolled_to)
    return {row.key: {stage: int(row._mapping[stage]) for stage in STAGES}
            for row in db.session.execute(statement.group_by(group_by))}


def funnel_by_county(county_codes: list[str] | None = None, enrolled_from: date | None = None,
                     enrolled_to: date | None = None) -> tuple[FunnelRow, list[FunnelRow]]:
    """The total and one row per current county in scope (zeros included), by the class's county."""
    counts = _stage_counts(TrainingClass.county_code, county_codes, enrolled_from, enrolled_to)
    total = FunnelRow(None, "合计")
    rows = []
    for county in current_counties():
        if county_codes is None or county.code in county_codes:
            rows.append(FunnelRow(county.code, county.name, **counts.get(county.code, {})))
    for figures in counts.values():  # classes in a retired county still count in the total
        total.add(FunnelRow(None, "", **figures))
    return total, rows


def funnel_by_institution(county_codes: list[str] | None = None, enrolled_from: date | None = None,
                          enrolled_to: date | None = None) -> tuple[FunnelRow, list[FunnelRow]]:
    """The total and one row per institution with enrolments in scope, most enrolments first."""
    counts = _stage_counts(TrainingClass.institution_id, county_codes, enrolled_from, enrolled_to)
    names = dict(db.session.execute(sa.select(TrainingInstitution.id, TrainingInstitution.name)
                                    .where(TrainingInstitution.id.in_(list(counts)))).all())
    rows = [FunnelRow(institution_id, names[institution_id], **figures)
            for institution_id, figures in counts.items()]
    rows.sort(key=lambda row: (-row.enrolled, row.name))
    total = FunnelRow(None, "合计")
    for row in rows:
        total.add(row)
    return total, rows


def funnel_table(title: str, label: str, total: FunnelRow, rows: list[FunnelRow]) -> Table:
    """The funnel rows as a drill-down table: counts, each step's rate, the overall rate and the leaks."""
    columns = [TableColumn("name", label), TableColumn("enrolled", STAGES["enrolled"])]
    for stage, rate_label in STEP_RATES.items():
        columns += [TableColumn(stage, STAGES[stage]), TableColumn(f"{stage}_rate", rate_label, is_rate=True)]
    columns.append(TableColumn("overall_rate", "报名→取证", is_rate=True))
    columns += [TableColumn(name, leak.title) for name, leak in LEAKS.items()]

    def as_dict(row: FunnelRow) -> dict:
        values = {"key": row.key, "name": row.name, **{stage: getattr(row, stage) for stage in STAGES}}
        values |= {f"{stage}_rate": row.step_rate(stage) for stage in STEP_RATES}
        values |= {name: row.leak(name) for name in LEAKS}
        return values | {"overall_rate": rate(row.certified, row.enrolled)}

    return Table(title, columns, [as_dict(row) for row in rows], charts=("enrolled",), total=as_dict(total))


# --- the lists behind each leak -----------------------------------------------------------------------------

LEAK_HEADERS = ["姓名", "证件号码", "培训班", "培训机构", "培训地点", "报名日期", "结业日期"]
ASSESSMENT_HEADERS = ["最近认定日期", "批次状态"]


def _latest(column, *conditions) -> sa.ScalarSelect:
    """The column of the most recent assessment belonging to the enrolment (meeting the conditions)."""
    return (sa.select(column).select_from(AssessmentResult)
            .join(AssessmentBatch, AssessmentBatch.id == AssessmentResult.batch_id)
            .where(_belongs_to_enrolment(), *conditions)
            .order_by(AssessmentBatch.assessed_on.desc(), AssessmentBatch.id.desc())
            .limit(1).scalar_subquery())


def _leak_statement(leak: str, county_codes, institution_id, enrolled_from, enrolled_to,
                    columns: list) -> sa.Select:
    condition = sa.and_(REACHED[LEAKS[leak].reached], sa.not_(REACHED[LEAKS[leak].missed]))
    statement = _enrolments(sa.select(*columns), county_codes, institution_id, enrolled_from, enrolled_to)
    return statement.where(condition)


def leak_count(leak: str, county_codes: list[str] | None = None, institution_id: int | None = None,
               enrolled_from: date | None = None, enrolled_to: date | None = None) -> int:
    statement = _leak_statement(leak, county_codes, institution_id, enrolled_from, enrolled_to,
                                [sa.func.count(Enrollment.id)])
    return db.session.scalar(statement) or 0


def leak_rows(leak: str, county_codes: list[str] | None = None, institution_id: int | None = None,
              enrolled_from: date | None = None, enrolled_to: date | None = None,
              limit: int | None = None, offset: int = 0) -> list[list]:
    """A leak's enrolments as rows under leak_headers(leak), oldest first; ID numbers masked."""
    passed_only = (IS_PASSED,) if leak == "uncertified" else ()
    columns = [Person.name, Person.document_masked, TrainingClass.name, TrainingInstitution.name, County.name,
               Enrollment.enrolled_on, Enrollment.completed_on]
    if leak != "never_assessed":
        columns += [_latest(AssessmentBatch.assessed_on, *passed_only),
                    _latest(AssessmentBatch.status, *passed_only)]
    statement = (_leak_statement(leak, county_codes, institution_id, enrolled_from, enrolled_to,
                                 columns)
                 .join(Person, Person.id == Enrollment.person_id)
                 .join(TrainingInstitution, TrainingInstitution.id == TrainingClass.institution_id)
                 .join(County, County.code == TrainingClass.county_code)
                 .order_by(Enrollment.enrolled_on, Enrollment.id).limit(limit).offset(offset))
    rows = []
    for row in db.session.execute(statement):
        values = list(row[:len(columns)])
        if leak != "never_assessed" and values[-1] is not None:
            values[-1] = BatchStatus(values[-1]).label
        rows.append(values)
    return rows


def leak_headers(leak: str) -> list[str]:
    return LEAK_HEADERS + (ASSESSMENT_HEADERS if leak != "never_assessed" else [])
