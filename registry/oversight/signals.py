"""预警信号 — each signal is a named read-only query over data already stored, with a Chinese description of
what it means and why it matters, and thresholds an administrator may change (SignalSetting).

A signal returns Findings: one per subject (a person's certificates, a batch, an agency in a county, an
agency's month…), keyed so that the next recount finds the same subject again (registry/oversight/refresh.py).
"""
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from registry.assessment.models import AssessmentBatch, AssessmentResult
from registry.certificates.models import Certificate, CertificateStatus
from registry.core.db import as_utc, db
from registry.organizations.models import Agency, TrainingInstitution
from registry.oversight.models import Assessor, BatchAssessor, SignalSetting
from registry.people.models import Person
from registry.reference.models import LEVEL_LABELS, Occupation
from registry.training.models import Enrollment, TrainingClass


@dataclass(frozen=True)
class Threshold:
    key: str
    label: str
    default: float
    minimum: float
    maximum: float
    is_integer: bool = True


THRESHOLDS = {threshold.key: threshold for threshold in (
    Threshold("ladder_days", "短期多级：窗口天数", 365, 1, 3650),
    Threshold("ladder_levels", "短期多级：窗口内不同等级数（至少）", 2, 2, 5),
    Threshold("attendance_share", "学时不足：实到学时占计划学时的最低比例", 0.9, 0.1, 1.0, is_integer=False),
    Threshold("late_days", "成绩录入滞后：认定结束后超过的天数", 30, 1, 3650),
    Threshold("pass_rate_min_batch", "通过率异常：计入的批次最少人数", 10, 1, 10000),
    Threshold("pass_rate_z", "通过率异常：z 值绝对值（至少）", 3.0, 1.0, 10.0, is_integer=False),
    Threshold("min_age", "年龄异常：认定时年龄低于", 16, 10, 30),
    Threshold("max_age", "年龄异常：认定时年龄高于", 70, 50, 100),
    Threshold("spike_factor", "月度量突增：本月量为此前月均的倍数（至少）", 3.0, 1.5, 100.0, is_integer=False),
    Threshold("spike_months", "月度量突增：比较的此前月数", 6, 1, 36),
    Threshold("spike_minimum", "月度量突增：本月量至少", 50, 1, 1000000),
)}


def current_settings() -> dict[str, float]:
    """Every threshold: the administrator's value where one was set, the default elsewhere."""
    stored = dict(db.session.execute(sa.select(SignalSetting.key, SignalSetting.value)).all())
    return {key: stored.get(key, threshold.default) for key, threshold in THRESHOLDS.items()}


@dataclass(frozen=True)
class Finding:
    subject_key: str
    summary: str
    county_code: str | None
    agency_id: int | None = None
    institution_id: int | None = None


@dataclass(frozen=True)
class Signal:
    key: str
    title: str
    description: str
    thresholds: tuple[str, ...]
    find: Callable[[dict[str, float]], Iterable[Finding]]


SIGNALS: dict[str, Signal] = {}


def signal(key: str, title: str, description: str, thresholds: tuple[str, ...] = ()):
    def register(find: Callable[[dict[str, float]], Iterable[Finding]]):
        SIGNALS[key] = Signal(key, title, description, thresholds, find)
        return find

    return register


VALID = Certificate.status == CertificateStatus.VALID


def _occupations() -> dict[int, str]:
    return dict(db.session.execute(sa.select(Occupation.id, Occupation.name)).all())


def _agencies() -> dict[int, str]:
    return dict(db.session.execute(sa.select(Agency.id, Agency.name)).all())


def _certificates_of(pairs: list[tuple[int, int]]) -> dict[tuple[int, int], list]:
    """Valid certificates of the given (person, occupation) pairs, with the holder's county, in issue order."""
    found = defaultdict(list)
    persons = sorted({person_id for person_id, _ in pairs})
    wanted = set(pairs)
    for start in range(0, len(persons), 500):
        rows = db.session.execute(
            sa.select(Certificate.person_id, Certificate.occupation_id, Certificate.level, Certificate.number,
                      Certificate.agency_id, Certificate.issued_on, Person.county_code)
            .join(Person, Person.id == Certificate.person_id)
            .where(VALID, Certificate.person_id.in_(persons[start:start + 500]))
            .order_by(Certificate.issued_on, Certificate.id))
        for row in rows:
            if (row.person_id, row.occupation_id) in wanted:
                found[row.person_id, row.occupation_id].append(row)
    return found


