"""`registry transfer-data`: every row reaches an empty migrated database, or nothing does."""
import os
from datetime import UTC

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from registry import create_app
from registry.accounts.models import User
from registry.core.roles import Role
from registry.accounts.operations import create_user
from registry.core.audit import AuditEvent
from registry.core.config import normalise_database_url
from registry.core.db import db
from registry.core.row_counts import COUNTED_TABLES, KEPT_BY_TRIGGERS
from registry.people.protection import generate_data_key
from registry.reference.models import County, DivisionKind
from registry.transfer import TransferError

POSTGRES_URL = os.environ.get("REGISTRY_TEST_DATABASE_URL")
AUDIT_COLUMNS = ("id", "occurred_at", "actor_id", "actor_name", "action", "entity_type", "entity_id", "after",
                 "chain_seq", "chain_prev", "chain_hash")


def app_on(url: str, instance, monkeypatch):
    """An app on another database; the environment create_app reads is put back at once."""
    with monkeypatch.context() as patch:
        patch.setenv("REGISTRY_DATABASE_URL", url)
        patch.setenv("REGISTRY_INSTANCE_PATH", str(instance))
        patch.setenv("REGISTRY_SECRET_KEY", "transfer-test-secret")
        patch.setenv("REGISTRY_DATA_KEY", os.environ.get("REGISTRY_DATA_KEY") or generate_data_key())
        return create_app({"TESTING": True, "WTF_CSRF_ENABLED": False})


def migrated_app(url: str, instance, monkeypatch):
    other = app_on(url, instance, monkeypatch)
    with other.app_context():
        upgrade()
        db.engine.dispose()
    return other


def engine_for(url) -> sa.Engine:
    return sa.create_engine(normalise_database_url(str(url)))


def row_counts(url) -> dict[str, int]:
    """Rows of each table but the kept row counts, which each database keeps itself."""
    engine = engine_for(url)
    with engine.connect() as connection:
        counts = {table.name: connection.scalar(sa.select(sa.func.count()).select_from(table))
                  for table in db.metadata.sorted_tables if table.name not in KEPT_BY_TRIGGERS}
    engine.dispose()
    return counts


def kept_counts_agree(url) -> bool:
    """The target's kept row counts (the rows its triggers wrote as the copy arrived) equal its real counts."""
    engine = engine_for(url)
    with engine.connect() as connection:
        # A table counted per county keeps a row per county: its count is the sum of its rows.
        kept = dict(connection.execute(sa.text(
            "SELECT table_name, sum(rows) FROM row_counts GROUP BY table_name")).all())
        for table_name, change in connection.execute(sa.text("SELECT table_name, change FROM row_count_changes")):
            kept[table_name] = kept.get(table_name, 0) + change
        counted = {name: connection.scalar(sa.select(sa.func.count()).select_from(sa.table(name)))
                   for name in COUNTED_TABLES}
    engine.dispose()
    return {name: kept.get(name, 0) for name in COUNTED_TABLES} == counted


def audit_rows(url) -> list[tuple]:
    engine = engine_for(url)
    table = AuditEvent.__table__
    with engine.connect() as connection:
        rows = connection.execute(sa.select(*(table.c[name] for name in AUDIT_COLUMNS)).order_by(table.c.id))
        result = [tuple(_utc(value) for value in row) for row in rows]
    engine.dispose()
    return result


def _utc(value):
    # SQLite hands back the stored UTC without an offset, PostgreSQL an aware value in its session's zone.
    if hasattr(value, "tzinfo") and hasattr(value, "hour"):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value


def execute_on(url, statement: str) -> None:
    engine = engine_for(url)
    with engine.begin() as connection:
        connection.execute(sa.text(statement))
    engine.dispose()


def add_retired_counties() -> None:
    """A chain of retired codes whose successors sort after them, so copying in key order would break."""
    newest = None
    for code in ("410292", "410291", "410290"):
        newest = County(code=code, name=f"测试区{code}", kind=DivisionKind.DISTRICT, is_current=newest is None,
                        successor_code=newest.code if newest else None)
        db.session.add(newest)
        db.session.flush()
    db.session.commit()


@pytest.fixture
def source_rows(app, make_user):
    make_user()
    make_user(Role.COUNTY)
    add_retired_counties()
    return row_counts(db.engine.url.render_as_string(hide_password=False))


@pytest.fixture
def target_url(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'target.sqlite3'}"
    migrated_app(url, tmp_path / "target", monkeypatch)
    return url


def test_command_copies_every_table(runner, source_rows, target_url):
    result = runner.invoke(args=["transfer-data", "--to", target_url, "--batch-size", "2"])
    assert result.exit_code == 0, result.output
    assert row_counts(target_url) == source_rows and kept_counts_agree(target_url)
    assert source_rows["users"] == 2 and source_rows["audit_events"] >= 2
    assert "  users: 2 行" in result.output and "源库与目标库逐表行数一致" in result.output


def test_audit_events_and_self_references_arrive_unchanged(runner, source_rows, database_url, target_url):
    assert runner.invoke(args=["transfer-data", "--to", target_url]).exit_code == 0
    assert audit_rows(target_url) == audit_rows(database_url)
    engine = engine_for(target_url)
    with engine.connect() as connection:
        successors = dict(connection.execute(sa.select(County.code, County.successor_code)
                                             .where(County.code.like("41029_"))).all())
    engine.dispose()
    assert successors == {"410290": "410291", "410291": "410292", "410292": None}


