"""The drill-downs' tables: what a page shows and exports, built from figures however they were counted.

The figures come from a recount of the raw tables (registry/stats/drilldowns.py) or from the kept totals
(registry/stats/kept_tables.py); both hand each builder the same plain figures, so a table reads the same
whichever source filled it.
"""
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from registry.core.db import db
from registry.organizations.models import Agency, TrainingInstitution
from registry.people.models import KEY_GROUP_LABELS
from registry.reference.models import LEVEL_LABELS, County, Occupation, Program

NO_GROUP = 0  # the key group table's row of persons in no key group


NO_LEVEL = "无等级（专项能力、特种作业等）"


@dataclass(frozen=True)
class TableColumn:
    key: str
    header: str
    is_rate: bool = False


@dataclass
class Table:
    """What a drill-down page shows and exports: columns, rows of plain values, an optional total row."""

    title: str
    columns: list[TableColumn]
    rows: list[dict]
    charts: tuple[str, ...]  # the column keys drawn as charts, against the first column as label
    total: dict | None = None
    notes: list[str] = field(default_factory=list)

    def cells(self, row: dict) -> list:
        """A row as shown and exported: counts as integers, rates as “62.5%” (“—” without a denominator)."""
        return [_display(row.get(column.key), column.is_rate) for column in self.columns]

    def body(self) -> list[list]:
        return [self.cells(row) for row in self.rows] + ([self.cells(self.total)] if self.total else [])

    def points(self, key: str) -> list[tuple[str, float]]:
        label = self.columns[0].key
        return [(str(row[label]), row.get(key) or 0) for row in self.rows]


