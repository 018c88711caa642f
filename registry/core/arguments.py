"""Query-string arguments: the one parser every page and the API read them with.

A value is checked before it reaches the database, so nothing a visitor types into an address is a server
error: a number out of its column's range, an unknown choice, or a NUL (PostgreSQL refuses it in any text
parameter) is a 400 naming the parameter and the reason, as a page (registry/app.py) or as the API's JSON
(registry/api/errors.py). Where a user expects a stale value to be ignored (a sort key), it is.
"""
import re
from collections.abc import Iterable
from datetime import date

from flask import request
from werkzeug.exceptions import BadRequest

# Row ids are 32-bit database integers: a larger number can name no row, and would overflow the driver.
MAX_ID = 2**31 - 1
# int() also reads "²", "١٢" and "1_000"; an address parameter is plain ASCII digits.
INTEGER = re.compile(r"-?[0-9]+")


class BadArgument(BadRequest):
    """A query parameter that cannot be read: 400, with a Chinese message that names it."""

    def __init__(self, name: str, message: str):
        super().__init__(description=message)
        self.parameter = name


def integer(name: str, default: int | None = None, minimum: int = 1, maximum: int = MAX_ID) -> int | None:
    text = request.args.get(name)
    if text is None or text == "":
        return default
    digits = text.strip()
    if not INTEGER.fullmatch(digits):
        raise BadArgument(name, f"{name}：应为整数，实为“{_shown(text)}”")
    # Bounded by length first: int() of thousands of digits is slow, and refused past 4,300.
    if len(digits) > 20 or not minimum <= int(digits) <= maximum:
        raise BadArgument(name, f"{name}：应在 {minimum}–{maximum} 之间")
    return int(digits)


def choice(name: str, choices: Iterable, default: str | None = None,
           ignore_unknown: bool = False) -> str | None:
    """One of `choices` (compared as text); an unknown value is a 400, or the default if `ignore_unknown`."""
    text = request.args.get(name)
    if text is None or text == "":
        return default
    allowed = [str(item) for item in choices]
    if text not in allowed:
        if ignore_unknown:
            return default
        raise BadArgument(name, f"{name}：应为以下之一：{'、'.join(allowed)}")
    return text


def option(name: str, choices: Iterable, default: str | None = None) -> str | None:
    """A list page's filter or sort choice: an unknown value (an old bookmark, a renamed option) is ignored,
    as the pages' filter bars ignore what they cannot read. The API refuses it instead (`choice`)."""
    return choice(name, choices, default, ignore_unknown=True)


def text(name: str, max_length: int = 60) -> str | None:
    """Stripped text, None when blank. NUL is refused for every parameter before any view runs."""
    value = (request.args.get(name) or "").strip()
    if len(value) > max_length:
        raise BadArgument(name, f"{name}：最多 {max_length} 个字符")
    return value or None


def day(name: str) -> date | None:
    value = request.args.get(name)
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadArgument(name, f"{name}：日期格式应为 YYYY-MM-DD，实为“{_shown(value)}”") from None


def boolean(name: str) -> bool | None:
    value = request.args.get(name)
    if value is None or value == "":
        return None
    if value.lower() in ("true", "1"):
        return True
    if value.lower() in ("false", "0"):
        return False
    raise BadArgument(name, f"{name}：应为 true 或 false")


def refuse_nul() -> None:
    """Before every request: no parameter may carry NUL, whichever code reads it (a view, a WTForms form)."""
    for name, value in request.args.items(multi=True):
        if "\x00" in name or "\x00" in value:
            shown = name.replace("\x00", "")
            raise BadArgument(shown, f"{shown}：含有 NUL 字符")


def _shown(value: str) -> str:
    """Echo a refused value, but not all of a very long one."""
    return value if len(value) <= 40 else value[:40] + "…"


EXPORT_FORMATS = ("xlsx", "csv")


def export_format() -> str | None:
    """?format=xlsx or csv: a list page answered as a file of its rows; None for the page itself."""
    return option("format", EXPORT_FORMATS)
