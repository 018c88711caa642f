"""Recompute every total from the raw tables: to check the kept totals, or to replace them."""
from collections import Counter, defaultdict
from dataclasses import dataclass

import sqlalchemy as sa

from registry.certificates.models import Certificate
from registry.core import row_counts
from registry.core.db import db
from registry.core.models import Setting
from registry.stats import breakdown_tally, funnel_tally, tally
from registry.stats.models import (BREAKDOWN_MEASURES, MEASURES, BreakdownDay, BreakdownMonth, CoverageDay,
                                   CoverageEntry, CoverageMonth, FunnelAllTime, FunnelDay, FunnelMonth)
from registry.training.models import Enrollment, TrainingClass

# Set by a migration that adds a kept measure to a registry with data (0020): the totals need one recount.
RECOUNT_NEEDED = "stats_recount_needed"


@dataclass
class Difference:
    county_code: str
    day: object
    measure: str
    kept: int | str  # a funnel stage that is kept or recounted for no enrolment reads "无"
    recounted: int | str


def sources() -> tuple[list[int], list[int]]:
    """Every person with a certificate, a rural-labour enrolment or a kept entry, and every class."""
    persons = set(db.session.scalars(sa.select(Certificate.person_id).distinct())) | tally.rural_trainees()
    persons |= set(db.session.scalars(sa.select(CoverageEntry.source_id).where(CoverageEntry.source == "person")
                                      .distinct()))
    classes = list(db.session.scalars(sa.select(TrainingClass.id)))
    return sorted(persons), classes


def recount() -> tally.Contribution:
    persons, classes = sources()
    totals: tally.Contribution = defaultdict(Counter)
    for contributions in (tally.person_contributions(persons), tally.class_contributions(classes)):
        for _source_id, contribution in contributions:
            for key, counts in contribution.items():
                totals[key].update(counts)
    return totals


def kept() -> tally.Contribution:
    totals: tally.Contribution = defaultdict(Counter)
    for row in db.session.execute(sa.select(CoverageDay.__table__)).mappings():
        totals[row["county_code"], row["day"]].update({measure: row[measure] for measure in MEASURES})
    return totals


def kept_months() -> tally.Contribution:
    totals: tally.Contribution = defaultdict(Counter)
    for row in db.session.execute(sa.select(CoverageMonth.__table__)).mappings():
        totals[row["county_code"], row["month"]].update({measure: row[measure] for measure in MEASURES})
    return totals


def differences() -> list[Difference]:
    """Where the kept day or month totals differ from a recount; an empty list when they agree."""
    recounted = recount()
    recounted_months: tally.Contribution = defaultdict(Counter)
    for (county_code, day), counts in recounted.items():
        recounted_months[county_code, day.replace(day=1)].update(counts)
    return (_compare(recounted, kept()) + _compare(recounted_months, kept_months())
            + breakdown_differences() + funnel_differences() + row_count_differences()
            + stored_county_differences())


_CLASS_COUNTY = sa.select(TrainingClass.county_code).where(TrainingClass.id == Enrollment.class_id).scalar_subquery()


def stored_county_differences() -> list[Difference]:
    """Enrolments whose stored class county (the county lists read it) differs from their class's."""
    rows = db.session.execute(sa.select(Enrollment.id, Enrollment.class_county_code, _CLASS_COUNTY.label("county"))
                              .where(Enrollment.class_county_code.is_distinct_from(_CLASS_COUNTY))
                              .order_by(Enrollment.id))
    return [Difference(row.county, "—", f"参训记录所存培训地点（参训记录 {row.id}）", row.class_county_code or "无",
                       row.county) for row in rows]


def row_count_differences() -> list[Difference]:
    """Where a table's kept row count (the lists' totals) differs from counting it."""
    return [Difference("全市", "—", f"表行数（{table_name}）", kept, counted)
            for table_name, kept, counted in row_counts.differences()]


def breakdown_differences() -> list[Difference]:
    """Where the drill-downs' kept day or month breakdowns differ from a recount."""
    found = []
    days, months = breakdown_tally.recount()
    for period, counted, stored in (("日", days, breakdown_tally.kept(BreakdownDay)),
                                    ("月", months, breakdown_tally.kept(BreakdownMonth))):
        for key in sorted(set(counted) | set(stored)):
            dimension, value, county_code, day = key
            for measure in BREAKDOWN_MEASURES:
                if counted[key][measure] != stored[key][measure]:
                    found.append(Difference(county_code, day, f"分项{period}汇总（{dimension} {value or '无'}，{measure}）",
                                            stored[key][measure], counted[key][measure]))
    return found


def funnel_differences() -> list[Difference]:
    """Where the funnel's kept stages or its day and month totals differ from a recount."""
    found = [Difference(county_code, day, f"漏斗阶段（报名记录 {enrollment_id}）", _or_none(kept_stage),
                        _or_none(recounted_stage))
             for enrollment_id, day, county_code, kept_stage, recounted_stage
             in funnel_tally.stage_differences()]
    recounted = funnel_tally.recount()
    for period, model, counted in (("日", FunnelDay, recounted),
                                   ("月", FunnelMonth, funnel_tally.by_month(recounted)),
                                   ("累计", FunnelAllTime, funnel_tally.all_time(recounted))):
        stored = funnel_tally.kept_totals(model)
        for key in sorted(set(stored) | set(counted)):
            if stored[key] != counted[key]:
                county_code, institution_id, day, stage = key
                measure = f"漏斗{period}汇总（培训机构 {institution_id}，阶段 {stage}）"
                found.append(Difference(county_code, day or "—", measure, stored[key], counted[key]))
    return found


def _or_none(stage: int | None) -> int | str:
    return "无" if stage is None else stage


def _compare(recounted: tally.Contribution, stored: tally.Contribution) -> list[Difference]:
    found = []
    for key in sorted(set(recounted) | set(stored)):
        for measure in MEASURES:
            if recounted[key][measure] != stored[key][measure]:
                found.append(Difference(key[0], key[1], measure, stored[key][measure], recounted[key][measure]))
    return found


def rebuild() -> None:
    """Throw the kept totals away and build them again from the raw tables, in the caller's transaction."""
    db.session.execute(sa.delete(CoverageEntry))
    db.session.execute(sa.delete(CoverageDay))
    db.session.execute(sa.delete(CoverageMonth))
    db.session.execute(sa.delete(Setting).where(Setting.key == RECOUNT_NEEDED))
    tally.rebuild(*sources())
    breakdown_tally.rebuild()
    funnel_tally.rebuild()
    row_counts.reset()
    db.session.execute(sa.update(Enrollment).where(Enrollment.class_county_code.is_distinct_from(_CLASS_COUNTY))
                       .values(class_county_code=_CLASS_COUNTY).execution_options(synchronize_session=False))


def rebuild_if_missing() -> bool:
    """Build the totals of a database that had data before they existed (migration 0004), or before a measure
    was added to them (the migration left RECOUNT_NEEDED); True if it did."""
    stale = db.session.get(Setting, RECOUNT_NEEDED) is not None
    has_totals = db.session.scalar(sa.select(sa.func.count()).select_from(CoverageDay)) > 0
    has_data = db.session.scalar(sa.select(sa.exists().where(Certificate.id.isnot(None)))) or \
        db.session.scalar(sa.select(sa.exists().where(Enrollment.id.isnot(None))))
    if (has_totals and not stale) or not has_data:
        return False
    rebuild()
    return True
