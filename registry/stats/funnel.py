"""The training-to-certificate funnel — enrolled → completed → assessed → passed → certified — per county and
per institution, and the enrolments behind each leak. Read-only; docs/STATISTICS.md defines every stage.

The unit is the enrolment (人次) in a class held in the county, enrolled in the date range. Stages are nested:
an enrolment is "assessed" only if it was also completed, so each rate is a share of the stage before.
An assessment belongs to an enrolment when the batch is linked to the enrolment's class
(AssessmentBatch.training_class_id); a batch linked to no class belongs to every enrolment of the same person
in a class of the batch's occupation enrolled on or before the assessment date.
"""
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa

from registry.assessment.models import AssessmentBatch, AssessmentResult, BatchStatus
from registry.certificates.models import Certificate
from registry.core.db import db
from registry.organizations.models import TrainingInstitution
from registry.people.models import Person
from registry.reference.models import County
from registry.reference.queries import current_counties
from registry.stats.models import FunnelAllTime, FunnelDay, FunnelMonth, FunnelStage
from registry.stats.drilldown_tables import Table, TableColumn, rate
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


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _periods(enrolled_from: date | None, enrolled_to: date | None) -> list[tuple[type, sa.ColumnElement]]:
    """(kept totals, condition) that together cover the date range once: whole months from the month totals,
    the days before the first and after the last whole month from the day totals; no range, the all-time
    totals (a row per county, institution and stage: the month totals grow with the months the registry
    spans, 3,488 rows at 100k persons and 12,948 at 1.35M)."""
    if enrolled_from is None and enrolled_to is None:
        return [(FunnelAllTime, sa.true())]
    first = enrolled_from if enrolled_from is None or enrolled_from.day == 1 else _next_month(enrolled_from)
    end = None  # the first day after the last whole month
    if enrolled_to is not None:
        is_month_end = _next_month(enrolled_to) - timedelta(days=1) == enrolled_to
        end = _next_month(enrolled_to) if is_month_end else enrolled_to.replace(day=1)
    if first is not None and end is not None and first >= end:  # within one month: days only
        return [(FunnelDay, FunnelDay.day.between(enrolled_from, enrolled_to))]
    months = []
    if first is not None:
        months.append(FunnelMonth.month >= first)
    if end is not None:
        months.append(FunnelMonth.month < end)
    periods = [(FunnelMonth, sa.and_(sa.true(), *months))]
    if enrolled_from is not None and first != enrolled_from:
        periods.append((FunnelDay, sa.and_(FunnelDay.day >= enrolled_from, FunnelDay.day < first)))
    if enrolled_to is not None and end <= enrolled_to:
        periods.append((FunnelDay, sa.and_(FunnelDay.day >= end, FunnelDay.day <= enrolled_to)))
    return periods


def stopped_at(group: str, county_codes, enrolled_from, enrolled_to,
               institution_id: int | None = None, stage: int | None = None) -> dict:
    """key → {stage: enrolments that stopped there}, from the kept totals (registry.stats.funnel_tally);
    key is the county code or institution id (group), or None for group "all". With `stage`, that stage's
    rows alone are summed (the others read 0)."""
    counts: dict = {}
    for model, condition in _periods(enrolled_from, enrolled_to):
        keys = [] if group == "all" else [getattr(model, group)]
        statement = (sa.select(*keys, model.stage, sa.func.sum(model.enrolments)).where(condition)
                     .group_by(*keys, model.stage))
        if county_codes is not None:
            statement = statement.where(model.county_code.in_(county_codes))
        if institution_id is not None:
            statement = statement.where(model.institution_id == institution_id)
        if stage is not None:
            statement = statement.where(model.stage == stage)
        for row in db.session.execute(statement):
            *row_key, stage, enrolments = row
            stages = counts.setdefault(row_key[0] if row_key else None, dict.fromkeys(range(len(STAGES)), 0))
            stages[stage] += int(enrolments or 0)
    return counts


def _stage_counts(group: str, county_codes, enrolled_from, enrolled_to) -> dict:
    """key → {stage: enrolments that reached it}: those that stopped there or further on."""
    reached = {}
    for key, stopped in stopped_at(group, county_codes, enrolled_from, enrolled_to).items():
        reached[key] = {stage: sum(stopped[number] for number in range(index, len(STAGES)))
                        for index, stage in enumerate(STAGES)}
    return reached


def funnel_by_county(county_codes: list[str] | None = None, enrolled_from: date | None = None,
                     enrolled_to: date | None = None) -> tuple[FunnelRow, list[FunnelRow]]:
    """The total and one row per current county in scope (zeros included), by the class's county."""
    counts = _stage_counts("county_code", county_codes, enrolled_from, enrolled_to)
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
    counts = _stage_counts("institution_id", county_codes, enrolled_from, enrolled_to)
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


Cursor = tuple[date, int]  # (enrolment day, enrolment id): where a page of a leak list starts or ends
PER_PAGE = 50


def leak_count(leak: str, county_codes: list[str] | None = None, institution_id: int | None = None,
               enrolled_from: date | None = None, enrolled_to: date | None = None) -> int:
    """From the kept totals: the enrolments that reached the leak's stage and went no further; that stage's
    totals alone, over their index (summing every stage's grew with the registry: 0.7 → 1.8 ms from 100k to
    1.35M on SQLite)."""
    stage = list(STAGES).index(LEAKS[leak].reached)
    stopped = stopped_at("all", county_codes, enrolled_from, enrolled_to, institution_id, stage=stage)
    return stopped.get(None, {}).get(stage, 0)


