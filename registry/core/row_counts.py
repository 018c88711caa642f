"""Row counts of the tables that grow with the city (#17): an unfiltered list reads its total here.

`count(*)` over 1.35M certificates or enrolments reads a whole index (50–100 ms on PostgreSQL, growing with the
table), and a list needs its total for every page (the page count, the last page). Database triggers
(migration 0026) keep the counts instead, so they hold for every writer: the ORM, bulk inserts, imports. On
SQLite, whose writers queue for one lock anyway, each inserted or deleted row updates the table's row in
row_counts. On PostgreSQL each writing statement adds one row to row_count_changes (its transition table
counted once), so concurrent writers, a long import among them, never wait for one another on a counter row;
`fold_changes` moves those rows into row_counts every few minutes. A count is the two added up, read in one
statement: the same snapshot as `count(*)`.

Persons, enrolments and certificates are counted per county as well (migrations 0029, 0030), by the columns
a county official's scope reads (COUNTED_BY_COUNTY): a table's count is the sum of its counties', a row
without a county counted under ''. A county's certificate list has two parts (certificates/scopes.py), each
counted: its holders' certificates, and (certificates_from_elsewhere) those assessed there of holders from
another county.

TRUNCATE fires no row triggers: a table emptied that way must have its count reset (`reset`).
"""
from dataclasses import dataclass

import sqlalchemy as sa
from huey import crontab

from registry.core.db import db, is_unconditional
from registry.core.models import RowCount, RowCountChange
from registry.core.tasks import periodic



@dataclass(frozen=True)
class ByCounty:
    """A table's rows counted per county: by the county in `column`; with `elsewhere`, only the rows whose
    `elsewhere` county is another (or none)."""
    table: str
    column: str
    elsewhere: str | None = None

    def rows(self, table: sa.Table) -> sa.ColumnElement[bool]:
        """The rows this count counts (the triggers' condition)."""
        if self.elsewhere is None:
            return sa.true()
        return sa.and_(table.c[self.column].is_not(None),
                       table.c[self.elsewhere].is_distinct_from(table.c[self.column]))

    def scope(self, table: sa.Table, county_code: str) -> sa.ColumnElement[bool]:
        """The condition whose rows are this count's for `county_code`."""
        condition = table.c[self.column] == county_code
        if self.elsewhere is None:
            return condition
        return sa.and_(condition, table.c[self.elsewhere].is_distinct_from(county_code))


# Kept in step with migrations 0026, 0029 and 0030, which install the triggers on each of them.
COUNTED_TABLES = ("persons", "enrollments", "certificates", "audit_events")
# The counts kept per county, by their name in row_counts (a counted table's own name: its whole count).
COUNTED_BY_COUNTY = {
    "persons": ByCounty("persons", "county_code"),
    "enrollments": ByCounty("enrollments", "class_county_code"),
    "certificates": ByCounty("certificates", "holder_county_code"),
    "certificates_from_elsewhere": ByCounty("certificates", "batch_county_code",
                                            elsewhere="holder_county_code"),
}
# The tables the triggers write: derived from the counted ones, never copied with them (registry/transfer.py).
KEPT_BY_TRIGGERS = ("row_counts", "row_count_changes")


def rows_in(table_name: str, county_code: str | None = None) -> int:
    """The table's row count, as `count(*)` would give it in this transaction; with `county_code` (a count in
    COUNTED_BY_COUNTY), its rows of that county."""
    parts = []
    for model, measure in ((RowCount, RowCount.rows), (RowCountChange, RowCountChange.change)):
        part = sa.select(sa.func.sum(measure)).where(model.table_name == table_name)
        if county_code is not None:
            part = part.where(model.county_code == county_code)
        parts.append(sa.func.coalesce(part.scalar_subquery(), 0))
    return db.session.scalar(sa.select(parts[0] + parts[1]))


