"""Query-string parsing and pagination shared by the API's list endpoints."""
from datetime import date

import sqlalchemy as sa
from flask import request

from registry.api.errors import ApiError
from registry.api.schemas import MAX_ID
from registry.api.spec import exactly
from registry.core.db import db

MAX_PER_PAGE = 200


def query_int(name: str, default: int | None = None, minimum: int = 1, maximum: int = MAX_ID) -> int | None:
    text = request.args.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise ApiError(400, f"{name}：应为整数，实为“{text}”", [{"field": name}]) from None
    if not minimum <= value <= maximum:
        raise ApiError(400, f"{name}：应在 {minimum}–{maximum} 之间", [{"field": name}])
    return value


def query_date(name: str) -> date | None:
    text = request.args.get(name)
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ApiError(400, f"{name}：日期格式应为 YYYY-MM-DD，实为“{text}”", [{"field": name}]) from None


def query_bool(name: str) -> bool | None:
    text = request.args.get(name)
    if text is None or text == "":
        return None
    if text.lower() in ("true", "1"):
        return True
    if text.lower() in ("false", "0"):
        return False
    raise ApiError(400, f"{name}：应为 true 或 false", [{"field": name}])


def query_text(name: str, max_length: int = 60) -> str | None:
    text = (request.args.get(name) or "").strip()
    if len(text) > max_length:
        raise ApiError(400, f"{name}：最多 {max_length} 个字符", [{"field": name}])
    if "\x00" in text:  # PostgreSQL refuses NUL in any text parameter
        raise ApiError(400, f"{name}：含有 NUL 字符", [{"field": name}])
    return text or None


def query_choice(name: str, choices) -> str | None:
    text = request.args.get(name)
    if text is None or text == "":
        return None
    if text not in {str(choice) for choice in choices}:
        raise ApiError(400, f"{name}：应为以下之一：{'、'.join(map(str, choices))}", [{"field": name}])
    return text


def page_of(statement: sa.Select, order: list, serialize) -> dict:
    """A stable page: ordered by the given columns, then by whatever `order` ends with (a primary key)."""
    page = query_int("page", 1)
    per_page = query_int("per_page", 50, maximum=MAX_PER_PAGE)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(statement.order_by(None).subquery()))
    items = db.session.scalars(statement.order_by(*order).limit(per_page).offset((page - 1) * per_page))
    return {"page": page, "per_page": per_page, "total": total, "items": [serialize(item) for item in items]}


PAGINATION_QUERY = [
    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}},
    {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE}},
]


def page_schema(item: dict) -> dict:
    return exactly({"page": {"type": "integer"}, "per_page": {"type": "integer"},
                    "total": {"type": "integer"}, "items": {"type": "array", "items": item}})
