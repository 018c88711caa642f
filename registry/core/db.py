"""The database handle and the declarative base every model derives from."""
import enum
import os
import random
import time
from datetime import UTC, datetime

import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names let Alembic alter constraints on both SQLite (batch mode) and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """SQLite hands timestamps back without their zone; every one was written in UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def enum_type(enum_class: type[enum.Enum]) -> sa.Enum:
    """A portable enum column: stores the member's value as VARCHAR with a CHECK constraint."""
    return sa.Enum(
        enum_class,
        native_enum=False,
        create_constraint=True,
        length=32,
        name=enum_class.__name__.lower(),
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


def is_unconditional(clause) -> bool:
    """Whether a WHERE clause is `sa.true()`, an administrator's scope: no condition at all (a select keeps it
    wrapped as a boolean, so the wrapper is looked through)."""
    return isinstance(getattr(clause, "element", clause), sa.sql.elements.True_)


@event.listens_for(Engine, "connect")
def _configure_sqlite(dbapi_connection, _record) -> None:
    # SQLite ignores foreign keys unless asked, and WAL lets readers run beside one writer.
    if type(dbapi_connection).__module__ != "sqlite3":
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.close()  # how long to wait for the write lock is the driver's `timeout` (SQLITE_BUSY_TIMEOUT_SECONDS)


def configure_connections(settings: dict) -> None:
    """SQLite: a writer that finds the write lock taken waits up to SQLITE_BUSY_TIMEOUT_SECONDS for it.

    PostgreSQL: no JIT unless POSTGRES_JIT. PostgreSQL compiles a statement with LLVM before running it when
    its estimated cost passes jit_above_cost, and a poor estimate is enough: a county official's search for a
    two-character name at 100k persons took 163 ms, 123 ms of it compiling, 20 ms without
    (docs/BENCHMARKS.md). The registry's statements are short; the compilation rarely pays for itself.
    """
    uri = settings["SQLALCHEMY_DATABASE_URI"]
    options = settings.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
    connect_args = options.get("connect_args", {})
    if uri.startswith("sqlite"):
        options["connect_args"] = connect_args | {"timeout": settings["SQLITE_BUSY_TIMEOUT_SECONDS"]}
    elif uri.startswith("postgresql") and not settings.get("POSTGRES_JIT"):
        # Beside, not instead of, the server options an operator gives: libpq reads PGOPTIONS only when the
        # connection names no options of its own.
        given = connect_args.get("options", os.environ.get("PGOPTIONS", ""))
        options["connect_args"] = connect_args | {"options": f"{given} -c jit=off".lstrip()}


def is_write_conflict(error: sa.exc.DBAPIError) -> bool:
    """A concurrent writer got there first: SQLite's busy lock or PostgreSQL's serialization/deadlock errors."""
    code = getattr(error.orig, "sqlstate", None)
    return code in ("40001", "40P01") or "database is locked" in str(error.orig)


def commit_with_retry(work, attempts: int = 10):
    """Run `work()` and commit; on a write conflict roll back and run it again from scratch.

    SQLite lets one connection write at a time and refuses a write from a transaction whose snapshot is
    stale; re-running the whole unit (re-reading what it checks) is the correct answer, not a wait.
    """
    for attempt in range(1, attempts + 1):
        try:
            result = work()
            db.session.commit()
            return result
        except sa.exc.DBAPIError as error:
            db.session.rollback()
            if attempt == attempts or not is_write_conflict(error):
                raise
            time.sleep(random.uniform(0.01, 0.05) * attempt)
    raise AssertionError("unreachable")


# Tables a migration makes that no model declares, kept by triggers on persons: SQLite's full-text index of
# names (0027) and the shadow tables FTS5 keeps it in (persons_name_trigrams_data, _idx, _docsize, _config);
# the names' two-character pieces and the positions they are cut at (0033).
UNMODELLED_TABLES = ("persons_name_trigrams", "person_name_pairs", "name_positions")


def declared_for(dialect_name: str):
    """Alembic's include_object: leave out what the models declare for another engine only, and the tables
    no model declares (UNMODELLED_TABLES).

    An index marked `.ddl_if(dialect="postgresql")` (pg_trgm's) exists on PostgreSQL alone; without this,
    comparing the models with a SQLite database would report it missing.
    """

    def include(item, name, type_, reflected, compare_to) -> bool:
        if type_ == "table" and reflected and compare_to is None and name.startswith(UNMODELLED_TABLES):
            return False
        condition = getattr(item, "_ddl_if", None)
        return condition is None or condition.dialect in (None, dialect_name)

    return include
