"""Row counts of the tables that grow with the city (#17): an unfiltered list reads its total here.

`count(*)` over 1.35M certificates or enrolments reads a whole index (50–100 ms on PostgreSQL, growing with the
table), and a list needs its total for every page (the page count, the last page). Database triggers
(migration 0026) keep the counts instead, so they hold for every writer: the ORM, bulk inserts, imports. On
SQLite, whose writers queue for one lock anyway, each inserted or deleted row updates the table's row in
row_counts. On PostgreSQL each writing statement adds one row to row_count_changes (its transition table
counted once), so concurrent writers, a long import among them, never wait for one another on a counter row;
`fold_changes` moves those rows into row_counts every few minutes. A count is the two added up, read in one
statement: the same snapshot as `count(*)`.

TRUNCATE fires no row triggers: a table emptied that way must have its count reset (`reset`).
"""
import sqlalchemy as sa
from huey import crontab

from registry.core.db import db
from registry.core.models import RowCount, RowCountChange
from registry.core.tasks import periodic

# Kept in step with migration 0026, which installs a trigger on each of them.
COUNTED_TABLES = ("persons", "enrollments", "certificates", "audit_events")
# The tables the triggers write: derived from the counted ones, never copied with them (registry/transfer.py).
KEPT_BY_TRIGGERS = ("row_counts", "row_count_changes")


def rows_in(table_name: str) -> int:
    """The table's row count, as `count(*)` would give it in this transaction."""
    base = sa.select(RowCount.rows).where(RowCount.table_name == table_name).scalar_subquery()
    changes = sa.select(sa.func.sum(RowCountChange.change)).where(RowCountChange.table_name == table_name) \
        .scalar_subquery()
    return db.session.scalar(sa.select(sa.func.coalesce(base, 0) + sa.func.coalesce(changes, 0)))


def kept_total(statement: sa.Select) -> int | None:
    """`statement`'s row count from the kept counts when it selects from one counted table unfiltered; else None."""
    froms, where = statement.get_final_froms(), statement.whereclause
    # An administrator's scope is written WHERE true (which the select keeps wrapped as a boolean).
    if (where is not None and not isinstance(getattr(where, "element", where), sa.sql.elements.True_)) \
            or len(froms) != 1:
        return None
    (table,) = froms
    if not isinstance(table, sa.Table) or table.name not in COUNTED_TABLES:
        return None
    return rows_in(table.name)


@periodic(crontab(minute="*/5"), name="registry.row_counts.fold")
def fold_changes() -> None:
    """Move the committed changes into row_counts, in one statement (a reader sees both sides or neither)."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    db.session.execute(sa.text(
        "WITH folded AS (DELETE FROM row_count_changes RETURNING table_name, change) "
        "INSERT INTO row_counts (table_name, rows) "
        "SELECT table_name, sum(change) FROM folded GROUP BY table_name "
        "ON CONFLICT (table_name) DO UPDATE SET rows = row_counts.rows + excluded.rows"))


def counted_rows(table_name: str) -> int:
    """The table's `count(*)`: what a kept count must equal."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(sa.table(table_name)))


def differences() -> list[tuple[str, int, int]]:
    """(table, kept, counted) for each counted table whose kept count differs from `count(*)`."""
    found = []
    for table_name in COUNTED_TABLES:
        kept, counted = rows_in(table_name), counted_rows(table_name)
        if kept != counted:
            found.append((table_name, kept, counted))
    return found


def reset() -> None:
    """Count every counted table afresh, in the caller's transaction (after a TRUNCATE, or to mend a difference).

    On PostgreSQL the lock waits for the writers whose changes are not committed yet, and holds new ones at
    their trigger until the caller commits: none is lost or counted twice."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("LOCK TABLE row_count_changes IN EXCLUSIVE MODE"))
    db.session.execute(sa.delete(RowCountChange))
    db.session.execute(sa.delete(RowCount))
    for table_name in COUNTED_TABLES:
        db.session.add(RowCount(table_name=table_name, rows=counted_rows(table_name)))
    db.session.flush()
