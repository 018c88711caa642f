"""A one-row SELECT on a plain cursor returns what SQLAlchemy's own execution returns, on both engines."""
import enum
from datetime import date, datetime

import pytest
import sqlalchemy as sa

from registry.core.db import db, enum_type
from registry.core.plain_select import PlainSelect


class Colour(enum.StrEnum):
    RED = "red"


def statement() -> sa.Select:
    # Bound values the statement carries itself (a date, an enum, a LIMIT) beside the caller's (`text`).
    return (sa.select(sa.literal(date(2025, 6, 1), sa.Date).label("day"),
                      sa.literal(datetime(2025, 6, 1, 8, 30), sa.DateTime).label("at"),
                      sa.literal(Colour.RED, enum_type(Colour)).label("colour"),
                      sa.literal({"name": "张三"}, sa.JSON).label("facts"),
                      sa.bindparam("text", type_=sa.String).label("text"),
                      sa.literal(None, sa.Date).label("missing"))
            .limit(1))


def test_the_row_and_its_types_are_sqlalchemys(app):
    plain = PlainSelect(statement()).first(db.engine, text="开封")
    core = db.session.execute(statement(), {"text": "开封"}).one()
    assert plain._fields == tuple(core._fields) == ("day", "at", "colour", "facts", "text", "missing")
    assert tuple(plain) == tuple(core) == (date(2025, 6, 1), datetime(2025, 6, 1, 8, 30), Colour.RED,
                                           {"name": "张三"}, "开封", None)
    # A StrEnum member equals its string: only the types tell a converted value from a raw one.
    assert [type(value) for value in plain] == [type(value) for value in core]


def test_no_row_is_none_and_the_connection_goes_back_to_the_pool(app):
    select = PlainSelect(statement().where(sa.false()))
    checked_out = db.engine.pool.checkedout()
    assert select.first(db.engine, text="x") is None
    assert select.first(db.engine, text="x") is None  # the second call runs the SQL compiled by the first
    assert db.engine.pool.checkedout() == checked_out


def test_a_drivers_error_comes_as_sqlalchemys_and_the_connection_goes_back(app):
    select = PlainSelect(sa.select(sa.column("id")).select_from(sa.table("no_such_table"))
                         .where(sa.column("id") == sa.bindparam("id", type_=sa.String)))
    checked_out = db.engine.pool.checkedout()
    with pytest.raises(sa.exc.DBAPIError) as raised:
        select.first(db.engine, id="1")
    assert "no_such_table" in str(raised.value.orig)
    assert db.engine.pool.checkedout() == checked_out
