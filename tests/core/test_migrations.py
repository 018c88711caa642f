"""Migrations build exactly the schema the models declare, and applying them again changes nothing."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from registry.core.db import db, declared_for


def test_migrated_schema_matches_models(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_object": declared_for(connection.dialect.name)}
        )
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_init_db_twice_is_a_no_op(runner):
    first = runner.invoke(args=["init-db"])
    second = runner.invoke(args=["init-db"])
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    assert "最新" in second.output
