"""A search by part of a name: the same rows on both engines; on PostgreSQL the trigram index is used for
three characters or more and can never be chosen for fewer (reading all of it costs seconds at city scale)."""
import pytest
import sqlalchemy as sa

from registry.core.db import db
from registry.people.models import Person
from registry.people.name_search import name_contains


@pytest.fixture
def people(make_person):
    for name in ["王卫东", "李卫东", "王卫", "卫东_1", "张三"]:
        make_person(name=name)
    db.session.commit()


@pytest.mark.parametrize("part, expected", [
    ("卫东", {"王卫东", "李卫东", "卫东_1"}), ("王卫", {"王卫东", "王卫"}), ("王卫东", {"王卫东"}),
    ("东_", {"卫东_1"}), ("_", {"卫东_1"}), ("%", set()), ("卫东_", {"卫东_1"}), ("卫东_1", {"卫东_1"}),
    ("%_%", set()), ('"卫东', set()), ("东 _", set()),
])
def test_finds_names_holding_the_part_with_wildcards_taken_literally(people, part, expected):
    assert set(db.session.scalars(sa.select(Person.name).where(name_contains(part)))) == expected


def every_plan_but_a_sequential_scan(condition) -> str:
    """The plan with each way of reading the table but the sequential scan and the trigram index priced out,
    so that the trigram index is used whenever the condition lets it be."""
    statement = sa.select(sa.func.count()).select_from(Person).where(condition)
    sql = str(statement.compile(db.engine, compile_kwargs={"literal_binds": True}))
    with db.engine.connect() as connection:
        for setting in ("enable_seqscan", "enable_indexscan", "enable_indexonlyscan"):
            connection.exec_driver_sql(f"SET {setting} = off")
        return "\n".join(row[0] for row in connection.exec_driver_sql(f"EXPLAIN {sql}"))


@pytest.mark.parametrize("part, trigrams", [("卫", False), ("卫东", False), ("王卫东", True), ("王卫东东", True)])
def test_the_trigram_index_is_for_three_characters_or_more(people, part, trigrams):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("pg_trgm is PostgreSQL's")
    text = every_plan_but_a_sequential_scan(name_contains(part))
    assert ("ix_persons_name_trigrams" in text) is trigrams, text


def trigram_index_agrees_with_names() -> None:
    """FTS5's own check of an external-content index against the table it indexes (raises when they differ)."""
    db.session.execute(sa.text("INSERT INTO persons_name_trigrams (persons_name_trigrams, rank) "
                               "VALUES ('integrity-check', 1)"))


def test_sqlite_keeps_its_name_index_through_renames_and_deletions(people):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the FTS5 trigram table is SQLite's")
    person = db.session.scalar(sa.select(Person).where(Person.name == "王卫东"))
    person.name = "赵卫国"
    db.session.commit()
    found = set(db.session.scalars(sa.select(Person.name).where(name_contains("卫东_"))))
    assert found == {"卫东_1"}
    assert set(db.session.scalars(sa.select(Person.name).where(name_contains("赵卫国")))) == {"赵卫国"}
    assert set(db.session.scalars(sa.select(Person.name).where(name_contains("王卫东")))) == set()
    db.session.execute(sa.delete(Person).where(Person.name == "李卫东"))
    db.session.commit()
    assert set(db.session.scalars(sa.select(Person.name).where(name_contains("李卫东")))) == set()
    trigram_index_agrees_with_names()


def test_sqlite_searches_three_characters_in_its_trigram_table(people):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the FTS5 trigram table is SQLite's")
    statement = sa.select(sa.func.count()).select_from(Person).where(name_contains("王卫东"))
    sql = str(statement.compile(db.engine, compile_kwargs={"literal_binds": True}))
    plan = " / ".join(row[-1] for row in db.session.execute(sa.text(f"EXPLAIN QUERY PLAN {sql}")))
    assert "persons_name_trigrams VIRTUAL TABLE" in plan and "SCAN persons USING" not in plan, plan


def pairs_agree_with_names() -> None:
    """The two-character pieces kept by the triggers are exactly those of the names now in persons."""
    rows = db.session.execute(sa.text("SELECT pair, person_id FROM person_name_pairs"))
    kept = {(pair, person_id) for pair, person_id in rows}
    expected = {(name[start:start + 2].lower(), person_id)
                for person_id, name in db.session.execute(sa.select(Person.id, Person.name))
                for start in range(len(name) - 1)}
    assert kept == expected


def test_two_characters_are_kept_as_pieces_through_renames_and_deletions(people):
    pairs_agree_with_names()
    person = db.session.scalar(sa.select(Person).where(Person.name == "王卫东"))
    person.name = "赵卫国"
    db.session.commit()
    assert set(db.session.scalars(sa.select(Person.name).where(name_contains("卫国")))) == {"赵卫国"}
    assert set(db.session.scalars(sa.select(Person.name).where(name_contains("王卫")))) == {"王卫"}
    db.session.execute(sa.delete(Person).where(Person.name == "李卫东"))
    db.session.commit()
    assert set(db.session.scalars(sa.select(Person.name).where(name_contains("卫东")))) == {"卫东_1"}
    pairs_agree_with_names()


def test_two_characters_are_looked_up_among_the_pieces_not_by_reading_every_name(people):
    statement = sa.select(sa.func.count()).select_from(Person).where(name_contains("卫东"))
    sql = str(statement.compile(db.engine, compile_kwargs={"literal_binds": True}))
    if db.engine.dialect.name == "sqlite":
        plan = " / ".join(row[-1] for row in db.session.execute(sa.text(f"EXPLAIN QUERY PLAN {sql}")))
        assert "SEARCH person_name_pairs USING PRIMARY KEY (pair=?)" in plan, plan
        assert "SCAN persons" not in plan, plan
    else:
        plan = every_plan_but_a_sequential_scan(name_contains("卫东"))
        assert "pk_person_name_pairs" in plan, plan
