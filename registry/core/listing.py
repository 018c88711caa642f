"""Sortable, paginated tables: the one way list pages turn query-string arguments into a page of rows.

A page is read in two steps so that its cost does not grow with its number (#17). First the ids of its rows
are found over the sort column's index (an index holds the row id beside the value, so the step reads no
table row); a page in the second half of the list is read from the far end in the reverse order, so the last
page is as cheap as the first. Then only those rows are loaded, with the page's eager loads. Page numbers
stay what users know (first / previous / next / last and 第 N 页 links keep working); a page in the middle
costs a walk over the index entries before it, never a sort of the whole table.
"""
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from flask_sqlalchemy.pagination import Pagination

from registry.core import arguments, row_counts
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
    columns = column if isinstance(column, tuple) else (column,)
    return [expression.desc() if descending else expression.asc() for expression in (*columns, *tie_breakers)]


class IndexedPagination(Pagination):
    """A page found by ids first (see the module's docstring). Both engines sort NULL at one end ascending
    and at the other descending, so the reverse order is exactly the list read backwards."""

    def _query_count(self) -> int:
        if self._query_args.get("total") is None:
            self._query_args["total"] = sum(_count(ids) for ids in self._query_args["counted"])
        return self._query_args["total"]

    def _query_items(self) -> list:
        total, offset = self._query_count(), self._query_offset
        if offset >= total:
            return []
        walk, key = self._query_args["walk"], self._query_args["key"]
        if offset > total // 2:
            # From the far end: the rows after this page, then this page, in the reverse order.
            size = min(self.per_page, total - offset)
            found = list(db.session.scalars(walk(False, size, total - offset - size)))[::-1]
        else:
            found = list(db.session.scalars(walk(True, self.per_page, offset)))
        rows = db.session.execute(self._query_args["rows"].where(key.in_(found))).unique().scalars()
        by_id = {getattr(row, key.key): row for row in rows}
        return [by_id[one] for one in found if one in by_id]


def paginate(statement: sa.Select, columns: dict, default: str, newest_first: bool = False,
             rows: sa.Select | None = None, parts: list[sa.ColumnElement[bool]] | None = None,
             loads: tuple = (),
             ) -> tuple[Pagination, Sorting]:
    """One page of `statement` (a select of one entity with its scope and filters) in the requested order.
    `rows` (default: the statement) is what the page's rows are loaded with, when they need joins that
    finding them does not; `loads` are their eager loads, given apart so that no join they add reaches the
    statements that find and count the page's ids.

    `parts`, when given, are disjoint conditions whose union is the scope, left out of `statement`: a scope
    that is an OR of two indexed columns (a county's certificates: its holders', and those assessed there of
    holders from elsewhere) no single index walks in order, so the ids are merged from one walk a part, in the
    list's order, and counted part by part.

    A column may be a tuple: a value and the id of the row it comes from (see the trainee list)."""
    sorting = current_sorting(columns, default, newest_first)
    column = columns[sorting.key]
    values = column if isinstance(column, tuple) else (column,)
    # A tie-breaker on the primary key keeps pages stable when many rows share the sorted value.
    (key,) = sa.inspect(statement.column_descriptions[0]["entity"]).primary_key
    if parts is not None and len(parts) == 1:
        statement, parts = statement.where(*parts), None
    counted = [_ids(statement, key).where(part) for part in parts] if parts else [_ids(statement, key)]
    if parts:
        walk = _merged_walk(counted, key, values, sorting.descending)
    else:
        walk = _walk(counted[0], values, key, sorting.descending)
    page = IndexedPagination(
        page=arguments.integer("page", 1),
        per_page=arguments.integer("per_page", current_app.config["PER_PAGE"], maximum=MAX_PER_PAGE),
        max_per_page=MAX_PER_PAGE, error_out=False,
        walk=walk, counted=counted, key=key, rows=(statement if rows is None else rows).options(*loads),
    )
    return page, sorting


def _count(ids: sa.Select) -> int:
    """An unfiltered whole table's kept row count, else a count of the ids."""
    kept = row_counts.kept_total(ids)
    if kept is not None:
        return kept
    return db.session.scalar(sa.select(sa.func.count()).select_from(ids.subquery()))


Walk = Callable[[bool, int, int], sa.Select]  # (in the list's order?, limit, offset) → the ids of that stretch


def _ids(statement: sa.Select, key: sa.Column) -> sa.Select:
    """The statement's FROM and WHERE selecting only the key: its eager loads have no entity to load here."""
    ids = sa.select(key).select_from(*statement.get_final_froms())
    return ids if statement.whereclause is None else ids.where(statement.whereclause)


def _walk(ids: sa.Select, values: tuple, key, descending: bool) -> Walk:
    def stretch(forwards: bool, limit: int, offset: int) -> sa.Select:
        down = descending if forwards else not descending
        return ids.order_by(*ordering(values, [key], down)).limit(limit).offset(offset)
    return stretch


def _merged_walk(parts: list[sa.Select], key: sa.Column, values: tuple, descending: bool) -> Walk:
    """The ids of every part, merged in the list's order: each part walks its own index.

    SQLite merges the parts' ordered walks when the compound SELECT itself is ordered. PostgreSQL 15 sorts a
    UNION ALL whole (no Merge Append here), so each part first stops after the rows the stretch can need."""
    labelled = [value.label(f"sorted_{number}") for number, value in enumerate(values)]
    names = [label.name for label in labelled]
    walks = [part.add_columns(*labelled) for part in parts]

    def ordered(columns, down: bool) -> list:
        return ordering(tuple(columns[name] for name in names), [columns[key.key]], down)

    def stretch(forwards: bool, limit: int, offset: int) -> sa.Select:
        down = descending if forwards else not descending
        if db.session.get_bind().dialect.name == "sqlite":
            merged = sa.union_all(*walks)
            return merged.order_by(*ordered(merged.selected_columns, down)).limit(limit).offset(offset)
        heads = [walk.order_by(*ordered(walk.selected_columns, down)).limit(limit + offset).subquery()
                 for walk in walks]
        merged = sa.union_all(*(sa.select(head) for head in heads)).subquery("parts")
        return sa.select(merged.c[key.key]).order_by(*ordered(merged.c, down)).limit(limit).offset(offset)
    return stretch
