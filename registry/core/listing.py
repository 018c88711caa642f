"""Sortable, paginated tables: the one way list pages turn query-string arguments into a page of rows."""
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from flask_sqlalchemy.pagination import Pagination

from registry.core import arguments
from registry.core.db import db

MAX_PER_PAGE = 200


@dataclass(frozen=True)
class Sorting:
    key: str
    descending: bool


def current_sorting(columns: dict[str, sa.ColumnElement], default: str) -> Sorting:
    """Read ?sort=key&dir=desc. A key no column has (an old bookmark) falls back to the default order."""
    key = arguments.option("sort", columns, default)
    return Sorting(key, arguments.option("dir", ("asc", "desc")) == "desc")


def paginate(statement: sa.Select, columns: dict[str, sa.ColumnElement], default: str) -> tuple[Pagination, Sorting]:
    sorting = current_sorting(columns, default)
    column = columns[sorting.key]
    # A tie-breaker on the primary key keeps pages stable when many rows share the sorted value.
    primary = list(statement.get_final_froms()[0].primary_key)
    order = [column.desc() if sorting.descending else column.asc(), *primary]
    page = db.paginate(
        statement.order_by(*order),
        page=arguments.integer("page", 1),
        per_page=arguments.integer("per_page", current_app.config["PER_PAGE"], maximum=MAX_PER_PAGE),
        error_out=False,
    )
    return page, sorting
