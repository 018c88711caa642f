"""Keeping the funnel in step: each enrolment's stage (funnel_stages) and the day, month and all-time totals
per county, institution and stage, refreshed in the transaction of every write that can move an enrolment along.

An enrolment's stage depends on its class (county, institution, occupation), its own status and dates, and
its person's assessment results and certificates; so a changed class or a changed person refreshes every
enrolment of the persons concerned. The stage itself is computed by registry.stats.funnel's definitions.
"""
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import date

import sqlalchemy as sa

from registry.core.db import db
from registry.core.imports import chunks
from registry.people.models import Person
from registry.stats.funnel import REACHED, STAGES
from registry.stats.models import FunnelAllTime, FunnelDay, FunnelMonth, FunnelStage
from registry.stats.tally import upsert_adding
from registry.training.models import Enrollment, TrainingClass

CHUNK = 1000
STAGE_NUMBERS = {stage: number for number, stage in enumerate(STAGES)}  # enrolled 0 … certified 4

Key = tuple[str, int, date | None, int]  # (county code, institution id, day, stage); no day: all time


def stage_number() -> sa.ColumnElement[int]:
    """The furthest stage the enrolment reached, as its number; the stages are nested."""
    later_first = [(REACHED[stage], number) for stage, number in reversed(STAGE_NUMBERS.items()) if number]
    return sa.case(*later_first, else_=0)


def fresh_stages(*conditions) -> sa.Select:
    """Each enrolment meeting the conditions as a funnel_stages row, computed from the raw tables."""
    return (sa.select(Enrollment.id.label("enrollment_id"), Enrollment.person_id, Enrollment.class_id,
                      TrainingClass.county_code, TrainingClass.institution_id, Enrollment.enrolled_on,
                      stage_number().label("stage"))
            .select_from(Enrollment).join(TrainingClass, TrainingClass.id == Enrollment.class_id)
            .where(*conditions))


COLUMNS = ("enrollment_id", "person_id", "class_id", "county_code", "institution_id", "enrolled_on", "stage")


# --- keeping in step ----------------------------------------------------------------------------------------

def refresh(person_ids: Iterable[int], class_ids: Iterable[int]) -> None:
    """Bring the stages of every enrolment of these persons, and of everyone in these classes, up to date.

    A class's members stream a chunk at a time (a million-row roster's class has a million); a person refreshed
    twice, as a member of two classes or as one of `person_ids` too, is found unchanged the second time."""
    delta: Counter = Counter()
    for ids in chunks(sorted(set(person_ids)), CHUNK):
        delta.update(_refresh_persons(ids))
    for ids in chunks(sorted(set(class_ids)), CHUNK):
        for members in _class_members(ids):
            delta.update(_refresh_persons(members))
    add_to_totals(delta)


def _class_members(class_ids: list[int]) -> Iterator[list[int]]:
    # An enrolment gone from the class still has its kept row to take back: few, read first. The enrolments
    # stream while their stages are rewritten; the stream reads no table that the rewriting writes.
    gone = (sa.select(FunnelStage.person_id).where(FunnelStage.class_id.in_(class_ids))
            .where(~sa.exists().where(Enrollment.id == FunnelStage.enrollment_id,
                                      Enrollment.class_id == FunnelStage.class_id)))
    yield from chunks(db.session.scalars(gone).all(), CHUNK)
    enrolled = (sa.select(Enrollment.person_id).where(Enrollment.class_id.in_(class_ids))
                .execution_options(yield_per=CHUNK))
    yield from db.session.scalars(enrolled).partitions()


def _refresh_persons(ids: list[int]) -> Counter:
    # Two transactions refreshing one person would both take back the same old stage: the second waits here.
    db.session.execute(sa.select(Person.id).where(Person.id.in_(ids)).with_for_update())
    stages = FunnelStage.__table__
    kept = {row.enrollment_id: tuple(row) for row in
            db.session.execute(sa.select(*(stages.c[name] for name in COLUMNS))
                               .where(stages.c.person_id.in_(ids)))}
    fresh = {row.enrollment_id: tuple(row)
             for row in db.session.execute(fresh_stages(Enrollment.person_id.in_(ids)))}
    changed = [enrollment_id for enrollment_id in kept.keys() | fresh.keys()
               if kept.get(enrollment_id) != fresh.get(enrollment_id)]
    delta: Counter = Counter()
    for enrollment_id in changed:
        if old := kept.get(enrollment_id):
            delta[_key(old)] -= 1
        if new := fresh.get(enrollment_id):
            delta[_key(new)] += 1
    if changed:
        db.session.execute(stages.delete().where(stages.c.enrollment_id.in_(sorted(changed))))
        rows = [dict(zip(COLUMNS, fresh[enrollment_id])) for enrollment_id in sorted(changed)
                if enrollment_id in fresh]
        if rows:
            db.session.execute(stages.insert(), rows)
    return delta


