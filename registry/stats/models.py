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
