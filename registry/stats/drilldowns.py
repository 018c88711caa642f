"""The cockpit's drill-downs: one named read-only query per breakdown, each returning a table of plain rows.

Every query counts straight from the raw tables with grouped SQL, under the definitions of docs/STATISTICS.md:
- holders are distinct persons with a valid certificate of the chosen kinds issued in the date range, counted
  in the county of their person record; certificates are counted by issue date, in the holder's county;
- training is counted in 人次 in the class's county by enrolment date, as registry.training.queries does;
- assessments (认定人次) in the candidate's county of record by the batch's assessment date.
Parameters are plain: county codes (None = the whole city), an inclusive date range (None = open), the
certificate kinds (None = the counted kinds of the cockpit).
"""
from collections import Counter, defaultdict
from collections.abc import Collection
from datetime import date

import sqlalchemy as sa

from registry.assessment.models import AssessmentBatch, AssessmentResult
from registry.certificates.models import Certificate, CertificateKind, CertificateStatus
from registry.core.db import db
from registry.people.models import KEY_GROUP_LABELS, Person
from registry.stats.drilldown_tables import (NO_GROUP, Table, agency_table, institution_table, key_group_table,
                                            level_table, month_table, occupation_table, program_table)
from registry.stats.tally import LEVELLED_KINDS, counted_kinds
from registry.training.models import Enrollment, EnrollmentStatus, TrainingClass

DEFAULT_TOP = 20
MAX_TOP = 100


# --- shared conditions --------------------------------------------------------------------------------------

def _kinds(kinds: Collection[CertificateKind] | None) -> list[CertificateKind]:
    return sorted(counted_kinds() if kinds is None else kinds)


def _certificates(statement: sa.Select, county_codes, date_from, date_to, kinds,
                  status: CertificateStatus = CertificateStatus.VALID) -> sa.Select:
    """Certificates of the kinds and status, issued in the range, of persons recorded in the counties."""
    statement = (statement.select_from(Certificate).join(Person, Person.id == Certificate.person_id)
                 .where(Certificate.status == status, Certificate.kind.in_(_kinds(kinds))))
    if county_codes is not None:
        statement = statement.where(Person.county_code.in_(county_codes))
    return _in_range(statement, Certificate.issued_on, date_from, date_to)


def _enrolments(statement: sa.Select, county_codes, date_from, date_to) -> sa.Select:
    """Enrolments made in the range in classes held in the counties."""
    statement = (statement.select_from(Enrollment)
                 .join(TrainingClass, TrainingClass.id == Enrollment.class_id)
                 .join(Person, Person.id == Enrollment.person_id))
    if county_codes is not None:
        statement = statement.where(TrainingClass.county_code.in_(county_codes))
    return _in_range(statement, Enrollment.enrolled_on, date_from, date_to)


def _in_range(statement: sa.Select, column, date_from, date_to) -> sa.Select:
    if date_from is not None:
        statement = statement.where(column >= date_from)
    if date_to is not None:
        statement = statement.where(column <= date_to)
    return statement


def _count_if(condition) -> sa.ColumnElement[int]:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


IS_COMPLETED = Enrollment.status == EnrollmentStatus.COMPLETED
TRAINING_SUMS = (sa.func.count(Enrollment.id).label("enrolments"),
                 _count_if(IS_COMPLETED).label("completions"),
                 _count_if(TrainingClass.is_subsidised.is_(True)).label("subsidised"))


# --- by level -----------------------------------------------------------------------------------------------

