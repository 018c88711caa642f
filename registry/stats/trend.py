"""The trend behind the cockpit: holders month by month from the kept day totals, and the projection toward
the target at the recent pace. The queries are read-only; the projection is a pure function of its
arguments."""
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa

from registry.core.db import db
from registry.stats.coverage import TARGET_YEAR
from registry.stats.models import CoverageDay
from registry.stats.periods import monthly_sums

PACE_DAYS = 90  # the projection extrapolates the holders added in this many days up to the date
DEADLINE = date(TARGET_YEAR, 12, 31)  # the plan's targets are for the end of its last year
# A pace that needs longer than this is no forecast; it is "cannot be reached at this pace".
HORIZON_DAYS = 100 * 365


@dataclass(frozen=True)
class MonthPoint:
    """The figures as of the end of one month (of `until` itself for the last month)."""

    month: str  # "2025-03"
    holders: int
    skilled: int
    high_skilled: int


def monthly_series(county_codes: list[str] | None, until: date,
                   since: date | None = None) -> list[MonthPoint]:
    """Cumulative holders, skilled and highly skilled at the end of each month up to `until`.

    county_codes None means the whole city. The points start at the month of `since` (everything before it
    is already in the first point) or, without it, at the first month with any activity; months without
    activity repeat the figures before them, so the months are consecutive.
    """
    sums = monthly_sums(["holders", "level_5", "level_3"], county_codes, None, until)
    changes = {(int(month[:4]), int(month[5:])): (counts["holders"], counts["level_5"], counts["level_3"])
               for month, counts in sums.items()}
    if since is None and not changes:
        return []
    first = (since.year, since.month) if since else min(changes)
    last = (until.year, until.month)
    totals = [0, 0, 0]
    for key in [key for key in changes if key < first]:  # what happened before the first month shown
        totals = [a + b for a, b in zip(totals, changes[key])]
    points = []
    for year_month in _months(min(first, last), last):
        totals = [a + b for a, b in zip(totals, changes.get(year_month, (0, 0, 0)))]
        points.append(MonthPoint(f"{year_month[0]:04d}-{year_month[1]:02d}", *totals))
    return points


def _months(first: tuple[int, int], last: tuple[int, int]):
    year, month = first
    while (year, month) <= last:
        yield year, month
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def holders_added(after: date, until: date) -> dict[str, int]:
    """County code → holders added on the days after `after` up to and including `until` (every county)."""
    days = CoverageDay.__table__
    rows = db.session.execute(sa.select(days.c.county_code, sa.func.sum(days.c.holders))
                              .where(days.c.day > after, days.c.day <= until).group_by(days.c.county_code))
    return {code: int(added or 0) for code, added in rows}


@dataclass(frozen=True)
class Projection:
    """Where a holder count is heading: the date the target is reached at the recent pace, and the weekly
    pace the deadline asks for. Every figure is as of `as_of`; nothing here reads the clock."""

    current: int
    target: int | None
    added: int           # holders added in the pace window
    window_days: int
    as_of: date
    deadline: date

    @property
    def weekly_pace(self) -> float:
        return self.added * 7 / self.window_days

    @property
    def remaining(self) -> int:
        return max((self.target or 0) - self.current, 0)

    @property
    def has_target(self) -> bool:
        return bool(self.target)

    @property
    def is_reached(self) -> bool:
        return self.has_target and self.remaining == 0

    @property
    def deadline_passed(self) -> bool:
        # Figures are as of the end of `as_of`: on the deadline itself no day is left to close a gap.
        return self.as_of >= self.deadline

    @property
    def reached_on(self) -> date | None:
        """The projected date; None without a target, once reached, or when the pace is too slow."""
        if not self.has_target or self.is_reached or self.added <= 0:
            return None
        days = _ceil_div(self.remaining * self.window_days, self.added)
        return self.as_of + timedelta(days=days) if days <= HORIZON_DAYS else None

    @property
    def on_track(self) -> bool:
        return self.is_reached or (self.reached_on is not None and self.reached_on <= self.deadline)

    @property
    def needed_weekly(self) -> int | None:
        """Holders a week from now to the deadline to close the gap; None when that question has no answer."""
        if not self.has_target or self.is_reached or self.deadline_passed:
            return None
        return _ceil_div(self.remaining * 7, (self.deadline - self.as_of).days)  # remaining / weeks left

    @property
    def reach_label(self) -> str:
        if not self.has_target:
            return "未设目标"
        if self.is_reached:
            return "已达标"
        reached_on = self.reached_on
        return reached_on.isoformat() if reached_on else "按当前进度无法达到"

    @property
    def needed_label(self) -> str:
        if not self.has_target:
            return "未设目标"
        if self.is_reached:
            return "已达标"
        if self.deadline_passed:
            return "期限已过"
        return f"{self.needed_weekly:,}"


def _ceil_div(numerator: int, denominator: int) -> int:
    """Rounded up in whole numbers: in floating point an exact 70 can come out as 70.00000000000001 → 71."""
    return -(-numerator // denominator)


def project(current: int, added: int, target: int | None, as_of: date, deadline: date = DEADLINE,
            window_days: int = PACE_DAYS) -> Projection:
    return Projection(current, target, added, window_days, as_of, deadline)
