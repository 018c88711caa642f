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
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from registry.assessment.models import AssessmentBatch, AssessmentResult
from registry.certificates.models import Certificate, CertificateKind, CertificateStatus
from registry.core.db import db
from registry.organizations.models import Agency, TrainingInstitution
from registry.people.models import KEY_GROUP_LABELS, Person
from registry.reference.models import LEVEL_LABELS, County, Occupation, Program
from registry.stats.tally import LEVELLED_KINDS, counted_kinds
from registry.training.models import Enrollment, EnrollmentStatus, TrainingClass

DEFAULT_TOP = 20
NO_GROUP = 0  # the key group table's row of persons in no key group
MAX_TOP = 100
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


def _add_training_rates(rows: Iterable[dict]) -> None:
    for row in rows:
        row["completion_rate"] = rate(row["completions"], row["enrolments"])


def _total(rows: list[dict], label_key: str, keys: Iterable[str]) -> dict:
    total = {label_key: "合计"}
    for key in keys:
        total[key] = sum(row.get(key) or 0 for row in rows)
    return total


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


# --- by program ---------------------------------------------------------------------------------------------

def training_by_program(county_codes: list[str] | None = None, date_from: date | None = None,
                        date_to: date | None = None) -> Table:
    """Training 人次 per programme (专项工程) of the class, and of classes outside every programme."""
    statement = _enrolments(sa.select(TrainingClass.program_key, *TRAINING_SUMS),
                            county_codes, date_from, date_to)
    figures = {row.program_key: row._asdict() for row in db.session.execute(
        statement.group_by(TrainingClass.program_key))}
    return program_table(figures)


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


def _month(day: date | str) -> str:
    return (day.isoformat() if isinstance(day, date) else str(day))[:7]


def _first_day(figures: dict[str, Counter]) -> date:
    return date.fromisoformat(min(figures) + "-01") if figures else date.today().replace(day=1)


def _months(first: date, last: date) -> list[str]:
    months, year, month = [], first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months
