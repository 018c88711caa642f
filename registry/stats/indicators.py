"""Every indicator of the plan (seed_data/plan_targets.csv) that the registry can measure, for one scope — a
county or the whole city — as of a date: its value, its target, the pace of the last 90 days and where that
pace leads. An indicator the registry cannot measure says so and why. Read-only; docs/STATISTICS.md."""
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa

from registry.core.db import db
from registry.organizations.models import Agency, AgencyStatus
from registry.reference.models import CITY_CODE, CountyEmployment, Indicator, Target
from registry.reference.queries import current_counties
from registry.stats import trend
from registry.stats.coverage import NEW_SINCE, TARGET_YEAR
from registry.stats.models import MEASURES, CoverageDay, CoverageMonth
from registry.stats.periods import together

RATE_SCALE = 10_000  # rates are kept in hundredths of a percent, so a projection works in whole numbers


@dataclass(frozen=True)
class Definition:
    key: str    # the plan's indicator key (plan_targets.csv)
    label: str
    unit: str   # "人", "人次", "家" or "%"
    text: str   # what is counted, shown beside the figure

    @property
    def is_rate(self) -> bool:
        return self.unit == "%"


DEFINITIONS = (
    Definition("skilled_holders_total", "持证人员", "人",
               "截至统计日至少持有一本有效证书（未撤销、未被更正替代）的人员，按人去重，计入其登记所在县区。"),
    Definition("skilled_workers_total", "技能人才", "人",
               "持有有效的一至五级职业技能等级证书或职业资格证书的人员，按人去重。"),
    Definition("high_skilled_workers", "高技能人才", "人", "技能人才中最高等级为三级（高级工）及以上者。"),
    Definition("mid_high_skilled_workers", "中高级技能人才", "人", "技能人才中最高等级为四级（中级工）及以上者。"),
    Definition("certified_persons", "取得相应证书人员", "人",
               "与技能人才同一口径（规划中两者2020年基数均为47.8万人）：持有有效等级或资格证书的人员。"),
    Definition("new_certificates", "2021年以来新发证书", "本",
               "2021年1月1日至统计日发证、目前仍有效的证书本数（一人多证计多本），与2021—2025年累计目标比较。"),
    Definition("holder_rate_of_employed", "从业人员持证率", "%",
               "持证人员 ÷ 从业人员数（统计日所在年份或之前最近一年、由市人社局按县区录入并注明来源）。"),
    Definition("skilled_share_of_employed", "技能人才占从业人员比例", "%", "技能人才 ÷ 从业人员数（同上）。"),
    Definition("high_skilled_share", "高技能人才占技能人才比例", "%", "高技能人才 ÷ 技能人才。"),
    Definition("vocational_training_sessions", "职业技能培训", "人次",
               "2021年以来的培训报名人次，一人参加两个班计两次；按培训班所在县区、报名日期统计。"),
    Definition("subsidized_training", "补贴性职业技能培训", "人次", "其中补贴性培训班的报名人次（2021年以来）。"),
    Definition("rural_training", "农村劳动力技能培训", "人",
               "2021年以来参加培训、标记为农村劳动力的人员，按人去重（目标以万人计，不是人次）；"
               "在两个县区参加培训的人各县区各计一人，全市只计一人。"),
    Definition("new_apprenticeship", "企业新型学徒制培训", "人次", "2021年以来“企业新型学徒制”类培训班的报名人次。"),
    Definition("recognition_agencies", "职业技能等级认定备案机构", "家",
               "统计日前已备案、目前状态为正常的评价机构，按机构所在县区；暂停或注销的不计（状态不留历史，"
               "过去日期也按当前状态计）。"),
    Definition("skilled_returnees", "技能人才返汴就业创业", "人", "返汴就业创业的技能人才。"),
)
BY_KEY = {definition.key: definition for definition in DEFINITIONS}
# The five cards at the top of the cockpit: card key → indicator.
HEADLINE = {"holders": "skilled_holders_total", "skilled": "skilled_workers_total",
            "high_skilled": "high_skilled_workers", "training": "vocational_training_sessions",
            "subsidised": "subsidized_training"}
NO_SOURCE = {"skilled_returnees": "本系统不登记人员的外出务工和返乡情况，无法统计；请以就业部门的数据为准。"}


