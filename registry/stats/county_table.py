"""The cockpit's county table, defined once: the page, the .xlsx/CSV exports and the PDF report show the same
columns, in the same order, for the same rows."""
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from registry.stats import trend
from registry.stats.coverage import Coverage, coverage


@dataclass(frozen=True)
class CountyRow:
    """One county (or the city): its coverage and where its holder count is heading."""

    figures: Coverage
    projection: trend.Projection

    @property
    def code(self) -> str:
        return self.figures.code

    @property
    def name(self) -> str:
        return self.figures.name


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    # "text", "count", "target" (a count that may be unset), "share" (percent of a target), "rate" (per week),
    # "projection" (a date or a count, or the text saying why there is none)
    kind: str
    value: Callable[[CountyRow], object]  # what the export writes: a number, a date or text; None = blank

    def text(self, row: CountyRow) -> str:
        """The cell as the page and the PDF print it."""
        value = self.value(row)
        if value is None:
            return "未设目标" if self.kind in ("target", "share") else ""
        if self.kind == "share":
            return f"{value:.1f}%"
        if self.kind == "rate":
            return f"{value:,.1f}"
        if isinstance(value, int):
            return f"{value:,}"
        return value.isoformat() if isinstance(value, date) else str(value)

    def sort_value(self, row: CountyRow) -> object:
        """A value that orders the rows; None sorts last both ways (no target, no forecast)."""
        if self.key == "name":
            return row.code
        if self.key == "reached_on":
            projection = row.projection
            return date.min if projection.is_reached else projection.reached_on
        if self.key == "needed_weekly":
            return 0 if row.projection.is_reached else row.projection.needed_weekly
        return self.value(row)


def _share(figure: str) -> Callable[[CountyRow], float | None]:
    def value(row: CountyRow) -> float | None:
        share = row.figures.progress(figure)
        return None if share is None else round(share * 100, 1)
    return value


def _needed(row: CountyRow) -> int | str:
    needed = row.projection.needed_weekly
    return row.projection.needed_label if needed is None else needed


def _reached(row: CountyRow) -> date | str:
    return row.projection.reached_on or row.projection.reach_label


COLUMNS = (
    Column("name", "县区", "text", lambda row: row.name),
    Column("holders", "持证人员", "count", lambda row: row.figures.holders),
    Column("holders_target", "持证目标", "target", lambda row: row.figures.targets.get("holders")),
    Column("holders_progress", "持证完成率（%）", "share", _share("holders")),
    Column("skilled", "技能人才", "count", lambda row: row.figures.skilled),
    Column("skilled_progress", "技能人才完成率（%）", "share", _share("skilled")),
    Column("high_skilled", "高技能人才", "count", lambda row: row.figures.high_skilled),
    Column("high_skilled_progress", "高技能人才完成率（%）", "share", _share("high_skilled")),
    *(Column(f"level_{level}", label, "count", lambda row, level=level: row.figures.by_level[level])
      for level, label in zip("12345", ("一级", "二级", "三级", "四级", "五级"))),
    Column("enrolments", "培训人次（2021年以来）", "count", lambda row: row.figures.enrolments_since_2021),
    Column("enrolments_progress", "培训完成率（%）", "share", _share("enrolments_since_2021")),
    Column("completions", "结业人次", "count", lambda row: row.figures.completions),
    Column("added", f"近{trend.PACE_DAYS}天新增持证", "count", lambda row: row.projection.added),
    Column("weekly_pace", f"每周新增（近{trend.PACE_DAYS}天）", "rate",
           lambda row: round(row.projection.weekly_pace, 1)),
    Column("reached_on", "按此进度达标日期", "projection", _reached),
    Column("needed_weekly", "按期达标每周需新增", "projection", _needed),
)
BY_KEY = {column.key: column for column in COLUMNS}
DEFAULT_SORT = "name"
# The page shows these first, in one table that fits a 1366 px screen: the holders against their target and
# where they are heading, then the other headline figures. The rest follow in a second table behind a toggle;
# the exports and the PDF keep every column in COLUMNS' order.
KEY_COLUMNS = tuple(BY_KEY[key] for key in (
    "name", "holders", "holders_target", "holders_progress", "added", "reached_on", "needed_weekly", "skilled",
    "high_skilled", "enrolments"))
MORE_COLUMNS = (BY_KEY["name"], *(column for column in COLUMNS if column not in KEY_COLUMNS))


def county_rows(as_of: date, county_codes: list[str] | None,
                deadline: date = trend.DEADLINE) -> tuple[CountyRow, list[CountyRow]]:
    """The city row and one row per county shown (all current counties when county_codes is None)."""
    city, counties = coverage(as_of, county_codes)
    added = trend.holders_added(as_of - timedelta(days=trend.PACE_DAYS), as_of)

    def row(figures: Coverage, holders_added: int) -> CountyRow:
        target = figures.targets.get("holders")
        return CountyRow(figures, trend.project(figures.holders, holders_added, target, as_of, deadline))

    # The city counts every county code in the kept totals, so its pace does too.
    return row(city, sum(added.values())), [row(figures, added.get(figures.code, 0)) for figures in counties]


def sort_rows(rows: list[CountyRow], key: str, descending: bool) -> list[CountyRow]:
    """Rows by one column, county code breaking ties; rows without a value (None) stay at the end."""
    column = BY_KEY.get(key, BY_KEY[DEFAULT_SORT])
    rows = sorted(rows, key=lambda row: row.code)
    known = [row for row in rows if column.sort_value(row) is not None]
    unknown = [row for row in rows if column.sort_value(row) is None]
    return sorted(known, key=column.sort_value, reverse=descending) + unknown


def headers() -> list[str]:
    return [column.header for column in COLUMNS]


def export_rows(rows: list[CountyRow]) -> list[list[object]]:
    return [[column.value(row) for column in COLUMNS] for row in rows]
