"""The audit log is append-only: the ORM refuses changes and so does the database itself."""
import pytest
import sqlalchemy as sa

from registry.core.audit import AuditEvent, record_event
from registry.core.db import db


@pytest.fixture
def event(app):
    row = record_event(None, "create", "thing", 1, after={"name": "x"})
    db.session.commit()
    return row


def test_orm_refuses_to_update_an_event(event):
    event.action = "tampered"
    with pytest.raises(PermissionError):
        db.session.commit()
    db.session.rollback()


def test_orm_refuses_to_delete_an_event(event):
    db.session.delete(event)
    with pytest.raises(PermissionError):
        db.session.commit()
    db.session.rollback()


@pytest.mark.parametrize("statement", [
    "UPDATE audit_events SET action = 'tampered'",
    "DELETE FROM audit_events",
])
def test_database_trigger_refuses_raw_changes(event, statement):
    with pytest.raises(sa.exc.DatabaseError, match="append-only"):
        db.session.execute(sa.text(statement))
    db.session.rollback()
    assert db.session.scalar(sa.select(AuditEvent.action)) == "create"


def test_audit_page_lists_events_for_admin(event, make_user, login):
    client = login(make_user())
    html = client.get("/admin/audit").get_data(as_text=True)
    assert "thing 1" in html and "创建" in html


def is_postgresql() -> bool:
    return db.engine.dialect.name == "postgresql"


def audit_columns() -> list[str]:
    return [column["name"] for column in sa.inspect(db.engine).get_columns("audit_events")]


def replace_copy_of(event_id: int, **changed: str) -> str:
    """SQLite's REPLACE INTO a row that already exists: the row itself with some columns changed."""
    values = ", ".join(f"'{changed[name]}'" if name in changed else name for name in audit_columns())
    return (f"REPLACE INTO audit_events ({', '.join(audit_columns())}) "
            f"SELECT {values} FROM audit_events WHERE id = {event_id}")


@pytest.mark.parametrize("verb", ["REPLACE INTO", "INSERT OR REPLACE INTO"])
def test_sqlite_refuses_replace_into_an_existing_event(event, verb):
    if is_postgresql():
        pytest.skip("REPLACE INTO is SQLite's: PostgreSQL's upsert fires the UPDATE trigger")
    statement = replace_copy_of(event.id, action="tampered").replace("REPLACE INTO", verb, 1)
    with pytest.raises(sa.exc.DatabaseError, match="append-only"):
        db.session.execute(sa.text(statement))
    db.session.rollback()
    assert db.session.execute(sa.select(AuditEvent.id, AuditEvent.action)).all() == [(event.id, "create")]


def test_sqlite_refuses_replace_that_collides_on_the_chain_position(event):
    """A REPLACE with a new id but an existing chain_seq would delete the event holding that position."""
    if is_postgresql():
        pytest.skip("REPLACE INTO is SQLite's")
    statement = replace_copy_of(event.id, action="tampered").replace(
        "SELECT id,", f"SELECT {event.id + 100},", 1)
    with pytest.raises(sa.exc.DatabaseError, match="append-only"):
        db.session.execute(sa.text(statement))
    db.session.rollback()
    assert db.session.execute(sa.select(AuditEvent.id, AuditEvent.action)).all() == [(event.id, "create")]


def test_postgresql_upsert_onto_an_event_is_refused(event):
    if not is_postgresql():
        pytest.skip("needs PostgreSQL")
    columns = ", ".join(audit_columns())
    with pytest.raises(sa.exc.DatabaseError, match="append-only"):
        db.session.execute(sa.text(f"INSERT INTO audit_events ({columns}) SELECT {columns} FROM audit_events "
                                   "ON CONFLICT (id) DO UPDATE SET action = 'tampered'"))
    db.session.rollback()


@pytest.mark.parametrize("statement", ["TRUNCATE audit_events", "TRUNCATE users CASCADE",
                                       "TRUNCATE audit_events RESTART IDENTITY"])
def test_postgresql_refuses_truncate(event, statement):
    if not is_postgresql():
        pytest.skip("TRUNCATE is PostgreSQL's (SQLite's DELETE without WHERE fires the DELETE trigger)")
    with pytest.raises(sa.exc.DatabaseError, match="append-only"):
        db.session.execute(sa.text(statement))
    db.session.rollback()
    assert db.session.execute(sa.select(AuditEvent.id, AuditEvent.action)).all() == [(event.id, "create")]
