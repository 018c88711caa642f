"""The cockpit's running totals: what each person and class adds, per county and day, and their sums."""
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from registry.core.db import db

# Cumulative by level: level_3 counts the persons whose best valid level is 三级 or better.
MEASURES = (
    "holders", "level_1", "level_2", "level_3", "level_4", "level_5",
    "certificates_valid", "certificates_revoked",
    "enrolments", "completions", "subsidised_enrolments", "rural_enrolments",
    "apprentice_enrolments", "rural_trained", "rural_trained_once",
    "certificates_level_1", "certificates_level_2", "certificates_level_3", "certificates_level_4",
    "certificates_level_5",
)


class Measures:
    holders: Mapped[int] = mapped_column(default=0)
    level_1: Mapped[int] = mapped_column(default=0)
    level_2: Mapped[int] = mapped_column(default=0)
    level_3: Mapped[int] = mapped_column(default=0)
    level_4: Mapped[int] = mapped_column(default=0)
    level_5: Mapped[int] = mapped_column(default=0)
    certificates_valid: Mapped[int] = mapped_column(default=0)
    certificates_revoked: Mapped[int] = mapped_column(default=0)
    enrolments: Mapped[int] = mapped_column(default=0)
    completions: Mapped[int] = mapped_column(default=0)
    subsidised_enrolments: Mapped[int] = mapped_column(default=0)
    rural_enrolments: Mapped[int] = mapped_column(default=0)
    apprentice_enrolments: Mapped[int] = mapped_column(default=0)
    # The plan counts rural-labour training in persons: once per county they trained in, and once city-wide
    # (in the county of their first class), since 2021. A sum over counties would count a person twice.
    rural_trained: Mapped[int] = mapped_column(default=0)
    rural_trained_once: Mapped[int] = mapped_column(default=0)
    # Valid certificates of each level (levelled kinds only), for the level drill-down; unlike level_k these
    # count certificates, not persons, and are not cumulative.
    certificates_level_1: Mapped[int] = mapped_column(default=0)
    certificates_level_2: Mapped[int] = mapped_column(default=0)
    certificates_level_3: Mapped[int] = mapped_column(default=0)
    certificates_level_4: Mapped[int] = mapped_column(default=0)
    certificates_level_5: Mapped[int] = mapped_column(default=0)


class CoverageEntry(Measures, db.Model):
    """统计明细 — what one source (a person's certificates, or a training class) adds to a county on a day.

    Kept so that when the source changes, exactly what it added before can be taken back from the totals.
    """

    __tablename__ = "coverage_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(sa.String(10))  # "person" or "class"
    source_id: Mapped[int]
    county_code: Mapped[str] = mapped_column(sa.String(6))
    day: Mapped[date]

    __table_args__ = (sa.Index("ix_coverage_entries_source", "source", "source_id"),)


class CoverageDay(Measures, db.Model):
    """统计日汇总 — the sum of every entry for one county and day; a figure "as of" a date adds these up."""

    __tablename__ = "coverage_days"

    county_code: Mapped[str] = mapped_column(sa.String(6), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)


class CoverageMonth(Measures, db.Model):
    """统计月汇总 — the day totals of one county added up per calendar month (`month` is its first day).

    A figure as of a date adds the whole months before it and the days of its own month: a few hundred rows
    however long the registry has run, where the day totals alone grow with every active day.
    """

    __tablename__ = "coverage_months"

    county_code: Mapped[str] = mapped_column(sa.String(6), primary_key=True)
    month: Mapped[date] = mapped_column(primary_key=True)


# --- the training-to-certificate funnel (registry/stats/funnel.py) ------------------------------------------

