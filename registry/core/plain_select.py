"""A one-row SELECT run on a plain DBAPI cursor: for the public verify call, where the ORM session and Core's
execution layer around a one-row read cost more server time than the read (docs/BENCHMARKS.md, verify_api).

SQLAlchemy still does what it is there for: it writes the SQL for the engine's dialect (once per engine) and
converts each value with its column's own type, so the row holds what `connection.execute(statement).first()`
returns (tests/core/test_plain_select.py compares the two on both engines). Skipped are the Session, the
Connection and the execution context around each call.

The read runs on a pooled connection of its own, outside the request's transaction: it sees committed data
only, which suits a request that writes nothing before it reads.
"""
import weakref
from collections import namedtuple
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine


@dataclass
class _Compiled:
    """The statement as one dialect runs it: SQL text, parameter layout, the values it binds itself."""

    sql: str
    positions: tuple[str, ...] | None  # parameter names in order, for a positional paramstyle (SQLite)
    fixed: dict[str, Any]  # bound values written into the statement (a LIMIT, an enum), converted
    processors: list | None = field(default=None)  # per column, from the first cursor's description


class PlainSelect:
    """`statement`, the values of its bind parameters that have none (`sa.bindparam("number")`) given on
    each call. Those reach the driver as they are, without their type's bind conversion: plain strings and
    numbers."""

    def __init__(self, statement: sa.Select):
        self.statement = statement
        self.row_type = namedtuple("PlainRow", statement.selected_columns.keys())
        self._by_engine: weakref.WeakKeyDictionary[Engine, _Compiled] = weakref.WeakKeyDictionary()

    def first(self, engine: Engine, **values: str):
        """The first row, or None. A driver's error comes as SQLAlchemy's (sa.exc.DBAPIError), as Core's."""
        compiled = self._by_engine.get(engine) or self._compile(engine)
        parameters = compiled.fixed | values
        if compiled.positions is not None:
            parameters = tuple(parameters[name] for name in compiled.positions)
        connection = engine.raw_connection()
        try:
            cursor = connection.cursor()
            try:
                cursor.execute(compiled.sql, parameters)
                row = cursor.fetchone()
                if compiled.processors is None:
                    compiled.processors = self._processors(engine.dialect, cursor.description)
            finally:
                cursor.close()
        except engine.dialect.loaded_dbapi.Error as error:
            raise sa.exc.DBAPIError.instance(compiled.sql, parameters, error,
                                             engine.dialect.loaded_dbapi.Error) from error
        finally:
            connection.close()  # back to the pool, which rolls back what the read opened
        if row is None:
            return None
        return self.row_type._make(value if convert is None else convert(value)
                                   for convert, value in zip(compiled.processors, row))

    def _compile(self, engine: Engine) -> _Compiled:
        dialect = engine.dialect
        compiled = self.statement.compile(dialect=dialect)
        if compiled.escaped_bind_names:
            raise ValueError("a parameter name the DBAPI cannot take as is")
        fixed = {}
        for name, bind in compiled.binds.items():
            if not bind.required:  # a value the statement carries itself
                convert = bind.type.dialect_impl(dialect).bind_processor(dialect)
                fixed[name] = convert(bind.value) if convert else bind.value
        positions = tuple(compiled.positiontup) if compiled.positional else None
        self._by_engine[engine] = result = _Compiled(compiled.string, positions, fixed)
        return result

    def _processors(self, dialect, description) -> list:
        return [column.type.dialect_impl(dialect).result_processor(dialect, described[1])
                for column, described in zip(self.statement.selected_columns, description)]
