"""Enrolments and certificates counted per county by the row-count triggers (#17), as 0029 counts persons: a
county official's trainee list and certificate list read their totals from row_counts instead of counting
≈ 137k and ≈ 60k index entries at city scale.

Each count is kept by the columns the county scopes walk (registry/core/row_counts.py COUNTED_BY_COUNTY):
enrolments by their class's county (class_county_code), certificates by their holder's county of record
(holder_county_code), and — under the name certificates_from_elsewhere — the certificates assessed in a county
(batch_county_code) of holders from another county, the second part of a county's certificate list. A row
without a county is counted under '' like a table counted whole, still part of its table's sum. The two tables'
triggers of 0029 are replaced; their counts are taken again here.

Revision ID: 0030_scope_counts_by_county
Revises: 0029_person_counts_by_county
Create Date: 2026-12-07 06:00:00
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0030_scope_counts_by_county'
down_revision = '0029_person_counts_by_county'
branch_labels = None
depends_on = None

ELSEWHERE = "batch_county_code IS NOT NULL AND holder_county_code IS DISTINCT FROM batch_county_code"
# Per table, its counts: (the name in row_counts, the county column, the rows counted or None for all).
COUNTS = {
    "enrollments": [("enrollments", "class_county_code", None)],
    "certificates": [("certificates", "holder_county_code", None),
                     ("certificates_from_elsewhere", "batch_county_code", ELSEWHERE)],
}


def upgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table_name, counts in COUNTS.items():
        drop_triggers(table_name)
        for name, column, rows in counts:
            recount(name, table_name, f"coalesce({column}, '')", rows)
        if postgresql:
            create_postgresql_triggers(table_name, counts)
        else:
            create_sqlite_triggers(table_name, counts)


def recount(name: str, table_name: str, county: str | None, rows: str | None = None):
    """The kept count `name` taken again: per `county` (an expression) or, with None, as a whole."""
    op.execute(f"DELETE FROM row_count_changes WHERE table_name = '{name}'")
    op.execute(f"DELETE FROM row_counts WHERE table_name = '{name}'")
    where = f" WHERE {rows}" if rows else ""
    grouped = f"{county}, count(*) FROM {table_name}{where} GROUP BY {county}" if county \
        else f"'', count(*) FROM {table_name}{where}"
    op.execute(f"INSERT INTO row_counts (table_name, county_code, rows) SELECT '{name}', {grouped}")


def create_postgresql_triggers(table_name: str, counts: list):
    # One row of changes per writing statement, count and county, as 0029 does for persons. PostgreSQL allows no
    # column list (UPDATE OF) with transition tables: every update compares the counties before and after.
    def changes(rows: str, sign: str) -> str:
        return " ".join(
            f"INSERT INTO row_count_changes (table_name, county_code, change) "
            f"SELECT '{name}', coalesce({column}, ''), {sign}count(*) FROM {rows}"
            f"{f' WHERE {only}' if only else ''} GROUP BY coalesce({column}, '');"
            for name, column, only in counts)

    def moves() -> str:
        return " ".join(
            f"INSERT INTO row_count_changes (table_name, county_code, change) "
            f"SELECT '{name}', county, sum(change) FROM ("
            f"SELECT coalesce({column}, '') AS county, 1 AS change FROM added{f' WHERE {only}' if only else ''} "
            f"UNION ALL SELECT coalesce({column}, ''), -1 FROM removed{f' WHERE {only}' if only else ''}) AS moved "
            f"GROUP BY county HAVING sum(change) <> 0;"
            for name, column, only in counts)

    for kind, body in (("added", changes("added", "")), ("removed", changes("removed", "-")), ("moved", moves())):
        op.execute(f"CREATE FUNCTION {table_name}_counts_{kind}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                   f"{body} RETURN NULL; END $$")
    op.execute(f"CREATE TRIGGER {table_name}_count_added AFTER INSERT ON {table_name} "
               f"REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION {table_name}_counts_added()")
    op.execute(f"CREATE TRIGGER {table_name}_count_removed AFTER DELETE ON {table_name} "
               f"REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION {table_name}_counts_removed()")
    op.execute(f"CREATE TRIGGER {table_name}_count_moved AFTER UPDATE ON {table_name} "
               f"REFERENCING OLD TABLE AS removed NEW TABLE AS added "
               f"FOR EACH STATEMENT EXECUTE FUNCTION {table_name}_counts_moved()")


WHOLE = "''"  # the county of a table counted whole


def _sqlite_upsert(name: str, county: str, change: str) -> str:
    return (f"INSERT INTO row_counts (table_name, county_code, rows) VALUES ('{name}', {county}, 0 {change}) "
            f"ON CONFLICT (table_name, county_code) DO UPDATE SET rows = rows {change};")


def _sqlite_rows(only: str | None, row: str) -> str:
    """`only` about the trigger's OLD or NEW row (SQLite spells IS DISTINCT FROM as IS NOT)."""
    if not only:
        return "1"
    return (only.replace("batch_county_code", f"{row}.batch_county_code")
            .replace("holder_county_code", f"{row}.holder_county_code").replace("IS DISTINCT FROM", "IS NOT"))