class FunnelStage(db.Model):
    """漏斗阶段 — how far one enrolment has come (0 enrolled … 4 certified), with what the funnel groups by.

    Kept per enrolment so that a change takes back exactly the stage it counted before, and so that each leak
    list walks one index in its own order (stage, county or institution, enrolment day, id).
    """

    __tablename__ = "funnel_stages"

    enrollment_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    person_id: Mapped[int] = mapped_column(index=True)
    class_id: Mapped[int] = mapped_column(index=True)
    county_code: Mapped[str] = mapped_column(sa.String(6))
    institution_id: Mapped[int]
    enrolled_on: Mapped[date]
    stage: Mapped[int] = mapped_column(sa.SmallInteger)

    __table_args__ = (
        sa.Index("ix_funnel_stages_walk", "stage", "enrolled_on", "enrollment_id"),
        sa.Index("ix_funnel_stages_county_walk", "stage", "county_code", "enrolled_on", "enrollment_id"),
        # county_code last: an official's list of one institution filters on it inside the index
        sa.Index("ix_funnel_stages_institution_walk", "stage", "institution_id", "enrolled_on",
                 "enrollment_id", "county_code"),
    )


class FunnelTotals:
    county_code: Mapped[str] = mapped_column(sa.String(6), primary_key=True)
    institution_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    stage: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True)
    enrolments: Mapped[int] = mapped_column(default=0)


class FunnelDay(FunnelTotals, db.Model):
    """漏斗日汇总 — enrolments of one county and institution enrolled on one day that stopped at one stage."""

    __tablename__ = "funnel_days"

    day: Mapped[date] = mapped_column(primary_key=True)

    # A leak list's count sums one stage (registry.stats.funnel.leak_count).
    __table_args__ = (sa.Index("ix_funnel_days_stage", "stage", "day", "enrolments"),)


class FunnelMonth(FunnelTotals, db.Model):
    """漏斗月汇总 — the day totals added up per calendar month (`month` is its first day)."""

    __tablename__ = "funnel_months"

    month: Mapped[date] = mapped_column(primary_key=True)

    __table_args__ = (sa.Index("ix_funnel_months_stage", "stage", "month", "enrolments"),)


class FunnelAllTime(FunnelTotals, db.Model):
    """漏斗累计汇总 — the month totals added up over all time: what the funnel reads when no enrolment dates are
    chosen, a row per county, institution and stage however many months the registry spans."""

    __tablename__ = "funnel_all_time"


# --- the drill-downs' breakdowns (registry/stats/kept_tables.py) ----------------------------------------------

BREAKDOWN_MEASURES = ("holders", "certificates_valid", "certificates_revoked", "assessed", "passed",
                      "enrolments", "completions", "subsidised", "classes")


class BreakdownSource(db.Model):
    """分项统计明细 — what one source (a person or a training class) adds to the drill-downs' breakdowns.

    One row per source, its contribution as JSON ([dimension, value, county, day, {measure: n}] items), so a
    change takes back exactly what the source added before.
    """

    __tablename__ = "breakdown_sources"

    source: Mapped[str] = mapped_column(sa.String(10), primary_key=True)  # "person" or "class"
    source_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    contribution: Mapped[list] = mapped_column(sa.JSON)


class BreakdownMeasures:
    # The drill-down it belongs to ("occupation", "key_group", "program", "agency", "institution") and the
    # value there, as text: an id, a programme key, a key group's bit, or "" for none.
    dimension: Mapped[str] = mapped_column(sa.String(12), primary_key=True)
    value: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    county_code: Mapped[str] = mapped_column(sa.String(6), primary_key=True)
    holders: Mapped[int] = mapped_column(default=0)
    certificates_valid: Mapped[int] = mapped_column(default=0)
    certificates_revoked: Mapped[int] = mapped_column(default=0)
    assessed: Mapped[int] = mapped_column(default=0)
    passed: Mapped[int] = mapped_column(default=0)
    enrolments: Mapped[int] = mapped_column(default=0)
    completions: Mapped[int] = mapped_column(default=0)
    subsidised: Mapped[int] = mapped_column(default=0)
    classes: Mapped[int] = mapped_column(default=0)


class BreakdownDay(BreakdownMeasures, db.Model):
    """分项日汇总 — per drill-down value, county and day, the sum of every source's contribution."""

    __tablename__ = "breakdown_days"

    day: Mapped[date] = mapped_column(primary_key=True)


class BreakdownMonth(BreakdownMeasures, db.Model):
    """分项月汇总 — the day totals added up per calendar month (`month` is its first day)."""

    __tablename__ = "breakdown_months"

    month: Mapped[date] = mapped_column(primary_key=True)
