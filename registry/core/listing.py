"""Sortable, paginated tables: the one way list pages turn query-string arguments into a page of rows."""
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app, request
from flask_sqlalchemy.pagination import Pagination

from registry.core.db import db


@dataclass(frozen=True)
class Sorting:
    key: str
    descending: bool


def current_sorting(columns: dict[str, sa.ColumnElement], default: str) -> Sorting:
    """Read ?sort=key&dir=desc, accepting only whitelisted keys."""
    key = request.args.get("sort", default)
    if key not in columns:
        key = default
    return Sorting(key, request.args.get("dir") == "desc")


def paginate(statement: sa.Select, columns: dict[str, sa.ColumnElement], default: str) -> tuple[Pagination, Sorting]:
    sorting = current_sorting(columns, default)
    column = columns[sorting.key]
    # A tie-breaker on the primary key keeps pages stable when many rows share the sorted value.
    primary = list(statement.get_final_froms()[0].primary_key)
    order = [column.desc() if sorting.descending else column.asc(), *primary]
    page = db.paginate(
        statement.order_by(*order),
        page=request.args.get("page", 1, type=int),
        per_page=min(request.args.get("per_page", current_app.config["PER_PAGE"], type=int), 200),
        error_out=False,
    )
    return page, sorting
