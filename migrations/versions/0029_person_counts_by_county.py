"""Persons counted per county by the row-count triggers (#17): a county official's dashboard reads its county's
registered persons from row_counts instead of counting ≈ 135k index entries at city scale.

row_counts and row_count_changes gain county_code, part of row_counts' key: a table counted as a whole keeps
one row with county_code '', persons keep one row per county (the table's count is their sum). The triggers of
0026 are replaced: persons' count the county of each inserted and deleted row, and an update that moves a
person to another county moves its count. Both tables are recreated (they hold only counts, refilled here by
counting): on SQLite a new primary key means a new table anyway.

A later migration that rebuilds a counted table on SQLite must create its triggers again
(create_sqlite_triggers here), as 0026 said.

Revision ID: 0029_person_counts_by_county
Revises: 0028_enrollment_class_county
Create Date: 2026-12-07 03:00:00
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0029_person_counts_by_county'
down_revision = '0028_enrollment_class_county'
branch_labels = None
depends_on = None

COUNTED_TABLES = ("persons", "enrollments", "certificates", "audit_events")
# The column holding the county of a table counted per county (registry/core/row_counts.py).
COUNTED_BY_COUNTY = {"persons": "county_code"}


def upgrade():
    recreate_tables(with_county=True)
    for table_name in COUNTED_TABLES:
        county = COUNTED_BY_COUNTY.get(table_name)
        if county:
            op.execute(f"INSERT INTO row_counts (table_name, county_code, rows) "
                       f"SELECT '{table_name}', {county}, count(*) FROM {table_name} GROUP BY {county}")
        else:
            op.execute(f"INSERT INTO row_counts (table_name, county_code, rows) "
                       f"SELECT '{table_name}', '', count(*) FROM {table_name}")
    if op.get_bind().dialect.name == "postgresql":
        create_postgresql_triggers()
    else:
        create_sqlite_triggers(*COUNTED_TABLES)


def recreate_tables(with_county: bool):
    """The counting triggers dropped, both tables dropped and created again (empty) with or without county_code."""
    drop_triggers()
    op.drop_table('row_count_changes')
    op.drop_table('row_counts')
    create_tables(with_county)


def create_tables(with_county: bool):
    def county():
        return [sa.Column('county_code', sa.String(length=6), server_default='', nullable=False)] \
            if with_county else []
    op.create_table(
        'row_counts',
        sa.Column('table_name', sa.String(length=64), nullable=False),
        *county(),
        sa.Column('rows', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('table_name', *(['county_code'] if with_county else []),
                                name=op.f('pk_row_counts')),
    )
    op.create_table(
        'row_count_changes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('table_name', sa.String(length=64), nullable=False),
        *county(),
        sa.Column('change', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_row_count_changes')),
    )
    op.create_index(op.f('ix_row_count_changes_table_name'), 'row_count_changes', ['table_name'], unique=False)


def create_postgresql_triggers():
    # One row of changes per writing statement and county (a transition table grouped once).
    for function, rows, sign in (("row_counts_added", "added", ""), ("row_counts_removed", "removed", "-")):
        op.execute(
            f"CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"INSERT INTO row_count_changes (table_name, county_code, change) "
            f"SELECT TG_TABLE_NAME, '', {sign}count(*) FROM {rows} HAVING count(*) > 0; "
            f"RETURN NULL; END $$")
    for table_name, county in COUNTED_BY_COUNTY.items():
        for function, rows, sign in (("added", "added", ""), ("removed", "removed", "-")):
            op.execute(
                f"CREATE FUNCTION {table_name}_counts_{function}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"INSERT INTO row_count_changes (table_name, county_code, change) "
                f"SELECT TG_TABLE_NAME, {county}, {sign}count(*) FROM {rows} GROUP BY {county}; "
                f"RETURN NULL; END $$")
        # A transition table cannot come with a column list (UPDATE OF): every update statement compares the
        # counties before and after, and writes a row only for a county whose count moved.
        op.execute(
            f"CREATE FUNCTION {table_name}_counts_moved() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"INSERT INTO row_count_changes (table_name, county_code, change) "
            f"SELECT TG_TABLE_NAME, county, sum(change) FROM ("
            f"SELECT {county} AS county, 1 AS change FROM added "
            f"UNION ALL SELECT {county}, -1 FROM removed) AS moved "
            f"GROUP BY county HAVING sum(change) <> 0; "
            f"RETURN NULL; END $$")
    for table_name in COUNTED_TABLES:
        prefix = f"{table_name}_counts" if table_name in COUNTED_BY_COUNTY else "row_counts"
        op.execute(f"CREATE TRIGGER {table_name}_count_added AFTER INSERT ON {table_name} "
                   f"REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION {prefix}_added()")
        op.execute(f"CREATE TRIGGER {table_name}_count_removed AFTER DELETE ON {table_name} "
                   f"REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION {prefix}_removed()")
        if table_name in COUNTED_BY_COUNTY:
            op.execute(f"CREATE TRIGGER {table_name}_count_moved AFTER UPDATE ON {table_name} "
                       f"REFERENCING OLD TABLE AS removed NEW TABLE AS added "
                       f"FOR EACH STATEMENT EXECUTE FUNCTION {prefix}_moved()")


def _sqlite_upsert(table_name: str, county: str, change: str) -> str:
    return (f"INSERT INTO row_counts (table_name, county_code, rows) VALUES ('{table_name}', {county}, 0 {change}) "
            f"ON CONFLICT (table_name, county_code) DO UPDATE SET rows = rows {change};")


def create_sqlite_triggers(*table_names):
    for table_name in table_names:
        county = COUNTED_BY_COUNTY.get(table_name)
        for verb, row, change in (("INSERT", "NEW", "+ 1"), ("DELETE", "OLD", "- 1")):
            of_row = f"{row}.{county}" if county else "''"
            op.execute(f"CREATE TRIGGER {table_name}_count_{verb.lower()} AFTER {verb} ON {table_name} BEGIN "
                       f"{_sqlite_upsert(table_name, of_row, change)} END")
        if county:
            op.execute(f"CREATE TRIGGER {table_name}_count_move AFTER UPDATE OF {county} ON {table_name} "
                       f"WHEN OLD.{county} IS NOT NEW.{county} BEGIN "
                       f"{_sqlite_upsert(table_name, f'OLD.{county}', '- 1')} "
                       f"{_sqlite_upsert(table_name, f'NEW.{county}', '+ 1')} END")


def drop_triggers():
    if op.get_bind().dialect.name == "postgresql":
        for table_name in COUNTED_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table_name}_count_added ON {table_name}")
            op.execute(f"DROP TRIGGER IF EXISTS {table_name}_count_removed ON {table_name}")
            op.execute(f"DROP TRIGGER IF EXISTS {table_name}_count_moved ON {table_name}")
        for function in ("row_counts_added", "row_counts_removed",
                         *(f"{table_name}_counts_{kind}" for table_name in COUNTED_BY_COUNTY
                           for kind in ("added", "removed", "moved"))):
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    else:
        for table_name in COUNTED_TABLES:
            for verb in ("insert", "delete", "move"):
                op.execute(f"DROP TRIGGER IF EXISTS {table_name}_count_{verb}")


def downgrade():
    # Back to 0026's counts: one row a table, its triggers as 0026 made them (written out again here: a migration
    # does not import another).
    recreate_tables(with_county=False)
    for table_name in COUNTED_TABLES:
        op.execute(f"INSERT INTO row_counts (table_name, rows) SELECT '{table_name}', count(*) FROM {table_name}")
    if op.get_bind().dialect.name == "postgresql":
        for function, rows, sign in (("row_counts_added", "added", ""), ("row_counts_removed", "removed", "-")):
            op.execute(
                f"CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"INSERT INTO row_count_changes (table_name, change) "
                f"SELECT TG_TABLE_NAME, {sign}count(*) FROM {rows} HAVING count(*) > 0; RETURN NULL; END $$")
        for table_name in COUNTED_TABLES:
            op.execute(f"CREATE TRIGGER {table_name}_count_added AFTER INSERT ON {table_name} "
                       f"REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION row_counts_added()")
            op.execute(f"CREATE TRIGGER {table_name}_count_removed AFTER DELETE ON {table_name} "
                       f"REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION row_counts_removed()")
    else:
        for table_name in COUNTED_TABLES:
            for verb, change in (("INSERT", "+ 1"), ("DELETE", "- 1")):
                op.execute(f"CREATE TRIGGER {table_name}_count_{verb.lower()} AFTER {verb} ON {table_name} BEGIN "
                           f"INSERT INTO row_counts (table_name, rows) VALUES ('{table_name}', 0 {change}) "
                           f"ON CONFLICT (table_name) DO UPDATE SET rows = rows {change}; END")