def test_refuses_a_target_without_tables(runner, source_rows, tmp_path):
    empty = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    result = runner.invoke(args=["transfer-data", "--to", empty])
    assert result.exit_code == 1
    assert "目标数据库尚未建表" in result.output and "registry init-db" in result.output


def test_refuses_a_target_with_rows_and_names_the_table(runner, source_rows, target_url):
    execute_on(target_url, "INSERT INTO programs (key, name, focus, example_fields, source) "
                           "VALUES ('x', '测试', '', '', '')")
    result = runner.invoke(args=["transfer-data", "--to", target_url])
    assert result.exit_code == 1
    assert "目标数据库不是空的：表 programs（1 行）" in result.output
    assert row_counts(target_url)["users"] == 0


def test_refuses_a_target_at_another_revision(runner, source_rows, target_url):
    execute_on(target_url, "UPDATE alembic_version SET version_num = '0000'")
    result = runner.invoke(args=["transfer-data", "--to", target_url])
    assert result.exit_code == 1
    assert "数据库结构版本不一致" in result.output and "目标数据库为 0000" in result.output
    assert sum(row_counts(target_url).values()) == 0


def test_refuses_databases_older_than_the_program(runner, source_rows, target_url, monkeypatch):
    monkeypatch.setattr("registry.transfer._code_heads", lambda: {"9999"})
    result = runner.invoke(args=["transfer-data", "--to", target_url])
    assert result.exit_code == 1 and "当前程序需要版本 9999" in result.output


def test_refuses_the_current_database_as_target(runner, source_rows, database_url):
    result = runner.invoke(args=["transfer-data", "--to", database_url])
    assert result.exit_code == 1 and "目标数据库就是当前数据库" in result.output


def test_a_failure_late_in_the_copy_leaves_the_target_empty(app, source_rows, target_url, monkeypatch):
    from registry import transfer

    copy_table = transfer._copy_table

    def fail_at_certificates(reader, writer, table, batch_size):
        if table.name == "certificates":
            raise TransferError("模拟故障")
        return copy_table(reader, writer, table, batch_size)

    monkeypatch.setattr(transfer, "_copy_table", fail_at_certificates)
    target = engine_for(target_url)
    with pytest.raises(TransferError, match="模拟故障"):
        transfer.transfer_data(db.engine, target, report=lambda line: None)
    target.dispose()
    assert sum(row_counts(target_url).values()) == 0


def test_refuses_a_cycle_of_successors(runner, source_rows, target_url):
    db.session.get(County, "410292").successor_code = "410290"
    db.session.commit()
    result = runner.invoke(args=["transfer-data", "--to", target_url])
    assert result.exit_code == 1
    assert "核对失败：表 counties" in result.output and "循环" in result.output
    assert sum(row_counts(target_url).values()) == 0


@pytest.fixture
def postgres_target():
    """A second database on the test server, dropped afterwards."""
    name = "registry_transfer_test"
    server = sa.create_engine(normalise_database_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))
        connection.execute(sa.text(f"CREATE DATABASE {name}"))
    yield sa.make_url(POSTGRES_URL).set(database=name)
    with server.connect() as connection:
        connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    server.dispose()


@pytest.fixture
def sqlite_source(tmp_path, monkeypatch):
    """A populated SQLite installation, whichever database the rest of the suite runs on."""
    from registry.reference.seeding import seed_reference_data

    source = migrated_app(f"sqlite:///{tmp_path / 'source.sqlite3'}", tmp_path / "source", monkeypatch)
    with source.app_context():
        seed_reference_data()
        for username, role, county in (("admin1", Role.ADMIN, None), ("county1", Role.COUNTY, "410221")):
            create_user(None, username, "correct-horse-1", role, county)
        add_retired_counties()
        yield source
        db.engine.dispose()


@pytest.mark.skipif(not POSTGRES_URL, reason="needs REGISTRY_TEST_DATABASE_URL")
def test_sqlite_installation_moves_to_postgresql(sqlite_source, postgres_target, tmp_path, monkeypatch):
    target_app = migrated_app(postgres_target.render_as_string(hide_password=False), tmp_path, monkeypatch)
    # A session zone other than UTC shows whether SQLite's offset-less timestamps were taken as UTC.
    shanghai = postgres_target.update_query_dict({"options": "-c timezone=Asia/Shanghai"})
    target_url = shanghai.render_as_string(hide_password=False)
    result = sqlite_source.test_cli_runner().invoke(args=["transfer-data", "--to", target_url])
    assert result.exit_code == 0, result.output
    source_url = db.engine.url.render_as_string()
    assert row_counts(target_url) == row_counts(source_url) and kept_counts_agree(target_url)
    assert audit_rows(target_url) == audit_rows(source_url)
    largest = {model: db.session.scalar(sa.select(sa.func.max(model.id))) for model in (User, AuditEvent)}
    with target_app.app_context():
        user = create_user(None, "after-transfer", "correct-horse-1", Role.ADMIN)
        db.session.commit()
        assert user.id == largest[User] + 1
        assert db.session.scalar(sa.select(sa.func.max(AuditEvent.id))) == largest[AuditEvent] + 1
        # SQLite's offset-less timestamps seal the same in PostgreSQL, and the new event continues the chain.
        verified = target_app.test_cli_runner().invoke(args=["audit", "verify"])
        events = row_counts(source_url)["audit_events"] + 1
        assert verified.exit_code == 0 and f"共 {events} 条事件" in verified.output
        db.engine.dispose()