@dataclass(frozen=True)
class Reading:
    """One indicator for one scope: value and target in persons (人次, 家, or hundredths of a percent)."""

    definition: Definition
    value: int | None
    target: int | None
    comparator: str
    projection: trend.Projection | None
    missing: str = ""  # why there is no value

    @property
    def has_target(self) -> bool:
        return self.target is not None and self.target > 0

    @property
    def progress(self) -> float | None:
        return self.value / self.target if self.has_target and self.value is not None else None


@dataclass(frozen=True)
class Scope:
    """What a page shows: one county, or the city (code 410200, counties None)."""

    code: str
    name: str

    @property
    def county_codes(self) -> list[str] | None:
        return None if self.code == CITY_CODE else [self.code]


def readings(scope: Scope, as_of: date, deadline: date = trend.DEADLINE) -> dict[str, Reading]:
    """Indicator key → its reading for the scope as of the end of `as_of`, in the plan's order."""
    (now, missing), (before, _) = _values(scope, (as_of, as_of - timedelta(days=trend.PACE_DAYS)))
    targets = _targets(scope.code)
    result = {}
    for definition in DEFINITIONS:
        value = now.get(definition.key)
        target, comparator = targets.get(definition.key, (None, "="))
        projection = None
        if value is not None:
            added = value - (before.get(definition.key) or 0)
            projection = trend.project(value, added, target, as_of, deadline)
        result[definition.key] = Reading(definition, value, target, comparator, projection,
                                         missing.get(definition.key, ""))
    return result


Values = tuple[dict[str, int | None], dict[str, str]]


def _values(scope: Scope, days: tuple[date, ...]) -> list[Values]:
    """Each day's values and why any is missing. Each statement answers every day at once: on PostgreSQL a
    page's cost is mostly its number of statements (docs/BENCHMARKS.md)."""
    codes = scope.county_codes
    sums = _sums_over(codes, [window for day in days for window in ((None, day), (NEW_SINCE, day))])
    agencies = active_agencies(codes, days)
    employment = employed_persons(scope, {day.year for day in days})
    return [_day_values(codes is None, stock, recent, active, employment[day.year])
            for day, stock, recent, active in zip(days, sums[0::2], sums[1::2], agencies)]


def _day_values(city: bool, stock: Counter, recent: Counter, agencies: int,
                employment: tuple[int | None, str]) -> Values:
    values: dict[str, int | None] = {
        "skilled_holders_total": stock["holders"],
        "skilled_workers_total": stock["level_5"],
        "certified_persons": stock["level_5"],
        "high_skilled_workers": stock["level_3"],
        "mid_high_skilled_workers": stock["level_4"],
        "new_certificates": recent["certificates_valid"],
        "vocational_training_sessions": recent["enrolments"],
        "subsidized_training": recent["subsidised_enrolments"],
        # A person trained in two counties is one in each county and one in the city.
        "rural_training": stock["rural_trained_once" if city else "rural_trained"],
        "new_apprenticeship": recent["apprentice_enrolments"],
        "recognition_agencies": agencies,
    }
    missing = dict(NO_SOURCE)
    employed, why = employment
    for key, numerator in (("holder_rate_of_employed", stock["holders"]),
                           ("skilled_share_of_employed", stock["level_5"])):
        values[key] = _rate(numerator, employed)
        if employed is None:
            missing[key] = why
    values["high_skilled_share"] = _rate(stock["level_3"], stock["level_5"] or None)
    if not stock["level_5"]:
        missing["high_skilled_share"] = "尚无技能人才，比例无从计算。"
    return values, missing


def _rate(numerator: int, denominator: int | None) -> int | None:
    if not denominator:
        return None
    return int((Decimal(numerator * RATE_SCALE) / denominator).quantize(Decimal(1), ROUND_HALF_UP))


def _sums(codes: list[str] | None, since: date | None, until: date) -> Counter:
    """Every kept measure added from `since` (a month's first day, or the start) to the end of `until`."""
    return _sums_over(codes, [(since, until)])[0]