def _listed(rows, agencies: dict[int, str]) -> str:
    return "、".join(f"{row.number}（{agencies.get(row.agency_id, '外部机构')}，{row.issued_on.isoformat()}）"
                    for row in rows)


@signal("duplicate_award", "重复发证",
        "同一人员持有两本及以上同一职业、同一等级的有效证书（无论是否同一评价机构）。同一等级只应认定一次："
        "重复发证多为重复报名、重复录入或为冲数量而重复认定，会虚增持证人数。")
def duplicate_awards(_settings: dict[str, float]) -> Iterator[Finding]:
    groups = db.session.execute(
        sa.select(Certificate.person_id, Certificate.occupation_id, Certificate.level)
        .where(VALID, Certificate.occupation_id.is_not(None), Certificate.level.is_not(None))
        .group_by(Certificate.person_id, Certificate.occupation_id, Certificate.level)
        .having(sa.func.count() > 1)).all()
    if not groups:
        return
    certificates = _certificates_of([(person_id, occupation_id) for person_id, occupation_id, _ in groups])
    occupations, agencies = _occupations(), _agencies()
    for person_id, occupation_id, level in groups:
        rows = [row for row in certificates[person_id, occupation_id] if row.level == level]
        agency_ids = {row.agency_id for row in rows}
        across = "（跨机构）" if len(agency_ids) > 1 else ""
        yield Finding(f"{person_id}:{occupation_id}:{level}",
                      f"人员 #{person_id} 持有 {len(rows)} 本 {occupations[occupation_id]} "
                      f"{LEVEL_LABELS[level]} 有效证书{across}：{_listed(rows, agencies)}",
                      rows[0].county_code, agency_ids.pop() if len(agency_ids) == 1 else None)


@signal("level_ladder", "短期内连升多级",
        "同一人员在较短时间内取得同一职业的多个等级证书。晋升一个等级通常需要数年的从业经历，"
        "短期连升多级提示未核实申报条件或“买证”。", ("ladder_days", "ladder_levels"))
def level_ladders(settings: dict[str, float]) -> Iterator[Finding]:
    days, levels = int(settings["ladder_days"]), int(settings["ladder_levels"])
    pairs = db.session.execute(
        sa.select(Certificate.person_id, Certificate.occupation_id)
        .where(VALID, Certificate.occupation_id.is_not(None), Certificate.level.is_not(None))
        .group_by(Certificate.person_id, Certificate.occupation_id)
        .having(sa.func.count(sa.distinct(Certificate.level)) >= levels)).all()
    if not pairs:
        return
    certificates = _certificates_of([tuple(pair) for pair in pairs])
    occupations, agencies = _occupations(), _agencies()
    for person_id, occupation_id in pairs:
        window = _tightest_window(certificates[person_id, occupation_id], days, levels)
        if window:
            agency_ids = {row.agency_id for row in window}
            yield Finding(f"{person_id}:{occupation_id}",
                          f"人员 #{person_id} 在 {days} 天内取得 {occupations[occupation_id]} "
                          f"{len({row.level for row in window})} 个等级：{_listed(window, agencies)}",
                          window[0].county_code, agency_ids.pop() if len(agency_ids) == 1 else None)


def _tightest_window(rows: list, days: int, levels: int) -> list:
    """The first run of certificates (in issue order) within `days` that spans `levels` distinct levels."""
    for start, first in enumerate(rows):
        inside = [row for row in rows[start:] if (row.issued_on - first.issued_on).days <= days]
        if len({row.level for row in inside}) >= levels:
            return inside
    return []


@signal("assessed_before_training", "培训未结束即认定",
        "认定批次关联的培训班尚未结束（结束日期晚于认定日期）就组织了认定。先认定后培训，"
        "培训补贴与“以训促评”都失去依据，常见于为凑数量而倒签材料。")
