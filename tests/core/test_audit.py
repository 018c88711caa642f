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
    html = client.get("/admin/audit?entity_type=thing").get_data(as_text=True)
    assert "thing 1" in html and "create" in html
