"""Reference-data operations: occupations, targets and county denominators. The caller commits."""
import re
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import sqlalchemy as sa

from registry.core.audit import changes, record_event
from registry.core.db import db
from registry.core.errors import InvalidInput
from registry.reference.checks import current_county
from registry.reference.models import CITY_CODE, County, CountyEmployment, Indicator, Occupation, SkillLevel, Target

OCCUPATION_CODE = re.compile(r"^\d-\d{2}-\d{2}-\d{2}$")
OCCUPATION_CODE_MESSAGE = "格式应为 d-dd-dd-dd，例如 4-03-02-01"
# The 职业分类大典 was published in 1999, 2015 and 2022; later revisions keep the year as their name.
EDITION_RANGE = (1999, 2100)
NAME_LENGTH, WORK_TYPE_LENGTH, CONFIDENCE_LENGTH = 60, 60, 120
TARGET_YEARS = (2021, 2035)
COMPARATORS = {"=": "等于", ">": "大于", ">=": "不低于"}
# Numeric(14, 4): ten integer digits, four decimals — 0.0001 万人 is one person.
TARGET_PLACES = 4
TARGET_LIMIT = Decimal("9999999999")
# Units that count whole things cannot be split into fractions; "%" cannot be split at all.
WHOLE_UNITS = {"家"}
RATE_UNITS = {"%"}
# Well above Kaifeng's ~3 million employed, well below the INTEGER column limit.
EMPLOYED_LIMIT = 100_000_000
EMPLOYMENT_FIRST_YEAR = 2020  # the plan's base year: its rates start from the 2020 employed population


# ---- occupations -------------------------------------------------------------------------------------------

def occupation_fields(occupation: Occupation) -> dict:
    return {
        "code": occupation.code,
        "name": occupation.name,
        "edition": occupation.edition,
        "levels": list(occupation.levels or []),
        "work_types": list(occupation.work_types or []),
        "is_active": occupation.is_active,
        "confidence": occupation.confidence,
        "source": occupation.source,
    }


def parse_work_types(text: str | Iterable[str]) -> list[str]:
    """One name per line; blanks dropped, duplicates kept once in the order first entered."""
    lines = text.splitlines() if isinstance(text, str) else text
    names = [line.strip() for line in lines if line and line.strip()]
    return list(dict.fromkeys(names))


def create_occupation(actor, code: str, name: str, edition: int, levels: Iterable[int] = (),
                      work_types: str | Iterable[str] = "", is_active: bool = True,
                      confidence: str = "", source: str = "") -> Occupation:
    occupation = Occupation()
    _apply_occupation(occupation, code, name, edition, levels, work_types, is_active, confidence, source)
    db.session.add(occupation)
    db.session.flush()
    record_event(actor, "create", "occupation", occupation.id, after=occupation_fields(occupation))
    return occupation


def update_occupation(actor, occupation: Occupation, code: str, name: str, edition: int,
                      levels: Iterable[int] = (), work_types: str | Iterable[str] = "",
                      is_active: bool = True, confidence: str = "", source: str = "") -> None:
    before = occupation_fields(occupation)
    _apply_occupation(occupation, code, name, edition, levels, work_types, is_active, confidence, source)
    old, new = changes(before, occupation_fields(occupation))
    if new:
        record_event(actor, "update", "occupation", occupation.id, before=old, after=new)


def _apply_occupation(occupation: Occupation, code, name, edition, levels, work_types, is_active,
                      confidence, source) -> None:
    """Check every field before touching the row, so a refused edit leaves it as it was."""
    code, name = (code or "").strip(), (name or "").strip()
    if not OCCUPATION_CODE.fullmatch(code):
        raise InvalidInput("code", f"职业编码：{OCCUPATION_CODE_MESSAGE}")
    if not name:
        raise InvalidInput("name", "职业名称：不能为空")
    if len(name) > NAME_LENGTH:
        raise InvalidInput("name", f"职业名称：最多 {NAME_LENGTH} 个字符")
    if not isinstance(edition, int) or not EDITION_RANGE[0] <= edition <= EDITION_RANGE[1]:
        raise InvalidInput("edition", "大典版本：应为版本年份，例如 2015 或 2022")
    level_set = _checked_levels(levels)
    names = parse_work_types(work_types)
    if too_long := [item for item in names if len(item) > WORK_TYPE_LENGTH]:
        raise InvalidInput("work_types", f"工种/职业方向：“{too_long[0]}”超过 {WORK_TYPE_LENGTH} 个字符")
    confidence = (confidence or "").strip()
    if len(confidence) > CONFIDENCE_LENGTH:
        raise InvalidInput("confidence", f"可信度：最多 {CONFIDENCE_LENGTH} 个字符")
    taken = sa.select(Occupation.id).where(Occupation.code == code, Occupation.edition == edition)
    if occupation.id is not None:
        taken = taken.where(Occupation.id != occupation.id)
    if db.session.scalar(taken):
        raise InvalidInput("code", f"职业编码：{edition} 版大典中已有职业 {code}")
    occupation.code, occupation.name, occupation.edition = code, name, edition
    occupation.levels, occupation.work_types = level_set, names
    occupation.is_active, occupation.confidence = bool(is_active), confidence
    occupation.source = (source or "").strip()