def assessed_before_training(_settings: dict[str, float]) -> Iterator[Finding]:
    rows = db.session.execute(
        sa.select(AssessmentBatch.id, AssessmentBatch.assessed_on, AssessmentBatch.county_code,
                  AssessmentBatch.agency_id, TrainingClass.id.label("class_id"), TrainingClass.name,
                  TrainingClass.ends_on, TrainingClass.institution_id)
        .join(TrainingClass, TrainingClass.id == AssessmentBatch.training_class_id)
        .where(AssessmentBatch.assessed_on < TrainingClass.ends_on))
    for row in rows:
        yield Finding(str(row.id), f"批次 #{row.id} 于 {row.assessed_on.isoformat()} 认定，而关联培训班“{row.name}”"
                                   f"（#{row.class_id}）{row.ends_on.isoformat()} 才结束",
                      row.county_code, row.agency_id, row.institution_id)


@signal("short_attendance", "学时不足即参加认定",
        "认定批次关联培训班的学员，实到学时低于计划学时的规定比例（未记录学时按 0 计）仍参加了认定。"
        "学时不足说明培训走过场，补贴与证书的依据不实。", ("attendance_share",))
def short_attendance(settings: dict[str, float]) -> Iterator[Finding]:
    share = settings["attendance_share"]
    short = sa.func.coalesce(Enrollment.attended_hours, 0) < TrainingClass.planned_hours * share
    rows = db.session.execute(
        sa.select(AssessmentBatch.id, AssessmentBatch.county_code, AssessmentBatch.agency_id,
                  TrainingClass.institution_id, TrainingClass.name, TrainingClass.planned_hours,
                  sa.func.count().label("short"))
        .join(TrainingClass, TrainingClass.id == AssessmentBatch.training_class_id)
        .join(AssessmentResult, AssessmentResult.batch_id == AssessmentBatch.id)
        .join(Enrollment, sa.and_(Enrollment.class_id == TrainingClass.id,
                                  Enrollment.person_id == AssessmentResult.person_id))
        .where(short)
        .group_by(AssessmentBatch.id, AssessmentBatch.county_code, AssessmentBatch.agency_id,
                  TrainingClass.institution_id, TrainingClass.name, TrainingClass.planned_hours))
    for row in rows:
        yield Finding(str(row.id), f"批次 #{row.id} 有 {row.short} 名考生在培训班“{row.name}”的实到学时低于计划 "
                                   f"{row.planned_hours} 学时的 {share:.0%}",
                      row.county_code, row.agency_id, row.institution_id)


@signal("late_results", "成绩录入滞后",
        "认定结束后很久才录入成绩。成绩应在认定后及时录入；长时间后补录的成绩难以核实，提示事后补造。",
        ("late_days",))
def late_results(settings: dict[str, float]) -> Iterator[Finding]:
    days = int(settings["late_days"])
    held_until = sa.func.coalesce(AssessmentBatch.assessed_until, AssessmentBatch.assessed_on)
    rows = db.session.execute(
        sa.select(AssessmentBatch.id, held_until.label("held_until"), AssessmentBatch.county_code,
                  AssessmentBatch.agency_id, sa.func.max(AssessmentResult.created_at).label("last_entry"))
        .join(AssessmentResult, AssessmentResult.batch_id == AssessmentBatch.id)
        .group_by(AssessmentBatch.id, held_until, AssessmentBatch.county_code, AssessmentBatch.agency_id))
    for row in rows:
        held_until = row.held_until if isinstance(row.held_until, date) else date.fromisoformat(row.held_until)
        entered_on = _day(row.last_entry)
        if (entered_on - held_until).days > days:
            yield Finding(str(row.id), f"批次 #{row.id} 于 {held_until.isoformat()} 结束认定，成绩最晚于 "
                                       f"{entered_on.isoformat()} 录入（{(entered_on - held_until).days} 天后）",
                          row.county_code, row.agency_id)


def _day(value) -> date:
    if isinstance(value, str):  # SQLite may hand an aggregate's timestamp back as text
        value = datetime.fromisoformat(value)
    return as_utc(value).date()


@signal("pass_rate_outlier", "通过率异常",
        "评价机构在某县区的通过率，同时显著偏离该县区和全市的通过率。统计量：两比例 z 值 ="
        "（机构通过率 − 参照通过率）÷ √（参照通过率 ×（1 − 参照通过率）÷ 机构考生数），只计人数达到最少人数的批次。"
        "偏高提示放水、偏低提示刁难或录入错误。", ("pass_rate_min_batch", "pass_rate_z"))
