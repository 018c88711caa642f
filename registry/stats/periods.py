"""Sums of kept totals over an inclusive date range: the month totals for the months wholly inside it, the
day totals for the part-months at its ends, so a range costs a few hundred rows however long the registry
has run."""
from collections import Counter
from datetime import date, timedelta

import sqlalchemy as sa

from registry.core.db import db
from registry.stats.models import CoverageDay, CoverageMonth

Piece = tuple[str, date | None, date | None]  # "month" or "day", first and last (None: open)


def monthly_sums(measures: list[str], county_codes: list[str] | None, date_from: date | None,
                 date_to: date | None) -> dict[str, Counter]:
    """Each month's (“2025-06”) sums of the coverage measures over the counties and the inclusive range."""
    selects = []
    for period, first, last in pieces(date_from, date_to):
        table = (CoverageMonth if period == "month" else CoverageDay).__table__
        statement = sa.select(table.c[period].label("period"), *[sa.func.sum(table.c[measure]).label(measure)
                                                                 for measure in measures])
        statement = in_period(statement, table, period, county_codes, first, last)
        selects.append(statement.group_by(table.c[period]))
    sums: dict[str, Counter] = {}
    for row in db.session.execute(together(selects)):
        sums.setdefault(row.period.isoformat()[:7], Counter()).update(
            {measure: int(row._mapping[measure] or 0) for measure in measures})
    return sums


def together(selects: list[sa.Select]) -> sa.Select | sa.CompoundSelect:
    """The pieces' selects as one statement: on PostgreSQL each statement sent costs a round trip."""
    return selects[0] if len(selects) == 1 else sa.union_all(*selects)


def pieces(date_from: date | None, date_to: date | None) -> list[Piece]:
    """The inclusive range as a month piece (the months wholly inside it) and day pieces (the part-months at
    its ends)."""
    whole_from = None if date_from is None else _month_start_on_or_after(date_from)
    whole_until = None if date_to is None else (date_to + timedelta(days=1)).replace(day=1)  # exclusive
    if whole_from is not None and whole_until is not None and whole_from >= whole_until:
        return [("day", date_from, date_to)]  # within one month, or two part-months
    found: list[Piece] = [("month", whole_from, None if whole_until is None else whole_until - timedelta(days=1))]
    if date_from is not None and date_from < whole_from:
        found.append(("day", date_from, whole_from - timedelta(days=1)))
    if date_to is not None and whole_until <= date_to:
        found.append(("day", whole_until, date_to))
    return found


def in_period(statement: sa.Select, table: sa.Table, period: str, county_codes: list[str] | None,
              first: date | None, last: date | None) -> sa.Select:
    """The statement limited to the counties (None: all) and to the piece's months or days."""
    if county_codes is not None:
        statement = statement.where(table.c.county_code.in_(county_codes))
    if first is not None:
        statement = statement.where(table.c[period] >= first)
    if last is not None:
        statement = statement.where(table.c[period] <= last)
    return statement


def _month_start_on_or_after(day: date) -> date:
    if day.day == 1:
        return day
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)