def _checked_levels(levels: Iterable[int]) -> list[int]:
    allowed = {level.value for level in SkillLevel}
    try:
        chosen = {int(level) for level in levels or ()}
    except (TypeError, ValueError):
        chosen = {0}
    if not chosen <= allowed:
        raise InvalidInput("levels", "技能等级：只能是一级至五级")
    # Stored lowest level first, as the catalogue writes "五级~一级".
    return sorted(chosen, reverse=True)


# ---- targets -----------------------------------------------------------------------------------------------

def target_fields(target: Target) -> dict:
    return {
        "indicator_key": target.indicator_key,
        "county_code": target.county_code,
        "year": target.year,
        "comparator": target.comparator,
        "value": plain_number(target.value),
    }


def set_target(actor, indicator_key: str, county_code: str, year: int, value,
               comparator: str = "=") -> Target:
    """Create the target for (indicator, county, year), or change the one that is there."""
    indicator = _indicator(indicator_key)
    county = db.session.get(County, (county_code or "").strip())
    if county is None or not county.is_current:
        raise InvalidInput("county_code", f"县区：未知或已撤销的县区代码 {county_code or '（空）'}")
    year = _checked_year(year)
    if comparator not in COMPARATORS:
        raise InvalidInput("comparator", "比较方式：只能是 =、> 或 >=")
    value = _checked_value(value)
    target = db.session.scalar(sa.select(Target).where(
        Target.indicator_key == indicator.key, Target.county_code == county.code, Target.year == year))
    if target is None:
        target = Target(indicator_key=indicator.key, county_code=county.code, year=year,
                        value=value, comparator=comparator)
        db.session.add(target)
        db.session.flush()
        record_event(actor, "create", "target", target.id, after=target_fields(target))
        return target
    before = target_fields(target)
    target.value, target.comparator = value, comparator
    old, new = changes(before, target_fields(target))
    if new:
        record_event(actor, "update", "target", target.id, before=old, after=new)
    return target


def split_city_target(actor, indicator_key: str, year: int,
                      weights: Mapping[str, object] | None = None) -> list[Target]:
    """Write county targets in proportion to weights (default: employed persons) that add up to the city's."""
    indicator = _indicator(indicator_key)
    if indicator.unit in RATE_UNITS:
        raise InvalidInput("indicator_key",
                           f"指标：{indicator.name}是比例（{indicator.unit}），不能按权重分解，请逐个县区设置")
    year = _checked_year(year)
    city = db.session.scalar(sa.select(Target).where(
        Target.indicator_key == indicator.key, Target.county_code == CITY_CODE, Target.year == year))
    if city is None:
        raise InvalidInput("year", f"年份：{indicator.name}尚无 {year} 年的全市目标")
    shares = _checked_weights(denominator_weights() if weights is None else weights)
    places = 0 if indicator.unit in WHOLE_UNITS else TARGET_PLACES
    parts = apportion(Decimal(city.value), shares, places)
    return [set_target(actor, indicator.key, code, year, part, city.comparator)
            for code, part in parts.items()]


def denominator_weights() -> dict[str, int]:
    counties = db.session.scalars(sa.select(County).where(County.is_current, County.code != CITY_CODE)
                                  .order_by(County.code))
    weights = {}
    for county in counties:
        if not county.employed_persons:
            raise InvalidInput("weights", f"分解权重：县区 {county.name}（{county.code}）未设置从业人员数")
        weights[county.code] = county.employed_persons
    return weights


def apportion(total: Decimal, weights: Mapping[str, Decimal], places: int) -> dict[str, Decimal]:
    """Round each share to `places` decimals; the largest county absorbs the remainder so the parts add up."""
    quantum = Decimal(1).scaleb(-places)
    weight_sum = sum(weights.values())
    parts = {code: (total * weight / weight_sum).quantize(quantum, ROUND_HALF_UP)
             for code, weight in weights.items()}
    largest = max(weights, key=lambda code: (weights[code], -int(code)))
    parts[largest] += total - sum(parts.values())
    if parts[largest] < 0:
        raise InvalidInput("weights", f"分解权重：全市目标 {plain_number(total)} 太小，无法按 {len(parts)} 个县区分解")
    return parts


