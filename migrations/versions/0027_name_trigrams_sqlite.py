"""Person name search on SQLite at city scale (#17): an FTS5 table with the trigram tokenizer indexes persons.name,
as pg_trgm's GIN index does on PostgreSQL (0024), so a search by three characters or more reads the index
instead of every name (registry/people/name_search.py).

An external-content table: it stores no copy of the names, only the index, kept by three triggers on persons.
The trigram tokenizer needs SQLite 3.34 or later, built with FTS5 (Debian's and Python's are).

Measured at 1.35M persons: built in 4.8 s, 18 MB; a three-character search counted in 0.8 ms instead of
82 ms, a county's in 4 ms instead of 88 ms.

A later migration that rebuilds persons on SQLite (batch_alter_table copies it) drops these triggers with the
old table and must create them again (TRIGGERS); tests/people/test_name_search.py fails if it does not.

Revision ID: 0027_name_trigrams_sqlite
Revises: 0026_row_counts
Create Date: 2026-12-06 23:40:00
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0027_name_trigrams_sqlite'
down_revision = '0026_row_counts'
branch_labels = None
depends_on = None

TRIGGERS = {
    "persons_name_trigrams_insert": "AFTER INSERT ON persons BEGIN "
    "INSERT INTO persons_name_trigrams (rowid, name) VALUES (new.id, new.name); END",
    "persons_name_trigrams_delete": "AFTER DELETE ON persons BEGIN "
    "INSERT INTO persons_name_trigrams (persons_name_trigrams, rowid, name) VALUES ('delete', old.id, old.name); END",
    "persons_name_trigrams_update": "AFTER UPDATE OF name ON persons BEGIN "
    "INSERT INTO persons_name_trigrams (persons_name_trigrams, rowid, name) VALUES ('delete', old.id, old.name); "
    "INSERT INTO persons_name_trigrams (rowid, name) VALUES (new.id, new.name); END",
}


def upgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("CREATE VIRTUAL TABLE persons_name_trigrams USING fts5("
               "name, content='persons', content_rowid='id', tokenize='trigram')")
    op.execute("INSERT INTO persons_name_trigrams (persons_name_trigrams) VALUES ('rebuild')")
    for name, body in TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {body}")


def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER {name}")
    op.execute("DROP TABLE persons_name_trigrams")