def _sums_over(codes: list[str] | None, windows: list[tuple[date | None, date]]) -> list[Counter]:
    """Each window's sums, (since, until) as in _sums, from one statement: whole months from the month totals,
    the days of until's own month from the day totals, each select's row labelled with its window."""
    months, days = CoverageMonth.__table__, CoverageDay.__table__
    selects = []
    for index, (since, until) in enumerate(windows):
        if since is not None and until < since:
            continue  # nothing added yet: the window's sums stay empty
        month_start = until.replace(day=1)
        for table, period, condition in ((months, months.c.month, months.c.month < month_start),
                                         (days, days.c.day, days.c.day.between(month_start, until))):
            statement = sa.select(sa.literal_column(str(index)).label("window_index"),
                                  *[sa.func.sum(table.c[measure]).label(measure) for measure in MEASURES])
            statement = statement.where(condition)
            if since is not None:
                statement = statement.where(period >= since)
            if codes is not None:
                statement = statement.where(table.c.county_code.in_(codes))
            selects.append(statement)
    sums = [Counter() for _ in windows]
    if selects:
        for row in db.session.execute(together(selects)):
            sums[row.window_index].update({measure: int(row._mapping[measure] or 0) for measure in MEASURES})
    return sums


def active_agencies(codes: list[str] | None, days: tuple[date, ...]) -> list[int]:
    """Active agencies filed by the end of each day, counted in one statement."""
    statement = sa.select(*[sa.func.count(sa.case((Agency.filed_on <= day, Agency.id))) for day in days])
    statement = statement.where(Agency.status == AgencyStatus.ACTIVE)
    if codes is not None:
        statement = statement.where(Agency.county_code.in_(codes))
    return [count or 0 for count in db.session.execute(statement).one()]


def employed_persons(scope: Scope, years: set[int]) -> dict[int, tuple[int | None, str]]:
    """Each year → the latest employed-persons figure of the scope for that year or before, from one read."""
    columns = (CountyEmployment.county_code, CountyEmployment.year, CountyEmployment.employed_persons)
    statement = sa.select(*columns).where(CountyEmployment.year <= max(years)).order_by(CountyEmployment.year)
    rows = db.session.execute(statement).all()

    def latest(year: int) -> dict[str, int]:
        return {code: persons for code, row_year, persons in rows if row_year <= year}  # later years win

    return {year: _employed_in(scope, year, latest(year)) for year in years}


def _employed_in(scope: Scope, year: int, latest: dict[str, int]) -> tuple[int | None, str]:
    """The city adds up its counties when it has no figure of its own. (None, the reason) without one."""
    if scope.code in latest:
        return latest[scope.code], ""
    reason = f"未录入{scope.name}{year}年或之前的从业人员数（管理员在“县区—从业人员数（按年）”页录入，须注明来源）。"
    if scope.code != CITY_CODE:
        return None, reason
    counties = [county.code for county in current_counties()]
    if counties and all(code in latest for code in counties):
        return sum(latest[code] for code in counties), ""
    return None, reason + "全市按各县区之和计算时，须每个县区都已录入。"


def _targets(code: str) -> dict[str, tuple[int, str]]:
    """Indicator key → (the 2025 target in the reading's scale, its comparator) for one county or the city."""
    rows = db.session.execute(
        sa.select(Target.indicator_key, Target.value, Target.comparator, Indicator.unit)
        .join(Indicator, Indicator.key == Target.indicator_key)
        .where(Target.year == TARGET_YEAR, Target.county_code == code))
    return {key: (to_scale(value, unit), comparator) for key, value, comparator, unit in rows}


def to_scale(value: Decimal, unit: str) -> int:
    """A target as stored (in 万, %, or whole units) in the readings' scale."""
    factor = Decimal(10_000) if unit.startswith("万") else Decimal(RATE_SCALE // 100) if unit == "%" else Decimal(1)
    return int((Decimal(value) * factor).quantize(Decimal(1), ROUND_HALF_UP))


def baselines() -> dict[str, str]:
    """The plan's 2020 figures as printed (the city's), shown beside the registry's counts, never added to them."""
    rows = db.session.execute(sa.select(Indicator.key, Indicator.baseline_2020, Indicator.unit))
    return {key: f"{value}{unit}" for key, value, unit in rows if value}


def holders_on(codes: list[str] | None, day: date) -> int:
    """Holders as of the end of a day (the split key "share of 2020 holders")."""
    return _sums(codes, None, day)["holders"]
