"""One way to print a figure everywhere in the statistics (page, cards, PDF): thousands separators, 万 beside
large counts as officials write targets, rates with two decimals, shares of a target with one."""
from decimal import ROUND_HALF_UP, Decimal

from registry.stats.indicators import RATE_SCALE, Reading

COMPARATOR_SIGNS = {"=": "", ">": "＞", ">=": "≥"}


def count(value: int) -> str:
    return f"{value:,}"


def wan(value: int) -> str:
    """135万, 12.5万, 0.001万: at most four decimals (one person), trailing zeros dropped."""
    text = format((Decimal(value) / 10_000).quantize(Decimal("0.0001"), ROUND_HALF_UP).normalize(), "f")
    return f"{text}万"


def count_wan(value: int) -> str:
    """1,350,000（135万）; below 10,000 the count alone."""
    return f"{value:,}（{wan(value)}）" if abs(value) >= 10_000 else f"{value:,}"


def share(fraction: float | None) -> str:
    return "" if fraction is None else f"{fraction * 100:.1f}%"


def figure(reading: Reading, value: int | None) -> str:
    """A value of an indicator in its own unit: a count, or a rate in percent."""
    if value is None:
        return "无数据"
    if reading.definition.is_rate:
        return f"{value * 100 / RATE_SCALE:.2f}%"
    return count(value)


def target(reading: Reading) -> str:
    if not reading.has_target:
        return "未设目标"
    sign = COMPARATOR_SIGNS.get(reading.comparator, "")
    if reading.definition.is_rate:
        return f"{sign}{figure(reading, reading.target)}"
    return f"{sign}{count_wan(reading.target)}"


def pace(reading: Reading, weekly: float | int | None) -> str:
    """A weekly change: persons (one decimal) or percentage points."""
    if weekly is None:
        return ""
    if reading.definition.is_rate:
        return f"{weekly * 100 / RATE_SCALE:.2f}个百分点"
    return f"{weekly:,.1f}" if isinstance(weekly, float) else f"{weekly:,}"


def needed(reading: Reading) -> str:
    """The weekly change the deadline asks for, or why there is no such figure."""
    projection = reading.projection
    if projection is None or projection.needed_weekly is None:
        return "" if projection is None else projection.needed_label
    return pace(reading, projection.needed_weekly)


def reached(reading: Reading) -> str:
    """The date the target is reached at the recent pace (late ones marked), or why there is none."""
    projection = reading.projection
    if projection is None:
        return ""
    label = projection.reach_label
    if projection.reached_on and not projection.on_track:
        label += "（晚于期限）"
    return label
