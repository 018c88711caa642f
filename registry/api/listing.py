"""Pagination shared by the API's list endpoints; their filters are read with registry.core.arguments."""
import sqlalchemy as sa

from registry.api.spec import exactly
from registry.core import arguments
from registry.core.arguments import MAX_ID
from registry.core.db import db
from registry.core.listing import MAX_PER_PAGE


def page_of(statement: sa.Select, order: list, serialize) -> dict:
    """A stable page: ordered by the given columns, then by whatever `order` ends with (a primary key)."""
    page = arguments.integer("page", 1)
    per_page = arguments.integer("per_page", 50, maximum=MAX_PER_PAGE)
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
