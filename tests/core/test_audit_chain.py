"""The audit log's keyed hash chain: `registry audit verify` finds every change, gap and forged row."""
import hashlib
import hmac
import os
import threading
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from registry import create_app
from registry.accounts.models import User
from registry.core.audit import AuditEvent, record_event
from registry.core.config import normalise_database_url
from registry.core.db import db
from registry.people.protection import generate_data_key

POSTGRES_URL = os.environ.get("REGISTRY_TEST_DATABASE_URL")
audit_events = AuditEvent.__table__


def is_postgresql() -> bool:
    return db.engine.dialect.name == "postgresql"


def verify(runner, *options: str):
    return runner.invoke(args=["audit", "verify", *options])


def tamper(*statements) -> None:
    """What someone with the owner's rights can do: get past the append-only triggers, then change rows."""
    if is_postgresql():
        # Transaction-scoped, so the shared test database keeps its triggers for the next test.
        db.session.execute(sa.text("SET LOCAL session_replication_role = replica"))
    else:
        triggers = db.session.scalars(sa.text(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_events'")).all()
        for name in triggers:
            db.session.execute(sa.text(f"DROP TRIGGER {name}"))
    for statement in statements:
        db.session.execute(sa.text(statement) if isinstance(statement, str) else statement)
    db.session.commit()


@pytest.fixture
def events(app) -> list[int]:
    """Seven events, some committed alone and some several to a transaction, as requests and imports do."""
    rows = []
    for index in range(3):
        after = {"名称": f"第{index}个", "份额": 0.1 * index}
        rows.append(record_event(None, "create", "thing", index, after=after))
        db.session.commit()
    rows += [record_event(None, "import", "thing", index, before=None, after={"rows": [index, "行"]})
             for index in range(3, 7)]
    db.session.flush()  # two flushes in one transaction
    rows.append(record_event(None, "export", "thing", None))
    db.session.commit()
    return [row.id for row in rows]


def row(event_id: int) -> sa.RowMapping:
    return db.session.execute(sa.select(audit_events).where(audit_events.c.id == event_id)).mappings().one()


def test_an_intact_log_verifies_with_a_count(events, runner):
    result = verify(runner)
    assert result.exit_code == 0, result.output
    assert "审计日志完整" in result.output and "共 8 条事件" in result.output


def test_events_are_chained_in_the_order_they_were_recorded(events):
    rows = [row(event_id) for event_id in events]
    assert [one["chain_seq"] for one in rows] == list(range(1, 9))
    assert [one["chain_prev"] for one in rows[1:]] == [one["chain_hash"] for one in rows[:-1]]
    assert len({one["chain_hash"] for one in rows}) == 8


@pytest.mark.parametrize("column, value", [
    ("action", "tampered"),
    ("actor_name", "someone-else"),
    ("entity_id", "99"),
    ("ip_address", "10.0.0.9"),
    ("after", {"名称": "改过的"}),
    ("before", {"injected": True}),
    ("occurred_at", datetime(2020, 1, 1, tzinfo=UTC)),
    ("chain_hash", "0" * 64),
])
def test_a_changed_field_is_named_with_its_event(events, runner, column, value):
    changed = events[3]
    tamper(sa.update(audit_events).where(audit_events.c.id == changed).values({column: value}))
    result = verify(runner)
    assert result.exit_code == 1, result.output
    assert f"事件 {changed}（序号 4）" in result.output and "被改动" in result.output
    assert "共 1 处问题" in result.output, result.output


def test_a_deleted_event_is_a_gap(events, runner):
    tamper(f"DELETE FROM audit_events WHERE id = {events[2]}")
    result = verify(runner)
    assert result.exit_code == 1, result.output
    assert f"事件 {events[1]} 与事件 {events[3]} 之间缺少序号 3 的 1 条事件" in result.output
    assert "删除" in result.output and "共 1 处问题" in result.output


def test_several_deleted_events_are_one_gap(events, runner):
    tamper(f"DELETE FROM audit_events WHERE id IN ({events[2]}, {events[3]}, {events[4]})")
    result = verify(runner)
    assert result.exit_code == 1
    assert "缺少序号 3–5 的 3 条事件" in result.output


def test_the_oldest_events_deleted_is_a_gap_at_the_start(events, runner):
    tamper(f"DELETE FROM audit_events WHERE id IN ({events[0]}, {events[1]})")
    result = verify(runner)
    assert result.exit_code == 1
    assert f"事件 {events[2]} 之前缺少序号 1–2 的 2 条事件" in result.output


def forged(event_id: int, seq: int, prev: str, **fields) -> dict:
    """A row made by someone who knows the format but not the key: any hash they compute is wrong."""
    values = {"id": event_id, "occurred_at": datetime.now(UTC), "actor_id": None, "actor_name": "admin",
              "ip_address": "127.0.0.1", "action": "create", "entity_type": "user", "entity_id": "1",
              "before": None, "after": {"role": "admin"}, "chain_seq": seq, "chain_prev": prev}
    values |= fields
    guess = hmac.new(b"not the key", repr(sorted(values.items(), key=str)).encode(), hashlib.sha256)
    return values | {"chain_hash": guess.hexdigest()}


def test_a_forged_event_appended_at_the_end_is_named(events, runner):
    last = row(events[-1])
    tamper(sa.insert(audit_events).values(forged(last["id"] + 1, last["chain_seq"] + 1, last["chain_hash"])))
    result = verify(runner)
    assert result.exit_code == 1, result.output
    assert f"事件 {last['id'] + 1}（序号 9）" in result.output and "伪造" in result.output


def test_an_event_replaced_by_a_forged_one_is_named(events, runner):
    original = row(events[4])
    tamper(f"DELETE FROM audit_events WHERE id = {original['id']}",
           sa.insert(audit_events).values(
               forged(original["id"], original["chain_seq"], original["chain_prev"])))
    result = verify(runner)
    assert result.exit_code == 1
    assert f"事件 {original['id']}（序号 5）" in result.output and "共 1 处问题" in result.output


def test_a_forged_event_pushed_into_the_middle_breaks_every_renumbered_event(events, runner):
    middle = row(events[3])
    tamper(f"UPDATE audit_events SET chain_seq = chain_seq + 100 WHERE chain_seq >= {middle['chain_seq']}",
           f"UPDATE audit_events SET chain_seq = chain_seq - 99 WHERE chain_seq > 100",
           sa.insert(audit_events).values(forged(1000, middle["chain_seq"], middle["chain_prev"])))
    result = verify(runner)
    assert result.exit_code == 1
    assert "事件 1000（序号 4）" in result.output
    assert all(f"事件 {event_id}（序号" in result.output for event_id in events[3:])


def test_a_genuine_event_out_of_place_is_named(events, runner):
    """An event sealed with the right key but on another chain (say, from another copy) does not link."""
    from registry.core.audit import chain_key
    from registry.core.audit_chain import seal

    replaced = dict(row(events[2]))
    replaced |= {"chain_prev": "ab" * 32, "after": {"名称": "另一份副本"}}
    replaced["chain_hash"] = seal(chain_key(), replaced)
    tamper(f"DELETE FROM audit_events WHERE id = {events[2]}", sa.insert(audit_events).values(replaced))
    result = verify(runner)
    assert result.exit_code == 1
    assert f"事件 {events[2]}（序号 3）：与前一条事件 {events[1]} 接不上——两条都是真的，但不相邻" in result.output
    assert f"事件 {events[3]}（序号 4）：与前一条事件 {events[2]} 接不上" in result.output
    assert "共 2 处问题" in result.output


def test_an_anchor_catches_the_newest_events_deleted(events, runner):
    intact = verify(runner)
    anchor = intact.output.split("--anchor ")[1].split()[0]
    assert anchor.startswith("8:") and verify(runner, "--anchor", anchor).exit_code == 0
    tamper(f"DELETE FROM audit_events WHERE id IN ({events[-2]}, {events[-1]})")
    result = verify(runner, "--anchor", anchor)
    assert result.exit_code == 1
    assert "锚点序号 8" in result.output and "末尾的事件被删除" in result.output


def test_a_wrong_anchor_is_named(events, runner):
    result = verify(runner, "--anchor", "3:" + "ab" * 8)
    assert result.exit_code == 1 and "锚点序号 3：摘要不符" in result.output
    assert verify(runner, "--anchor", "not-an-anchor").exit_code == 2


def test_another_key_fails_every_event_and_says_so(events, runner, app, monkeypatch):
    monkeypatch.setitem(app.config, "DATA_KEY", generate_data_key())
    result = verify(runner)
    assert result.exit_code == 1
    assert "共 8 处问题" in result.output and "REGISTRY_DATA_KEY" in result.output


def test_an_empty_log_verifies(app, runner):
    result = verify(runner)
    assert result.exit_code == 0 and "共 0 条事件" in result.output


def test_writers_at_once_never_chain_to_the_same_predecessor(app, runner):
    """Each thread is its own app context, session and connection: three transactions racing to append."""
    per_writer, writers = 25, 3
    start = threading.Barrier(writers)
    failures = []

    def write(name: str) -> None:
        try:
            with app.app_context():
                start.wait()
                for index in range(per_writer):
                    record_event(None, "concurrent", "writer", f"{name}-{index}")
                    # A read after the event, before the commit: the transaction stays open a while.
                    db.session.scalar(sa.select(sa.func.count()).select_from(audit_events))
                    db.session.commit()
                db.session.remove()
        except Exception as error:  # noqa: BLE001 — reported by the main thread
            failures.append(repr(error))

    threads = [threading.Thread(target=write, args=(f"w{number}",)) for number in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    result = verify(runner)
    assert result.exit_code == 0, result.output
    assert f"共 {per_writer * writers} 条事件" in result.output


def test_the_chain_lock_comes_after_the_rows_the_flush_changes(app, runner, make_user):
    """A transaction holding a user row (flushed early) then appending, against one changing that row and
    appending in one flush: were the chain locked before the row, each would wait for the other (PostgreSQL
    would abort one as a deadlock). The chain is locked at the audit INSERT, after the users' UPDATE."""
    if not is_postgresql():
        pytest.skip("SQLite has one writer at a time: its second transaction waits for the write lock")
    user_id = make_user(username="contested").id
    holding, failures = threading.Event(), []

    def edit(name: str, flush_early: bool, go: threading.Event | None) -> None:
        try:
            with app.app_context():
                user = db.session.get(User, user_id)
                user.display_name = name
                if flush_early:
                    db.session.flush()  # row lock on the user, no audit row yet
                    holding.set()
                    go.wait(10)
                else:
                    holding.wait(10)
                record_event(None, "update", "user", user_id, after={"display_name": name})
                db.session.commit()
                db.session.remove()
        except Exception as error:  # noqa: BLE001 — reported by the main thread
            failures.append(repr(error))

    go = threading.Event()
    first = threading.Thread(target=edit, args=("first", True, go))
    second = threading.Thread(target=edit, args=("second", False, None))
    first.start()
    second.start()
    assert holding.wait(10)
    waiting = sa.text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
    queued = False
    for _ in range(200):  # until the second transaction is queued behind the first one's row lock
        queued = bool(db.session.scalar(waiting))
        db.session.rollback()
        if queued:
            break
        threading.Event().wait(0.05)
    go.set()
    first.join()
    second.join()
    assert queued and failures == []
    assert verify(runner).exit_code == 0


# --- the migration chains what was written before it ------------------------------------------------------

def app_on(url: str, instance, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setenv("REGISTRY_DATABASE_URL", url)
        patch.setenv("REGISTRY_INSTANCE_PATH", str(instance))
        patch.setenv("REGISTRY_SECRET_KEY", "audit-chain-test-secret")
        patch.setenv("REGISTRY_DATA_KEY", generate_data_key())
        return create_app({"TESTING": True, "WTF_CSRF_ENABLED": False})


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.sqlite3'}"
        return
    if not POSTGRES_URL:
        pytest.skip("needs REGISTRY_TEST_DATABASE_URL")
    name = "registry_audit_migration_test"
    server = sa.create_engine(normalise_database_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))
        connection.execute(sa.text(f"CREATE DATABASE {name}"))
    yield sa.make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    with server.connect() as connection:
        connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    server.dispose()


OLD_EVENTS = [  # ids with gaps, as rolled-back transactions leave them
    (1, "2025-03-01 08:00:00.123456", "system", "seed", "seed_data", None, None, '{"counties": 12}'),
    (2, "2025-03-01 08:05:00", "admin", "login", "user", "1", None, None),
    (5, "2025-03-02 09:30:00.000001", "admin", "update", "user", "2", '{"角色": "县区"}', '{"角色": "管理员"}'),
    (9, "2025-03-03 23:59:59.999999", "school", "import_roster", "training_class", "7", "null",
     '{"created": 40, "rate": 0.25, "names": ["张三", "李四"]}'),
]


def test_the_migration_chains_the_events_written_before_it(empty_database, tmp_path, monkeypatch):
    old = app_on(normalise_database_url(empty_database), tmp_path, monkeypatch)
    with old.app_context():
        upgrade(revision="0006")
        for values in OLD_EVENTS:
            db.session.execute(sa.text(
                "INSERT INTO audit_events (id, occurred_at, actor_name, action, entity_type, entity_id, "
                "before, after) VALUES (:id, :at, :actor, :action, :type, :entity, :before, :after)"),
                dict(zip(("id", "at", "actor", "action", "type", "entity", "before", "after"), values)))
        if is_postgresql():  # where the app's own inserts would have left the id sequence
            db.session.execute(sa.text("SELECT setval(pg_get_serial_sequence('audit_events', 'id'), 9)"))
        db.session.commit()
        upgrade()
        runner = old.test_cli_runner()
        result = verify(runner)
        assert result.exit_code == 0, result.output
        assert "共 4 条事件" in result.output
        chained = db.session.execute(sa.select(audit_events.c.id, audit_events.c.chain_seq)
                                     .order_by(audit_events.c.id)).all()
        assert chained == [(1, 1), (2, 2), (5, 3), (9, 4)]
        record_event(None, "login", "user", 1)
        db.session.commit()
        assert "共 5 条事件" in verify(runner).output
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            db.session.execute(sa.text("UPDATE audit_events SET action = 'x' WHERE id = 5"))
        db.session.rollback()
        db.session.remove()
        db.engine.dispose()