def _leak_walk(leak: str, county_codes, institution_id, enrolled_from, enrolled_to) -> sa.Select:
    """The leak's enrolments in funnel_stages, narrowed; the ix_funnel_stages_*walk indexes hold them in
    the list's order."""
    statement = sa.select(FunnelStage.enrolled_on, FunnelStage.enrollment_id).where(
        FunnelStage.stage == list(STAGES).index(LEAKS[leak].reached))
    if county_codes is not None:
        statement = statement.where(FunnelStage.county_code.in_(county_codes))
    if institution_id is not None:
        statement = statement.where(FunnelStage.institution_id == institution_id)
    if enrolled_from is not None:
        statement = statement.where(FunnelStage.enrolled_on >= enrolled_from)
    if enrolled_to is not None:
        statement = statement.where(FunnelStage.enrolled_on <= enrolled_to)
    return statement


def leak_page(leak: str, county_codes: list[str] | None = None, institution_id: int | None = None,
              enrolled_from: date | None = None, enrolled_to: date | None = None, *, limit: int = PER_PAGE,
              after: Cursor | None = None, before: Cursor | None = None, offset: int = 0,
              from_end: bool = False) -> list[Cursor]:
    """One page of the leak, oldest first, by keyset: the `limit` enrolments after a cursor, before one, or
    `offset` from either end of the list; each step walks the index, never the enrolments before it."""
    walk = _leak_walk(leak, county_codes, institution_id, enrolled_from, enrolled_to)
    day, number = FunnelStage.enrolled_on, FunnelStage.enrollment_id
    if after is not None:
        walk = walk.where(day >= after[0], sa.or_(day > after[0], number > after[1]))
    if before is not None:
        walk = walk.where(day <= before[0], sa.or_(day < before[0], number < before[1]))
        from_end = True
    order = (day.desc(), number.desc()) if from_end else (day, number)
    statement = walk.order_by(*order).limit(limit).offset(offset)
    cursors = [(row[0], row[1]) for row in db.session.execute(statement)]
    return cursors[::-1] if from_end else cursors


def page_cursors(leak: str, county_codes: list[str] | None, institution_id: int | None,
                 enrolled_from: date | None, enrolled_to: date | None, page: int, total: int,
                 per_page: int = PER_PAGE, after: Cursor | None = None, before: Cursor | None = None) -> list[Cursor]:
    """The enrolments of one page: a keyset step from the pager's cursor (next, previous) when there is one,
    else page number `page` of `total`, walked from whichever end of the list is nearer."""
    arguments = (leak, county_codes, institution_id, enrolled_from, enrolled_to)
    if after is not None or before is not None:
        return leak_page(*arguments, limit=per_page, after=after, before=before)
    skipped = (page - 1) * per_page
    if skipped >= total:
        return []
    if skipped <= total // 2:
        return leak_page(*arguments, limit=per_page, offset=skipped)
    end = min(skipped + per_page, total)
    return leak_page(*arguments, limit=end - skipped, offset=total - end, from_end=True)


def leak_rows(leak: str, county_codes: list[str] | None = None, institution_id: int | None = None,
              enrolled_from: date | None = None, enrolled_to: date | None = None,
              cursors: list[Cursor] | None = None) -> list[list]:
    """A leak's enrolments as rows under leak_headers(leak), oldest first; ID numbers masked. Just those
    of `cursors` (one page), or the whole list a thousand at a time (the export)."""
    if cursors is not None:
        return _rows(leak, [number for _day, number in cursors])
    return [row for chunk in leak_row_chunks(leak, county_codes, institution_id, enrolled_from, enrolled_to)
            for row in chunk]


def leak_row_chunks(leak: str, county_codes: list[str] | None = None, institution_id: int | None = None,
                    enrolled_from: date | None = None, enrolled_to: date | None = None) -> Iterator[list[list]]:
    """The whole leak as leak_rows gives it, EXPORT_CHUNK rows at a time (a long export reports progress)."""
    arguments = (leak, county_codes, institution_id, enrolled_from, enrolled_to)
    chunk = leak_page(*arguments, limit=EXPORT_CHUNK)
    while chunk:
        yield _rows(leak, [number for _day, number in chunk])
        chunk = leak_page(*arguments, limit=EXPORT_CHUNK, after=chunk[-1])


EXPORT_CHUNK = 1000


def _rows(leak: str, enrollment_ids: list[int]) -> list[list]:
    if not enrollment_ids:
        return []
    passed_only = (IS_PASSED,) if leak == "uncertified" else ()
    columns = [Enrollment.id, Person.name, Person.document_masked, TrainingClass.name,
               TrainingInstitution.name, County.name, Enrollment.enrolled_on, Enrollment.completed_on]
    if leak != "never_assessed":
        columns += [_latest(AssessmentBatch.assessed_on, *passed_only),
                    _latest(AssessmentBatch.status, *passed_only)]
    statement = (sa.select(*columns).select_from(Enrollment)
                 .join(TrainingClass, TrainingClass.id == Enrollment.class_id)
                 .join(Person, Person.id == Enrollment.person_id)
                 .join(TrainingInstitution, TrainingInstitution.id == TrainingClass.institution_id)
                 .join(County, County.code == TrainingClass.county_code)
                 .where(Enrollment.id.in_(enrollment_ids)))
    by_id = {}
    for row in db.session.execute(statement):
        values = list(row[1:])
        if leak != "never_assessed" and values[-1] is not None:
            values[-1] = BatchStatus(values[-1]).label
        by_id[row[0]] = values
    return [by_id[enrollment_id] for enrollment_id in enrollment_ids if enrollment_id in by_id]


def leak_headers(leak: str) -> list[str]:
    return LEAK_HEADERS + (ASSESSMENT_HEADERS if leak != "never_assessed" else [])