def _key(row: tuple) -> Key:
    values = dict(zip(COLUMNS, row))
    return values["county_code"], values["institution_id"], values["enrolled_on"], values["stage"]


def add_to_totals(delta: Counter) -> None:
    """Add to the day totals, their months and all time; keys in order, so concurrent writers lock alike."""
    _upsert(FunnelDay.__table__, "day", delta)
    _upsert(FunnelMonth.__table__, "month", by_month(delta))
    _upsert(FunnelAllTime.__table__, None, all_time(delta))


def _upsert(table: sa.Table, period: str | None, delta: Counter) -> None:
    rows = [{"county_code": county_code, "institution_id": institution_id, "stage": stage,
             "enrolments": count} | ({period: day} if period else {})
            for (county_code, institution_id, day, stage), count in sorted(delta.items()) if count]
    keys = ["county_code", "institution_id", "stage"] + ([period] if period else [])
    upsert_adding(table, keys, ["enrolments"], rows)


# --- rebuilding and checking --------------------------------------------------------------------------------

def rebuild() -> None:
    """Throw the kept stages and totals away and count them again, in the caller's transaction."""
    for model in (FunnelStage, FunnelDay, FunnelMonth, FunnelAllTime):
        db.session.execute(sa.delete(model))
    fresh = fresh_stages().subquery()
    db.session.execute(sa.insert(FunnelStage.__table__).from_select(COLUMNS, sa.select(*fresh.c)))
    stages = FunnelStage.__table__
    keys = (stages.c.county_code, stages.c.institution_id, stages.c.enrolled_on, stages.c.stage)
    rows = db.session.execute(sa.select(*keys, sa.func.count()).group_by(*keys))
    add_to_totals(Counter({(county, institution, day, stage): count
                           for county, institution, day, stage, count in rows}))


def recount() -> Counter:
    """(county, institution, day, stage) → enrolments, counted from the raw tables."""
    fresh = fresh_stages().subquery()
    rows = db.session.execute(sa.select(fresh.c.county_code, fresh.c.institution_id, fresh.c.enrolled_on,
                                        fresh.c.stage, sa.func.count())
                              .group_by(fresh.c.county_code, fresh.c.institution_id, fresh.c.enrolled_on,
                                        fresh.c.stage))
    return Counter({(county, institution, day, stage): count
                    for county, institution, day, stage, count in rows})


def kept_totals(model) -> Counter:
    """(county, institution, day, stage) → enrolments kept in `model`; the day is the month's first for the
    month totals, None for all time."""
    period = {FunnelDay: FunnelDay.day, FunnelMonth: FunnelMonth.month}.get(model, sa.null())
    rows = db.session.execute(sa.select(model.county_code, model.institution_id, period, model.stage,
                                        model.enrolments))
    return Counter({(county, institution, day, stage): count
                    for county, institution, day, stage, count in rows if count})


def by_month(totals: Counter) -> Counter:
    return _rolled_up(totals, lambda day: day.replace(day=1))


def all_time(totals: Counter) -> Counter:
    return _rolled_up(totals, lambda _day: None)


def _rolled_up(totals: Counter, period_of) -> Counter:
    """Day totals added up per the period `period_of(day)` names (None: all time)."""
    summed: Counter = Counter()
    for (county_code, institution_id, day, stage), count in totals.items():
        summed[county_code, institution_id, period_of(day), stage] += count
    return summed


def stage_differences() -> Iterator[tuple[int, date, str, int | None, int | None]]:
    """(enrolment, day, county, kept stage, recounted stage) for each enrolment whose kept row is wrong."""
    fresh = fresh_stages().subquery()
    stages = FunnelStage.__table__
    kept_columns = [stages.c[name] for name in COLUMNS]
    wrong = sa.or_(stages.c.enrollment_id.is_(None),
                   sa.tuple_(*kept_columns[1:]) != sa.tuple_(*(fresh.c[name] for name in COLUMNS[1:])))
    statement = (sa.select(fresh.c.enrollment_id, fresh.c.enrolled_on, fresh.c.county_code, stages.c.stage,
                           fresh.c.stage)
                 .outerjoin(stages, stages.c.enrollment_id == fresh.c.enrollment_id).where(wrong))
    yield from db.session.execute(statement)
    gone = (sa.select(stages.c.enrollment_id, stages.c.enrolled_on, stages.c.county_code, stages.c.stage,
                      sa.null())
            .where(~sa.exists().where(Enrollment.id == stages.c.enrollment_id)))
    yield from db.session.execute(gone)


def needs_rebuild() -> bool:
    has_stages = db.session.scalar(sa.select(sa.exists().where(FunnelStage.enrollment_id.isnot(None))))
    has_enrolments = db.session.scalar(sa.select(sa.exists().where(Enrollment.id.isnot(None))))
    return bool(has_enrolments and not has_stages)