def pass_rate_outliers(settings: dict[str, float]) -> Iterator[Finding]:
    minimum, limit = int(settings["pass_rate_min_batch"]), settings["pass_rate_z"]
    batches = db.session.execute(
        sa.select(AssessmentBatch.agency_id, AssessmentBatch.county_code, sa.func.count().label("candidates"),
                  sa.func.sum(sa.case((AssessmentResult.is_passed, 1), else_=0)).label("passed"))
        .join(AssessmentResult, AssessmentResult.batch_id == AssessmentBatch.id)
        .group_by(AssessmentBatch.id, AssessmentBatch.agency_id, AssessmentBatch.county_code)
        .having(sa.func.count() >= minimum)).all()
    per_agency, per_county, city = defaultdict(lambda: [0, 0]), defaultdict(lambda: [0, 0]), [0, 0]
    for row in batches:
        for totals in (per_agency[row.agency_id, row.county_code], per_county[row.county_code], city):
            totals[0] += row.candidates
            totals[1] += int(row.passed or 0)
    agencies = _agencies()
    for (agency_id, county_code), (candidates, passed) in sorted(per_agency.items()):
        rate = passed / candidates
        against_county = _z(rate, candidates, *per_county[county_code])
        against_city = _z(rate, candidates, *city)
        if abs(against_county) >= limit and abs(against_city) >= limit:
            county_rate = per_county[county_code][1] / per_county[county_code][0]
            yield Finding(f"{agency_id}:{county_code}",
                          f"{agencies[agency_id]} 在县区 {county_code} 的通过率 {rate:.1%}（{candidates} 人），"
                          f"县区 {county_rate:.1%}（z = {against_county:.2f}），全市 {city[1] / city[0]:.1%}"
                          f"（z = {against_city:.2f}）", county_code, agency_id)


def _z(rate: float, candidates: int, reference_candidates: int, reference_passed: int) -> float:
    reference = reference_passed / reference_candidates
    spread = reference * (1 - reference)
    if spread == 0:  # everyone passed (or failed) in the reference: any difference is an outlier
        return 0.0 if rate == reference else math.inf
    return (rate - reference) / math.sqrt(spread / candidates)


@signal("implausible_age", "认定年龄异常",
        "考生在认定日的年龄低于或高于合理范围（按证件上的出生日期计算）。多为证件号码录入错误，"
        "或冒用他人（老人、未成年人）身份凑数。", ("min_age", "max_age"))
def implausible_ages(settings: dict[str, float]) -> Iterator[Finding]:
    youngest, oldest = int(settings["min_age"]), int(settings["max_age"])
    # The year difference narrows the rows cheaply in the database; the exact age is checked below.
    years = sa.extract("year", AssessmentBatch.assessed_on) - sa.extract("year", Person.birth_on)
    rows = db.session.execute(
        sa.select(AssessmentResult.id, AssessmentResult.person_id, Person.birth_on, AssessmentBatch.id.label("batch"),
                  AssessmentBatch.assessed_on, AssessmentBatch.county_code, AssessmentBatch.agency_id)
        .join(Person, Person.id == AssessmentResult.person_id)
        .join(AssessmentBatch, AssessmentBatch.id == AssessmentResult.batch_id)
        .where(Person.birth_on.is_not(None), sa.or_(years <= youngest, years >= oldest)))
    for row in rows:
        age = _age(row.birth_on, row.assessed_on)
        if age < youngest or age > oldest:
            yield Finding(str(row.id), f"人员 #{row.person_id} 在批次 #{row.batch} 认定时（{row.assessed_on.isoformat()}）"
                                       f"年龄为 {age} 岁", row.county_code, row.agency_id)


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


@signal("volume_spike", "月度量突增",
        "评价机构某月发证数，或培训机构某月报名人数，达到此前若干个月月均的数倍。突然放量常伴随"
        "突击发证、虚报培训，值得在当月抽查。", ("spike_factor", "spike_months", "spike_minimum"))