def rate(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def _display(value, is_rate: bool):
    if is_rate:
        return "—" if value is None else f"{value * 100:.1f}%"
    return value


def _add_training_rates(rows: Iterable[dict]) -> None:
    for row in rows:
        row["completion_rate"] = rate(row["completions"], row["enrolments"])


def _total(rows: list[dict], label_key: str, keys: Iterable[str]) -> dict:
    total = {label_key: "合计"}
    for key in keys:
        total[key] = sum(row.get(key) or 0 for row in rows)
    return total


def level_table(holders_at: dict[int, int], certificates_at: dict[int | None, int], all_holders: int) -> Table:
    """The level table from holders by best level, valid certificates by level (None: no level), all holders."""
    rows = [{"level": LEVEL_LABELS[level], "holders": holders_at.get(level, 0),
             "certificates": certificates_at.get(level, 0)} for level in range(1, 6)]
    rows.append({"level": NO_LEVEL, "holders": all_holders - sum(row["holders"] for row in rows),
                 "certificates": certificates_at.get(None, 0)})
    return Table("按等级", [TableColumn("level", "等级"), TableColumn("holders", "持证人数（按最高等级）"),
                           TableColumn("certificates", "有效证书数")],
                 rows, charts=("holders",), total=_total(rows, "level", ("holders", "certificates")),
                 notes=["每人只按其最高有效等级计一次，各行人数相加即持证人员总数；证书数按每本证书的等级计。",
                        "“无等级”为只持有专项职业能力证书、特种作业操作证等不分等级证书的人员。"])


def occupation_table(figures: dict[int | None, Counter], top: int) -> Table:
    """The top occupations from each occupation's (None: none) holders, certificates and enrolments."""
    names = {occupation.id: occupation for occupation in db.session.scalars(
        sa.select(Occupation).where(Occupation.id.in_([key for key in figures if key is not None])))}

    def order(item):
        occupation_id, counts = item
        code = names[occupation_id].code if occupation_id in names else "~"
        return -counts["holders"], -counts["enrolments"], code

    rows = []
    for occupation_id, counts in sorted(figures.items(), key=order)[:top]:
        occupation = names.get(occupation_id)
        rows.append({"occupation": occupation.name if occupation else "未注明职业",
                     "code": occupation.code if occupation else "", "holders": counts["holders"],
                     "certificates": counts["certificates"], "enrolments": counts["enrolments"]})
    return Table(f"按职业（前{top}名）", [
        TableColumn("occupation", "职业"), TableColumn("code", "职业编码"), TableColumn("holders", "持证人数"),
        TableColumn("certificates", "有效证书数"), TableColumn("enrolments", "培训人次")],
        rows, charts=("holders",),
        notes=[f"按持证人数排序，再按培训人次，共 {len(figures)} 个职业，显示前 {min(top, len(figures))} 个。",
               "持有两个职业证书的人在两个职业各计一次，故各行人数不能相加。"
               "培训人次按培训班的职业、所在县区和报名日期统计，不受证书类别筛选影响。"])


def key_group_table(figures: dict[int, Counter]) -> Table:
    """The key group table from each group's (NO_GROUP: persons in none) holders, enrolments, completions."""
    labels = {**{int(group): label for group, label in KEY_GROUP_LABELS.items()}, NO_GROUP: "未标记重点群体"}
    rows = [{"group": label, "holders": figures.get(group, Counter())["holders"],
             "enrolments": figures.get(group, Counter())["enrolments"],
             "completions": figures.get(group, Counter())["completions"]} for group, label in labels.items()]
    _add_training_rates(rows)
    return Table("按重点群体", [
        TableColumn("group", "重点群体"), TableColumn("holders", "持证人数"), TableColumn("enrolments", "培训人次"),
        TableColumn("completions", "结业人次"), TableColumn("completion_rate", "结业率", is_rate=True)],
        rows, charts=("holders", "enrolments"),
        notes=["重点群体按人员登记信息当前的标记统计；一人可属多个群体，各行不能相加。",
               "培训人次按培训班所在县区和报名日期统计，不受证书类别筛选影响。"])


def program_table(figures: dict[str | None, dict]) -> Table:
    """The programme table from each programme's (None: none) enrolments, completions and subsidised."""
    programs = [(program.key, program.name) for program in db.session.scalars(sa.select(Program)
                                                                               .order_by(Program.name))]
    rows = []
    for key, name in [*programs, (None, "未列入专项工程")]:
        counts = figures.get(key, {})
        rows.append({"program": name, "enrolments": counts.get("enrolments", 0),
                     "completions": counts.get("completions", 0), "subsidised": counts.get("subsidised", 0)})
    total = _total(rows, "program", ("enrolments", "completions", "subsidised"))
    _add_training_rates([*rows, total])
    return Table("按专项工程", [
        TableColumn("program", "专项工程"), TableColumn("enrolments", "培训人次"),
        TableColumn("completions", "结业人次"), TableColumn("completion_rate", "结业率", is_rate=True),
        TableColumn("subsidised", "补贴性培训人次")],
        rows, charts=("enrolments",), total=total,
        notes=["按培训班所属专项工程、所在县区和报名日期统计；证书类别筛选不适用。"])


def agency_table(figures: dict[int | None, Counter]) -> Table:
    """The agency table from each agency's (None: outside the registry) assessed, passed, certificates,
    holders and revoked."""
    names = dict(db.session.execute(sa.select(Agency.id, Agency.name)
                                    .where(Agency.id.in_([key for key in figures if key is not None]))).all())
    rows = [{"agency": names.get(agency_id, "系统外机构（历史导入）"), "assessed": counts["assessed"],
             "passed": counts["passed"], "pass_rate": rate(counts["passed"], counts["assessed"]),
             "certificates": counts["certificates"], "holders": counts["holders"],
             "revoked": counts["revoked"]}
            for agency_id, counts in figures.items()]
    rows.sort(key=lambda row: (-row["certificates"], -row["assessed"], row["agency"]))
    return Table("按评价机构", [
        TableColumn("agency", "评价机构"), TableColumn("assessed", "认定人次"), TableColumn("passed", "合格人次"),
        TableColumn("pass_rate", "合格率", is_rate=True), TableColumn("certificates", "有效证书数"),
        TableColumn("holders", "持证人数"), TableColumn("revoked", "已撤销证书数")],
        rows, charts=("certificates",),
        notes=["认定人次按考生登记所在县区和批次认定日期统计，不受证书类别筛选影响；证书按持证人所在县区和发证日期统计。",
               "在两个机构取证的人在两个机构各计一次，持证人数不能相加。"])


def institution_table(figures: dict[int, dict]) -> Table:
    """The institution table from each institution's classes, enrolments, completions and subsidised."""
    institutions = db.session.execute(
        sa.select(TrainingInstitution.id, TrainingInstitution.name, County.name)
        .join(County, County.code == TrainingInstitution.county_code)
        .where(TrainingInstitution.id.in_(list(figures))))
    rows = []
    for institution_id, name, county in institutions:
        counts = {key: value for key, value in figures[institution_id].items() if key != "institution_id"}
        rows.append({"institution": name, "county": county, **counts})
    rows.sort(key=lambda row: (-row["enrolments"], row["institution"]))
    total = _total(rows, "institution", ("classes", "enrolments", "completions", "subsidised"))
    total["county"] = ""
    _add_training_rates([*rows, total])
    return Table("按培训机构", [
        TableColumn("institution", "培训机构"), TableColumn("county", "机构所在县区"), TableColumn("classes", "培训班数"),
        TableColumn("enrolments", "培训人次"), TableColumn("completions", "结业人次"),
        TableColumn("completion_rate", "结业率", is_rate=True), TableColumn("subsidised", "补贴性培训人次")],
        rows, charts=("enrolments",), total=total,
        notes=["按培训班所在县区和报名日期统计（不是机构注册地）；只列出期间内有报名的机构；证书类别筛选不适用。"])


def month_table(figures: dict[str, Counter], date_from: date | None, date_to: date | None) -> Table:
    """The month table from each month's (“2025-06”) new_holders, certificates, enrolments and completions."""
    keys = ("new_holders", "certificates", "enrolments", "completions")
    rows = [{"month": month, **{key: figures.get(month, Counter())[key] for key in keys}}
            for month in _months(date_from or _first_day(figures), date_to or date.today())]
    total = _total(rows, "month", keys)
    return Table("按月份", [
        TableColumn("month", "月份"), TableColumn("new_holders", "新增持证人员"),
        TableColumn("certificates", "发证数（有效）"), TableColumn("enrolments", "培训人次"),
        TableColumn("completions", "结业人次")],
        rows, charts=("new_holders", "enrolments"), total=total,
        notes=["新增持证人员按每人首本有效证书的发证月份计，各月相加即期间内持证人员的增加数。",
               "发证数按发证日期、持证人所在县区计；培训人次按报名月份、培训班所在县区计，结业人次为这些报名中已结业的。"])


def _first_day(figures: dict[str, Counter]) -> date:
    return date.fromisoformat(min(figures) + "-01") if figures else date.today().replace(day=1)


def _months(first: date, last: date) -> list[str]:
    months, year, month = [], first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months
