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


def current_sorting(columns: dict[str, sa.ColumnElement], default: str, newest_first: bool = False) -> Sorting:
    """Read ?sort=key&dir=desc. A key no column has (an old bookmark) falls back to the default order.

    Without ?dir= a list keyed by a date opens `newest_first`: a clerk looks for what was just entered."""
    key = arguments.option("sort", columns, default)
    direction = arguments.option("dir", ("asc", "desc"))
    if direction is None:
        return Sorting(key, newest_first and key == default)
    return Sorting(key, direction == "desc")


def ordering(column: sa.ColumnElement, tie_breakers: list, descending: bool) -> list:
    """The sorted column, then the tie-breakers in the same direction: among rows of one date, the one
    entered last comes first when the list is newest first."""
    return [expression.desc() if descending else expression.asc() for expression in (column, *tie_breakers)]


def paginate(statement: sa.Select, columns: dict[str, sa.ColumnElement], default: str,
             newest_first: bool = False) -> tuple[Pagination, Sorting]:
    sorting = current_sorting(columns, default, newest_first)
    column = columns[sorting.key]
    # A tie-breaker on the primary key keeps pages stable when many rows share the sorted value.
    primary = list(statement.get_final_froms()[0].primary_key)
    order = ordering(column, primary, sorting.descending)
    page = db.paginate(
        statement.order_by(*order),
        page=arguments.integer("page", 1),
        per_page=arguments.integer("per_page", current_app.config["PER_PAGE"], maximum=MAX_PER_PAGE),
        error_out=False,
    )
    return page, sorting