def create_sqlite_triggers(table_name: str, counts: list):
    """Row triggers: one statement a count, each changing the count only for a row it counts."""
    def upserts(row: str, change: str) -> str:
        return " ".join(
            f"INSERT INTO row_counts (table_name, county_code, rows) "
            f"SELECT '{name}', coalesce({row}.{column}, ''), 0 {change} WHERE {_sqlite_rows(only, row)} "
            f"ON CONFLICT (table_name, county_code) DO UPDATE SET rows = rows {change};"
            for name, column, only in counts)

    for verb, row, change in (("INSERT", "NEW", "+ 1"), ("DELETE", "OLD", "- 1")):
        op.execute(f"CREATE TRIGGER {table_name}_count_{verb.lower()} AFTER {verb} ON {table_name} BEGIN "
                   f"{upserts(row, change)} END")
    # A move out of a count, then into one: they cancel when the row stays where it was counted.
    columns = sorted({column for _name, column, _only in counts}
                     | {"holder_county_code" for _name, _column, only in counts if only})
    moved = " OR ".join(f"OLD.{column} IS NOT NEW.{column}" for column in columns)
    op.execute(f"CREATE TRIGGER {table_name}_count_move AFTER UPDATE OF {', '.join(columns)} ON {table_name} "
               f"WHEN {moved} BEGIN {upserts('OLD', '- 1')} {upserts('NEW', '+ 1')} END")


def drop_triggers(table_name: str):
    if op.get_bind().dialect.name == "postgresql":
        for kind in ("added", "removed", "moved"):
            op.execute(f"DROP TRIGGER IF EXISTS {table_name}_count_{kind} ON {table_name}")
            op.execute(f"DROP FUNCTION IF EXISTS {table_name}_counts_{kind}()")
    else:
        for verb in ("insert", "delete", "move"):
            op.execute(f"DROP TRIGGER IF EXISTS {table_name}_count_{verb}")


def downgrade():
    # Back to 0029: both tables counted whole, by its shared functions row_counts_added / row_counts_removed
    # (PostgreSQL) or one row trigger a verb (SQLite), as 0026 made them.
    postgresql = op.get_bind().dialect.name == "postgresql"
    for kept in ("row_count_changes", "row_counts"):
        op.execute(f"DELETE FROM {kept} WHERE table_name = 'certificates_from_elsewhere'")
    for table_name in COUNTS:
        drop_triggers(table_name)
        recount(table_name, table_name, None)
        if postgresql:
            op.execute(f"CREATE TRIGGER {table_name}_count_added AFTER INSERT ON {table_name} "
                       f"REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION row_counts_added()")
            op.execute(f"CREATE TRIGGER {table_name}_count_removed AFTER DELETE ON {table_name} "
                       f"REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION row_counts_removed()")
        else:
            for verb, change in (("INSERT", "+ 1"), ("DELETE", "- 1")):
                op.execute(f"CREATE TRIGGER {table_name}_count_{verb.lower()} AFTER {verb} ON {table_name} BEGIN "
                           f"{_sqlite_upsert(table_name, WHOLE, change)} END")
