"""Person name search by two characters at city scale (#17): a table of every two-character piece of every
name, kept by triggers on persons on both engines, so a two-character search (a whole name, for more than half
the demo's persons) reads an index instead of every name. No trigram index answers two characters: at 1.35M
persons a county official's search took 171 ms on SQLite and 528 ms on PostgreSQL for its first page, 260 ms
and 1,623 ms for its last (docs/BENCHMARKS.md).

name_positions holds 1 … 59, where a piece of a name of persons.name's 60 characters may start; the triggers
and the backfill take `substr(name, n, 2)` for each, in plain SQL (an SQLite trigger may hold no CTE).
Pieces are stored lower-cased by the database's own lower(), and looked up the same way
(registry/people/name_search.py).

A later migration that rebuilds persons on SQLite (batch_alter_table copies it) drops these triggers with the
old table and must create them again (SQLITE_TRIGGERS); tests/people/test_name_search.py fails if it does not.

Revision ID: 0033_name_pairs
Revises: 0032_funnel_all_time
Create Date: 2026-12-07 21:00:00
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0033_name_pairs'
down_revision = '0032_funnel_all_time'
branch_labels = None
depends_on = None

NAME_LENGTH = 60  # persons.name
INSERT_NEW = ("INSERT INTO person_name_pairs (pair, person_id) "
              "SELECT DISTINCT lower(substr(new.name, n, 2)), new.id "
              "FROM name_positions WHERE n < length(new.name)")
BACKFILL = ("INSERT INTO person_name_pairs (pair, person_id) "
            "SELECT DISTINCT lower(substr(persons.name, n, 2)), persons.id "
            "FROM persons JOIN name_positions ON n < length(persons.name)")
DELETE_OLD = "DELETE FROM person_name_pairs WHERE person_id = old.id"
SQLITE_TRIGGERS = {
    "persons_name_pairs_insert": f"AFTER INSERT ON persons BEGIN {INSERT_NEW}; END",
    "persons_name_pairs_delete": f"AFTER DELETE ON persons BEGIN {DELETE_OLD}; END",
    "persons_name_pairs_update": f"AFTER UPDATE OF name ON persons BEGIN {DELETE_OLD}; {INSERT_NEW}; END",
}
POSTGRES_FUNCTION = f"""
CREATE FUNCTION persons_name_pairs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        {DELETE_OLD};
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        {INSERT_NEW};
    END IF;
    RETURN NULL;
END
$$
"""


def upgrade():
    op.create_table('name_positions',
    sa.Column('n', sa.SmallInteger(), autoincrement=False, nullable=False),
    sa.PrimaryKeyConstraint('n', name=op.f('pk_name_positions'))
    )
    op.bulk_insert(sa.table('name_positions', sa.column('n', sa.SmallInteger())),
                   [{'n': n} for n in range(1, NAME_LENGTH)])
    op.create_table('person_name_pairs',
    sa.Column('pair', sa.String(length=2), nullable=False),
    sa.Column('person_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.PrimaryKeyConstraint('pair', 'person_id', name=op.f('pk_person_name_pairs')),
    sqlite_with_rowid=False,
    )
    op.create_index('ix_person_name_pairs_person_id', 'person_name_pairs', ['person_id'])
    op.execute(BACKFILL)
    if op.get_bind().dialect.name == "sqlite":
        for name, body in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")
    else:
        op.execute(POSTGRES_FUNCTION)
        op.execute("CREATE TRIGGER persons_name_pairs AFTER INSERT OR DELETE OR UPDATE OF name ON persons "
                   "FOR EACH ROW EXECUTE FUNCTION persons_name_pairs()")


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    else:
        op.execute("DROP TRIGGER persons_name_pairs ON persons")
        op.execute("DROP FUNCTION persons_name_pairs()")
    op.drop_index('ix_person_name_pairs_person_id', table_name='person_name_pairs')
    op.drop_table('person_name_pairs')
    op.drop_table('name_positions')
