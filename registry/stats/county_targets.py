"""County targets set on one form: pasted from Excel (one county a line), or the city's target split by a
stated key and previewed before it is saved. All rows are checked first; one bad row saves nothing. A target
below what the county has already reached is allowed, with a notice. The caller commits."""
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa

from registry.core.db import db
from registry.core.errors import InvalidInput
from registry.reference.models import CITY_CODE, County, Indicator, Target
from registry.reference.operations import (
    RATE_UNITS, TARGET_PLACES, WHOLE_UNITS, apportion, denominator_weights, plain_number, set_target,
)
from registry.reference.queries import current_counties
from registry.stats import indicators
from registry.stats.coverage import NEW_SINCE, TARGET_YEAR

BASELINE_DAY = date(2020, 12, 31)  # "each county's share of 2020 holders": the registry's holders on this day
SPLIT_KEYS = {"holders_2020": "各县区2020年底持证人数（本系统）占比", "employed": "各县区从业人员数占比"}


@dataclass(frozen=True)
class Row:
    county: County
    value: Decimal  # in the indicator's unit (万人, %, 家)
    reached: int | None  # the county's reading as of the date, in the readings' scale
    notice: str = ""


def settable_indicators() -> list[Indicator]:
    """Indicators a county can have a target for: those the registry measures."""
    found = {indicator.key: indicator for indicator in db.session.scalars(sa.select(Indicator))}
    return [found[definition.key] for definition in indicators.DEFINITIONS
            if definition.key in found and definition.key not in indicators.NO_SOURCE]


def checked_as_of(text: str | None) -> date:
    """The date a target is compared with; the plan period starts in 2021 and the future has no figures."""
    text = (text or "").strip()
    if not text:
        return date.today()
    try:
        as_of = date.fromisoformat(text)
    except ValueError:
        raise InvalidInput("as_of", f"对照日期：格式应为 YYYY-MM-DD，实为“{text}”") from None
    if as_of < NEW_SINCE:
        raise InvalidInput("as_of", f"对照日期：{as_of.isoformat()} 早于规划期起点 {NEW_SINCE.isoformat()}")
    if as_of > date.today():
        raise InvalidInput("as_of", f"对照日期：{as_of.isoformat()} 晚于今天，不能与未来比较")
    return as_of


def indicator_or_error(key: str | None) -> Indicator:
    indicator = next((item for item in settable_indicators() if item.key == (key or "").strip()), None)
    if indicator is None:
        raise InvalidInput("indicator_key", f"指标：未知或本系统无法统计的指标 {key or '（空）'}")
    return indicator


def parse_paste(indicator: Indicator, text: str, as_of: date) -> list[Row]:
    """Lines of "county code or name, value" (tab, comma or spaces between, as Excel copies them); a first line
    that is a header is skipped. InvalidInput naming every bad line; nothing is returned half-checked."""
    counties = current_counties()
    by_code = {county.code: county for county in counties}
    by_name = {county.name: county for county in counties}
    values: dict[str, Decimal] = {}
    errors = []
    lines = [(number, line) for number, line in enumerate((text or "").splitlines(), start=1) if line.strip()]
    for position, (number, line) in enumerate(lines):
        cells = [cell.strip() for cell in line.replace("，", ",").replace(",", "\t").split("\t") if cell.strip()]
        if len(cells) == 1:
            cells = cells[0].split()
        if position == 0 and cells and cells[0] not in by_code and cells[0] not in by_name \
                and not cells[0].isdigit():
            continue  # the header row Excel copies along
        if len(cells) != 2:
            errors.append(f"第 {number} 行：应为“县区代码或名称、目标值”两列，实为“{line.strip()}”")
            continue
        name, raw = cells
        county = by_code.get(name) or by_name.get(name)
        if county is None:
            errors.append(f"第 {number} 行：未知的县区“{name}”（应为现行县区的代码或名称）")
            continue
        problem = _value_problem(indicator, raw)
        if problem:
            errors.append(f"第 {number} 行（{county.name}）：目标值“{raw}”{problem}")
            continue
        if county.code in values:
            errors.append(f"第 {number} 行：{county.name}重复出现")
            continue
        values[county.code] = Decimal(raw)
    if errors:
        raise InvalidInput("paste", "未保存任何目标。" + "；".join(errors))
    if not values:
        raise InvalidInput("paste", "未保存任何目标：没有读到县区和目标值")
    return rows_with_notices(indicator, values, as_of)


def _value_problem(indicator: Indicator, raw: str) -> str:
    try:
        number = Decimal(raw)
    except InvalidOperation:
        return "不是数字"
    if not number.is_finite():
        return "不是数字"
    if number < 0:
        return "不能为负数"
    if number != number.quantize(Decimal(1).scaleb(-TARGET_PLACES)):
        return f"最多 {TARGET_PLACES} 位小数"
    if indicator.unit in WHOLE_UNITS and number != number.to_integral_value():
        return f"应为整数（单位：{indicator.unit}）"
    if indicator.unit in RATE_UNITS and number > 100:
        return "是比例，不能超过 100"
    return ""


def split_preview(indicator: Indicator, key: str, as_of: date) -> list[Row]:
    """The city's 2025 target split by the key: what saving would write, shown first."""
    if indicator.unit in RATE_UNITS:
        raise InvalidInput("indicator_key", f"指标：{indicator.name}是比例（%），不能按权重分解，请逐个县区粘贴")
    city = db.session.scalar(sa.select(Target).where(Target.indicator_key == indicator.key,
                                                     Target.county_code == CITY_CODE, Target.year == TARGET_YEAR))
    if city is None:
        raise InvalidInput("indicator_key", f"指标：{indicator.name}尚无 {TARGET_YEAR} 年的全市目标，无从分解")
    if key == "holders_2020":
        weights = {county.code: indicators.holders_on([county.code], BASELINE_DAY) for county in current_counties()}
        if not any(weights.values()):
            raise InvalidInput("key", "分解依据：本系统中 2020 年底没有任何持证人员，请改用从业人员数或粘贴目标")
    elif key == "employed":
        weights = denominator_weights()
    else:
        raise InvalidInput("key", f"分解依据：未知的依据“{key}”")
    places = 0 if indicator.unit in WHOLE_UNITS else TARGET_PLACES
    parts = apportion(Decimal(city.value), {code: Decimal(weight) for code, weight in weights.items()}, places)
    return rows_with_notices(indicator, parts, as_of)


def rows_with_notices(indicator: Indicator, values: dict[str, Decimal], as_of: date) -> list[Row]:
    rows = []
    for county in current_counties():
        if county.code not in values:
            continue
        reading = indicators.readings(indicators.Scope(county.code, county.name), as_of)[indicator.key]
        target = indicators.to_scale(values[county.code], indicator.unit)
        notice = ""
        if reading.value is not None and target < reading.value:
            notice = (f"{county.name}：目标低于截至 {as_of.isoformat()} 已达到的数字"
                      f"（{plain_number(values[county.code])}{indicator.unit}），仍按所填保存")
        rows.append(Row(county, values[county.code], reading.value, notice))
    return rows


def save(actor, indicator: Indicator, rows: list[Row]) -> None:
    for row in rows:
        set_target(actor, indicator.key, row.county.code, TARGET_YEAR, row.value)