def kept_total(statement: sa.Select) -> int | None:
    """`statement`'s row count from the kept counts when it selects from one counted table, unfiltered or
    filtered by exactly the scope of a county count (ByCounty.scope); else None."""
    froms = statement.get_final_froms()
    if len(froms) != 1 or not isinstance(froms[0], sa.Table) or froms[0].name not in COUNTED_TABLES:
        return None
    table, where = froms[0], statement.whereclause
    if where is None or is_unconditional(where):
        return rows_in(table.name)
    counties = {value for value in _values(where) if isinstance(value, str) and value}
    for name, count in COUNTED_BY_COUNTY.items():
        if count.table == table.name:
            for county_code in counties:
                # compare() matches structure and values, an ORM attribute against its table's column.
                if where.compare(count.scope(table, county_code)):
                    return rows_in(name, county_code)
    return None


def _values(where: sa.ColumnElement) -> list:
    return [element.effective_value for element in sa.sql.visitors.iterate(where)
            if isinstance(element, sa.BindParameter)]


@periodic(crontab(minute="*/5"), name="registry.row_counts.fold")
def fold_changes() -> None:
    """Move the committed changes into row_counts, in one statement (a reader sees both sides or neither)."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    db.session.execute(sa.text(
        "WITH folded AS (DELETE FROM row_count_changes RETURNING table_name, county_code, change) "
        "INSERT INTO row_counts (table_name, county_code, rows) "
        "SELECT table_name, county_code, sum(change) FROM folded GROUP BY table_name, county_code "
        "ON CONFLICT (table_name, county_code) DO UPDATE SET rows = row_counts.rows + excluded.rows"))


def counted_rows(table_name: str) -> int:
    """The table's `count(*)`: what a kept count must equal."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(sa.table(table_name)))


def counted_by_county(name: str) -> dict[str, int]:
    """A county count's rows counted afresh, per county: what its kept counts must equal."""
    count = COUNTED_BY_COUNTY[name]
    table = db.metadata.tables[count.table]
    county = sa.func.coalesce(table.c[count.column], "")
    return dict(db.session.execute(
        sa.select(county, sa.func.count()).where(count.rows(table)).group_by(county)).all())


def kept_by_county(table_name: str) -> dict[str, int]:
    """The kept count of each county of the table, changes not yet folded included; a county at 0 left out."""
    rows = sa.union_all(
        sa.select(RowCount.county_code, RowCount.rows.label("rows")).where(RowCount.table_name == table_name),
        sa.select(RowCountChange.county_code, RowCountChange.change).where(RowCountChange.table_name == table_name),
    ).subquery()
    kept = db.session.execute(sa.select(rows.c.county_code, sa.func.sum(rows.c.rows))
                              .group_by(rows.c.county_code)).all()
    return {county_code: total for county_code, total in kept if total}


def differences() -> list[tuple[str, int, int]]:
    """(table, kept, counted) for each counted table whose kept count differs from `count(*)`; for a count
    kept per county, ("name（county）", kept, counted) for each county that differs."""
    found = []
    for table_name in COUNTED_TABLES:
        kept, counted = rows_in(table_name), counted_rows(table_name)
        if kept != counted:
            found.append((table_name, kept, counted))
    for name in COUNTED_BY_COUNTY:
        kept_counties, counted_counties = kept_by_county(name), counted_by_county(name)
        for county_code in sorted(set(kept_counties) | set(counted_counties)):
            kept, counted = kept_counties.get(county_code, 0), counted_counties.get(county_code, 0)
            if kept != counted:
                found.append((f"{name}（{county_code}）", kept, counted))
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
        if table_name not in COUNTED_BY_COUNTY:
            db.session.add(RowCount(table_name=table_name, county_code="", rows=counted_rows(table_name)))
    for name in COUNTED_BY_COUNTY:
        db.session.add_all(RowCount(table_name=name, county_code=county_code, rows=rows)
                           for county_code, rows in counted_by_county(name).items())
    db.session.flush()
