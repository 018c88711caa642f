"""Row counts kept by triggers (#17): persons, enrollments, certificates and audit_events count themselves, so an
unfiltered list reads its total instead of counting the table (registry/core/row_counts.py).

SQLite: a row trigger per insert and delete updates the table's row in row_counts. PostgreSQL: a statement
trigger adds one row to row_count_changes per writing statement (a transition table counted once), which a
periodic task folds into row_counts.

A later migration that rebuilds one of these tables on SQLite (batch_alter_table copies it) drops its triggers
with the old table and must create them again (create_sqlite_triggers); tests/core/test_row_counts.py fails if
it does not.

Revision ID: 0026_row_counts
Revises: 0025_batch_county_covering
Create Date: 2026-12-06 23:20:00
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0026_row_counts'
down_revision = '0025_batch_county_covering'
branch_labels = None
depends_on = None

COUNTED_TABLES = ("persons", "enrollments", "certificates", "audit_events")

POSTGRESQL_FUNCTIONS = {
    "row_counts_added": "added", "row_counts_removed": "removed",
}


def upgrade():
    op.create_table(
        'row_counts',
        sa.Column('table_name', sa.String(length=64), nullable=False),
        sa.Column('rows', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('table_name', name=op.f('pk_row_counts')),
    )
    op.create_table(
        'row_count_changes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('table_name', sa.String(length=64), nullable=False),
        sa.Column('change', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_row_count_changes')),
    )
    with op.batch_alter_table('row_count_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_row_count_changes_table_name'), ['table_name'], unique=False)
    for table_name in COUNTED_TABLES:
        op.execute(f"INSERT INTO row_counts (table_name, rows) SELECT '{table_name}', count(*) FROM {table_name}")
    if op.get_bind().dialect.name == "postgresql":
        create_postgresql_triggers()
    else:
        create_sqlite_triggers(*COUNTED_TABLES)


def create_postgresql_triggers():
    for function, rows in POSTGRESQL_FUNCTIONS.items():
        sign = "" if rows == "added" else "-"
        op.execute(
            f"CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"INSERT INTO row_count_changes (table_name, change) "
            f"SELECT TG_TABLE_NAME, {sign}count(*) FROM {rows} HAVING count(*) > 0; "
            f"RETURN NULL; END $$")
    for table_name in COUNTED_TABLES:
        op.execute(f"CREATE TRIGGER {table_name}_count_added AFTER INSERT ON {table_name} "
                   f"REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION row_counts_added()")
        op.execute(f"CREATE TRIGGER {table_name}_count_removed AFTER DELETE ON {table_name} "
                   f"REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION row_counts_removed()")


def create_sqlite_triggers(*table_names):
    for table_name in table_names:
        for verb, change in (("INSERT", "+ 1"), ("DELETE", "- 1")):
            op.execute(
                f"CREATE TRIGGER {table_name}_count_{verb.lower()} AFTER {verb} ON {table_name} BEGIN "
                f"INSERT INTO row_counts (table_name, rows) VALUES ('{table_name}', 0 {change}) "
                f"ON CONFLICT (table_name) DO UPDATE SET rows = rows {change}; END")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table_name in COUNTED_TABLES:
            op.execute(f"DROP TRIGGER {table_name}_count_added ON {table_name}")
            op.execute(f"DROP TRIGGER {table_name}_count_removed ON {table_name}")
        for function in POSTGRESQL_FUNCTIONS:
            op.execute(f"DROP FUNCTION {function}()")
    else:
        for table_name in COUNTED_TABLES:
            op.execute(f"DROP TRIGGER {table_name}_count_insert")
            op.execute(f"DROP TRIGGER {table_name}_count_delete")
    with op.batch_alter_table('row_count_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_row_count_changes_table_name'))
    op.drop_table('row_count_changes')
    op.drop_table('row_counts')