def holders_by_level(county_codes: list[str] | None = None, date_from: date | None = None,
                     date_to: date | None = None, kinds: Collection[CertificateKind] | None = None) -> Table:
    """Holders by their best valid level (the rows add up to all holders) and valid certificates by level."""
    levelled = [kind for kind in _kinds(kinds) if kind in LEVELLED_KINDS]
    has_level = sa.false()
    if levelled:
        has_level = sa.and_(Certificate.kind.in_(levelled), Certificate.level.between(1, 5))
    best = _certificates(sa.select(Certificate.person_id, sa.func.min(Certificate.level).label("level")),
                         county_codes, date_from, date_to, kinds).where(has_level)
    best = best.group_by(Certificate.person_id).subquery()
    holders_at = dict(db.session.execute(sa.select(best.c.level, sa.func.count())
                                         .group_by(best.c.level)).all())
    level_or_none = sa.case((has_level, Certificate.level), else_=None).label("level")
    certificates_at = dict(db.session.execute(
        _certificates(sa.select(level_or_none, sa.func.count()), county_codes, date_from, date_to, kinds)
        .group_by(level_or_none)).all())
    everyone = sa.select(sa.func.count(sa.distinct(Certificate.person_id)))
    all_holders = db.session.scalar(_certificates(everyone, county_codes, date_from, date_to, kinds)) or 0
    return level_table(holders_at, certificates_at, all_holders)


# --- by occupation ------------------------------------------------------------------------------------------

def by_occupation(county_codes: list[str] | None = None, date_from: date | None = None,
                  date_to: date | None = None, kinds: Collection[CertificateKind] | None = None,
                  top: int = DEFAULT_TOP) -> Table:
    """The `top` occupations by holders (then by training 人次): holders, valid certificates, training 人次."""
    certified = _certificates(
        sa.select(Certificate.occupation_id, sa.func.count(sa.distinct(Certificate.person_id)),
                  sa.func.count(Certificate.id)), county_codes, date_from, date_to, kinds)
    figures: dict[int | None, Counter] = defaultdict(Counter)
    for occupation_id, holders, certificates in db.session.execute(
            certified.group_by(Certificate.occupation_id)):
        figures[occupation_id].update(holders=holders, certificates=certificates)
    trained = _enrolments(sa.select(TrainingClass.occupation_id, sa.func.count(Enrollment.id)),
                          county_codes, date_from, date_to)
    for occupation_id, enrolments in db.session.execute(trained.group_by(TrainingClass.occupation_id)):
        figures[occupation_id]["enrolments"] += enrolments
    return occupation_table(figures, top)


# --- by key group -------------------------------------------------------------------------------------------

def by_key_group(county_codes: list[str] | None = None, date_from: date | None = None,
                 date_to: date | None = None, kinds: Collection[CertificateKind] | None = None) -> Table:
    """Holders and training 人次 of each key group (重点群体), and of persons in none."""
    holders = _certificates(sa.select(Person.id, Person.key_groups), county_codes, date_from, date_to, kinds)
    holders = holders.distinct().subquery()
    groups = [*(int(group) for group in KEY_GROUP_LABELS), NO_GROUP]
    in_group = {group: holders.c.key_groups.op("&")(group) != 0 for group in groups[:-1]}
    in_group[NO_GROUP] = holders.c.key_groups == 0
    held = db.session.execute(sa.select(*[_count_if(condition) for condition in in_group.values()])).one()
    person_in = {group: Person.key_groups.op("&")(group) != 0 for group in groups[:-1]}
    person_in[NO_GROUP] = Person.key_groups == 0
    sums = []
    for condition in person_in.values():
        sums += [_count_if(condition), _count_if(sa.and_(condition, IS_COMPLETED))]
    trained = db.session.execute(_enrolments(sa.select(*sums), county_codes, date_from, date_to)).one()
    figures = {group: Counter(holders=held[index], enrolments=trained[2 * index],
                              completions=trained[2 * index + 1]) for index, group in enumerate(groups)}
    return key_group_table(figures)


# --- by program ---------------------------------------------------------------------------------------------

def training_by_program(county_codes: list[str] | None = None, date_from: date | None = None,
                        date_to: date | None = None) -> Table:
    """Training 人次 per programme (专项工程) of the class, and of classes outside every programme."""
    statement = _enrolments(sa.select(TrainingClass.program_key, *TRAINING_SUMS),
                            county_codes, date_from, date_to)
    figures = {row.program_key: row._asdict() for row in db.session.execute(
        statement.group_by(TrainingClass.program_key))}
    return program_table(figures)


# --- by agency ----------------------------------------------------------------------------------------------