def _checked_weights(weights: Mapping[str, object]) -> dict[str, Decimal]:
    checked = {}
    for code, weight in weights.items():
        county = current_county(code)
        if county is None:
            raise InvalidInput("weights", f"分解权重：未知或已撤销的县区代码 {code}")
        try:
            checked[code] = Decimal(str(weight))
        except InvalidOperation:
            checked[code] = Decimal(-1)
        if not checked[code].is_finite() or checked[code] < 0:
            raise InvalidInput("weights", f"分解权重：县区 {county.name} 的权重应为不小于 0 的数")
    if not checked or sum(checked.values()) <= 0:
        raise InvalidInput("weights", "分解权重：权重合计必须大于 0")
    return checked


def _indicator(key: str) -> Indicator:
    indicator = db.session.get(Indicator, (key or "").strip())
    if indicator is None:
        raise InvalidInput("indicator_key", f"指标：未知指标 {key or '（空）'}")
    return indicator


def _checked_year(year) -> int:
    if not isinstance(year, int) or not TARGET_YEARS[0] <= year <= TARGET_YEARS[1]:
        raise InvalidInput("year", f"年份：应在 {TARGET_YEARS[0]} 至 {TARGET_YEARS[1]} 年之间")
    return year


def _checked_value(value) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise InvalidInput("value", "目标值：应为数字") from None
    if not number.is_finite():
        raise InvalidInput("value", "目标值：应为数字")
    if number < 0:
        raise InvalidInput("value", "目标值：不能为负数")
    if number > TARGET_LIMIT:
        raise InvalidInput("value", f"目标值：不能超过 {TARGET_LIMIT}")
    if number != number.quantize(Decimal(1).scaleb(-TARGET_PLACES)):
        raise InvalidInput("value", f"目标值：最多 {TARGET_PLACES} 位小数")
    return number


def plain_number(value) -> str:
    """'135.0000' and '135' are the same target; the log shows the short form."""
    return format(Decimal(value).normalize(), "f")


# ---- county denominators -----------------------------------------------------------------------------------

def set_county_denominator(actor, county: County, employed_persons: int | None) -> None:
    """从业人员数 — the denominator of coverage rates and the default weight when splitting targets."""
    if not county.is_current:
        successor = county.successor.name if county.successor else "现行县区"
        raise InvalidInput("employed_persons", f"从业人员数：{county.name}已撤销，请在{successor}设置")
    is_integer = isinstance(employed_persons, int) and not isinstance(employed_persons, bool)
    if employed_persons is not None and (not is_integer or employed_persons <= 0):
        raise InvalidInput("employed_persons", "从业人员数：应为正整数，或留空表示未设置")
    if employed_persons is not None and employed_persons > EMPLOYED_LIMIT:
        raise InvalidInput("employed_persons", f"从业人员数：不能超过 {EMPLOYED_LIMIT}")
    before = {"employed_persons": county.employed_persons}
    county.employed_persons = employed_persons
    old, new = changes(before, {"employed_persons": employed_persons})
    if new:
        record_event(actor, "update", "county", county.code, before=old, after=new)


def set_employment(actor, county_code: str, year, employed_persons, source: str) -> CountyEmployment:
    """从业人员数 of a county (or the city) in a year, with its source: the denominator of the plan's rates.
    Years from the plan's 2020 base to the current one: a later year has no figure yet."""
    county = db.session.get(County, (county_code or "").strip())
    if county is None or not county.is_current:
        raise InvalidInput("county_code", f"县区：未知或已撤销的县区代码 {county_code or '（空）'}")
    last_year = date.today().year
    if not isinstance(year, int) or isinstance(year, bool) or not EMPLOYMENT_FIRST_YEAR <= year <= last_year:
        raise InvalidInput("year", f"年份：应在 {EMPLOYMENT_FIRST_YEAR} 至 {last_year} 年之间，实为“{year}”")
    is_integer = isinstance(employed_persons, int) and not isinstance(employed_persons, bool)
    if not is_integer or not 0 < employed_persons <= EMPLOYED_LIMIT:
        raise InvalidInput("employed_persons", f"从业人员数：{county.name} {year} 年应为 1 至 {EMPLOYED_LIMIT} 的整数")
    source = (source or "").strip()
    if not source or len(source) > 200:
        raise InvalidInput("source", f"来源：{county.name} {year} 年的从业人员数须注明来源（最多 200 个字符）")
    row = db.session.scalar(sa.select(CountyEmployment).where(CountyEmployment.county_code == county.code,
                                                              CountyEmployment.year == year))
    before = None if row is None else {"employed_persons": row.employed_persons, "source": row.source}
    if row is None:
        row = CountyEmployment(county_code=county.code, year=year, employed_persons=employed_persons, source=source)
        db.session.add(row)
        db.session.flush()
    row.employed_persons, row.source = employed_persons, source
    after = {"county_code": county.code, "year": year, "employed_persons": employed_persons, "source": source}
    if before is None:
        record_event(actor, "create", "county_employment", row.id, after=after)
    else:
        old, new = changes(before, {"employed_persons": employed_persons, "source": source})
        if new:
            record_event(actor, "update", "county_employment", row.id, before=old, after=new)
    return row