def volume_spikes(settings: dict[str, float]) -> Iterator[Finding]:
    agencies = _agencies()
    issued = db.session.execute(
        sa.select(Certificate.agency_id, sa.extract("year", Certificate.issued_on),
                  sa.extract("month", Certificate.issued_on), sa.func.count())
        .where(Certificate.agency_id.is_not(None), Certificate.is_imported.is_(False))
        .group_by(Certificate.agency_id, sa.extract("year", Certificate.issued_on),
                  sa.extract("month", Certificate.issued_on))).all()
    for agency_id, month, count, average in _spikes(issued, settings):
        county = db.session.scalar(sa.select(Agency.county_code).where(Agency.id == agency_id))
        yield Finding(f"agency:{agency_id}:{month}", f"{agencies[agency_id]} {month} 发证 {count} 本，"
                                                     f"此前 {int(settings['spike_months'])} 个月月均 {average:.1f} 本",
                      county, agency_id)
    institutions = dict(db.session.execute(sa.select(TrainingInstitution.id, TrainingInstitution.name)).all())
    enrolled = db.session.execute(
        sa.select(TrainingClass.institution_id, sa.extract("year", Enrollment.enrolled_on),
                  sa.extract("month", Enrollment.enrolled_on), sa.func.count())
        .join(TrainingClass, TrainingClass.id == Enrollment.class_id)
        .group_by(TrainingClass.institution_id, sa.extract("year", Enrollment.enrolled_on),
                  sa.extract("month", Enrollment.enrolled_on))).all()
    for institution_id, month, count, average in _spikes(enrolled, settings):
        county = db.session.scalar(sa.select(TrainingInstitution.county_code)
                                   .where(TrainingInstitution.id == institution_id))
        yield Finding(f"institution:{institution_id}:{month}",
                      f"{institutions[institution_id]} {month} 报名 {count} 人次，"
                      f"此前 {int(settings['spike_months'])} 个月月均 {average:.1f} 人次",
                      county, institution_id=institution_id)


def _spikes(rows, settings: dict[str, float]) -> Iterator[tuple[int, str, int, float]]:
    """(owner, "YYYY-MM", count, average before) of every month far above the months before it; an owner
    needs `spike_months` months of history (counted from its first month, empty months as 0)."""
    factor, span, minimum = settings["spike_factor"], int(settings["spike_months"]), settings["spike_minimum"]
    counts: dict[int, dict[int, int]] = defaultdict(dict)
    for owner, year, month, count in rows:
        counts[owner][int(year) * 12 + int(month) - 1] = count
    for owner, months in sorted(counts.items()):
        first = min(months)
        for index, count in sorted(months.items()):
            if index - first < span or count < minimum:
                continue
            average = sum(months.get(index - back, 0) for back in range(1, span + 1)) / span
            if count >= factor * max(average, 1e-9):
                yield owner, f"{index // 12}-{index % 12 + 1:02d}", count, average


@signal("assessor_overlap", "考评员分身",
        "同一考评员在认定日期重叠的两个批次中、在不同县区担任考评。一人不能同时在两地考评，"
        "说明考评员名单只是挂名。")
def assessor_overlaps(_settings: dict[str, float]) -> Iterator[Finding]:
    first, second = aliased(BatchAssessor), aliased(BatchAssessor)
    one, other = aliased(AssessmentBatch), aliased(AssessmentBatch)
    rows = db.session.execute(
        sa.select(first.assessor_id, Assessor.name, Assessor.agency_id, one.id.label("one"),
                  one.county_code, other.id.label("other"), other.county_code.label("other_county"))
        .join(second, sa.and_(second.assessor_id == first.assessor_id, second.batch_id > first.batch_id))
        .join(one, one.id == first.batch_id).join(other, other.id == second.batch_id)
        .join(Assessor, Assessor.id == first.assessor_id)
        .where(one.county_code != other.county_code,
               one.assessed_on <= sa.func.coalesce(other.assessed_until, other.assessed_on),
               other.assessed_on <= sa.func.coalesce(one.assessed_until, one.assessed_on)))
    for row in rows:
        yield Finding(f"{row.assessor_id}:{row.one}:{row.other}",
                      f"考评员 {row.name}（#{row.assessor_id}）同时在批次 #{row.one}（县区 {row.county_code}）和批次 "
                      f"#{row.other}（县区 {row.other_county}）担任考评", row.county_code, row.agency_id)