def by_agency(county_codes: list[str] | None = None, date_from: date | None = None,
              date_to: date | None = None, kinds: Collection[CertificateKind] | None = None) -> Table:
    """Per recognition agency: 认定人次 and passes, valid and revoked certificates, distinct holders."""
    figures: dict[int | None, Counter] = defaultdict(Counter)
    assessed = (sa.select(AssessmentBatch.agency_id, sa.func.count(AssessmentResult.id),
                          _count_if(AssessmentResult.is_passed.is_(True)))
                .select_from(AssessmentResult)
                .join(AssessmentBatch, AssessmentBatch.id == AssessmentResult.batch_id)
                .join(Person, Person.id == AssessmentResult.person_id))
    if county_codes is not None:
        assessed = assessed.where(Person.county_code.in_(county_codes))
    assessed = _in_range(assessed, AssessmentBatch.assessed_on, date_from, date_to)
    for agency_id, results, passes in db.session.execute(assessed.group_by(AssessmentBatch.agency_id)):
        figures[agency_id].update(assessed=results, passed=passes)
    valid = _certificates(sa.select(Certificate.agency_id, sa.func.count(Certificate.id),
                                    sa.func.count(sa.distinct(Certificate.person_id))),
                          county_codes, date_from, date_to, kinds)
    for agency_id, certificates, holders in db.session.execute(valid.group_by(Certificate.agency_id)):
        figures[agency_id].update(certificates=certificates, holders=holders)
    revoked = _certificates(sa.select(Certificate.agency_id, sa.func.count(Certificate.id)),
                            county_codes, date_from, date_to, kinds, CertificateStatus.REVOKED)
    for agency_id, certificates in db.session.execute(revoked.group_by(Certificate.agency_id)):
        figures[agency_id]["revoked"] += certificates
    return agency_table(figures)


# --- by institution -----------------------------------------------------------------------------------------

def training_by_institution(county_codes: list[str] | None = None, date_from: date | None = None,
                            date_to: date | None = None) -> Table:
    """Per training institution with enrolments in the range: classes, 人次, completions, subsidised 人次."""
    statement = _enrolments(
        sa.select(TrainingClass.institution_id, sa.func.count(sa.distinct(TrainingClass.id)).label("classes"),
                  *TRAINING_SUMS), county_codes, date_from, date_to)
    figures = {row.institution_id: row._asdict() for row in db.session.execute(
        statement.group_by(TrainingClass.institution_id))}
    return institution_table(figures)


# --- by month -----------------------------------------------------------------------------------------------

def by_month(county_codes: list[str] | None = None, date_from: date | None = None,
             date_to: date | None = None, kinds: Collection[CertificateKind] | None = None) -> Table:
    """Per calendar month of the range: new holders, valid certificates issued, training 人次 and completions.

    A new holder is counted in the month of their first valid certificate ever (of the kinds), so the months
    add up to the growth in holders over the range. Without a start date the table starts at the first month
    with data.
    """
    first = _certificates(sa.select(Certificate.person_id, sa.func.min(Certificate.issued_on).label("day")),
                          county_codes, None, date_to, kinds).group_by(Certificate.person_id).subquery()
    new_holders = _in_range(sa.select(first.c.day, sa.func.count()), first.c.day, date_from, date_to)
    figures: dict[str, Counter] = defaultdict(Counter)
    for day, count in db.session.execute(new_holders.group_by(first.c.day)):
        figures[_month(day)]["new_holders"] += count
    issued = _certificates(sa.select(Certificate.issued_on, sa.func.count()),
                           county_codes, date_from, date_to, kinds)
    for day, count in db.session.execute(issued.group_by(Certificate.issued_on)):
        figures[_month(day)]["certificates"] += count
    trained = _enrolments(
        sa.select(Enrollment.enrolled_on, sa.func.count(Enrollment.id), _count_if(IS_COMPLETED)),
        county_codes, date_from, date_to)
    for day, enrolments, completions in db.session.execute(trained.group_by(Enrollment.enrolled_on)):
        figures[_month(day)].update(enrolments=enrolments, completions=completions)
    return month_table(figures, date_from, date_to)


def _month(day: date | str) -> str:
    return (day.isoformat() if isinstance(day, date) else str(day))[:7]


