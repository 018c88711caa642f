"""Finding persons by part of their name, in a way both engines' indexes can answer."""
import sqlalchemy as sa

from registry.core.db import db
from registry.people.models import Person

# Both engines index three-character trigrams: PostgreSQL with pg_trgm (migration 0024), SQLite with an FTS5
# table using the trigram tokenizer (migration 0027). A shorter part is no trigram: pg_trgm would read nearly
# every entry of its GIN index (1.5 s against 0.1 s for a county at 1.35M), FTS5 cannot answer it at all.
TRIGRAM_LENGTH = 3
# SQLite's full-text index of persons.name (rowid = persons.id), kept by triggers; no model declares it.
NAME_TRIGRAMS = sa.table("persons_name_trigrams", sa.column("rowid"), sa.column("persons_name_trigrams"))
# Two characters, a whole name for more than half the demo's persons, are looked up among every name's
# two-character pieces, lower-cased (migration 0033, kept by triggers on both engines; no model declares it).
PAIR_LENGTH = 2
NAME_PAIRS = sa.table("person_name_pairs", sa.column("pair"), sa.column("person_id"))


def name_contains(part: str) -> sa.ColumnElement[bool]:
    """Persons whose name holds `part` (LIKE '%part%', wildcards in `part` taken literally)."""
    if len(part) == PAIR_LENGTH:
        pieces = sa.select(NAME_PAIRS.c.person_id).where(NAME_PAIRS.c.pair == sa.func.lower(part))
        return Person.id.in_(pieces)
    if len(part) < TRIGRAM_LENGTH:
        # `name || ''` is no longer the indexed column, so PostgreSQL's planner cannot pick the trigram index.
        return (Person.name + "").contains(part, autoescape=True)
    if db.session.get_bind().dialect.name == "sqlite":
        # A quoted phrase matches the rows that hold it, as a substring, case-insensitively (as LIKE does).
        phrase = '"' + part.replace('"', '""') + '"'
        return Person.id.in_(sa.select(NAME_TRIGRAMS.c.rowid)
                             .where(NAME_TRIGRAMS.c.persons_name_trigrams.op("MATCH")(phrase)))
    return Person.name.contains(part, autoescape=True)
