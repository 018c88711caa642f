"""How numbers and dates read on every page and file: one format each, whichever list shows them."""
from datetime import date


def number(value) -> str:
    """Whole numbers with a thousands separator (1,018), the cockpit's format; anything else as it is."""
    if isinstance(value, bool) or not isinstance(value, int):
        return "" if value is None else str(value)
    return f"{value:,}"


def chinese_date(value: date | str | None) -> str:
    """2022年07月24日: the way a certificate prints a date (two-digit month and day keep columns aligned)."""
    if value is None or value == "":
        return ""
    day = value if isinstance(value, date) else date.fromisoformat(value)
    return f"{day.year}年{day.month:02d}月{day.day:02d}日"
