"""The append-only audit log (审计日志): every write, login and failed login leaves one row.

Each row is sealed into a keyed hash chain as it is flushed (registry/core/audit_chain.py explains the
design; docs/AUDIT.md the operations side). Database triggers refuse UPDATE, DELETE, SQLite's REPLACE and
PostgreSQL's TRUNCATE (migrations 0001 and 0007).
"""
from contextvars import ContextVar
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session, object_session

from registry.core import audit_chain
from registry.core.db import db, utcnow
from registry.core.models import AuditEvent

# Set by the request (or CLI command) that acts; operations stay free of Flask's globals.
client_address: ContextVar[str | None] = ContextVar("client_address", default=None)


def record_event(
    actor,
    action: str,
    entity_type: str,
    entity_id: object = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    actor_name: str | None = None,
) -> AuditEvent:
    """Add an audit row to the current transaction, so it lands (or rolls back) with the write it describes."""
    event_row = AuditEvent(
        actor_id=getattr(actor, "id", None),
        actor_name=actor_name or getattr(actor, "username", None) or "system",
        ip_address=client_address.get(),
        action=action,
        entity_type=entity_type,
        entity_id=None if entity_id is None else str(entity_id),
        before=_jsonable(before),
        after=_jsonable(after),
    )
    db.session.add(event_row)
    return event_row


def changes(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Keep only the fields that changed, so the log shows what an edit did."""
    changed = [key for key in after if before.get(key) != after.get(key)]
    return {key: before.get(key) for key in changed}, {key: after[key] for key in changed}


def _jsonable(values: dict[str, Any] | None) -> dict[str, Any] | None:
    if values is None:
        return None
    return {key: value if isinstance(value, (str, int, float, bool, type(None), list)) else str(value)
            for key, value in values.items()}


@event.listens_for(Session, "before_flush")
def _refuse_audit_changes(session: Session, _context, _instances) -> None:
    for row in (*session.dirty, *session.deleted):
        if isinstance(row, AuditEvent):
            raise PermissionError("audit events are append-only")


# The session.info key under which a flush keeps the events it is about to insert, unsealed.
_UNSEALED = "audit_unsealed"


@event.listens_for(Session, "before_flush")
def _collect_new_events(session: Session, _context, _instances) -> None:
    pending = [row for row in session.new if isinstance(row, AuditEvent)]
    pending.sort(key=lambda row: sa.inspect(row).insert_order)  # the order they were recorded in
    session.info[_UNSEALED] = pending


@event.listens_for(AuditEvent, "before_insert")
def _seal_new_events(_mapper, connection, target: AuditEvent) -> None:
    """Seal every event of this flush onto the end of the chain, just before their INSERT.

    Not in before_flush: the chain lock is taken here, when the flush reaches audit_events, after it has
    written the rows audit_events refers to (users); a transaction that already holds such a row and waits
    for the chain lock never waits on one that holds the chain lock and wants the row. Every ORM path that
    writes audit rows (record_event: requests, imports, bulk issue, the demo generator) passes here, with
    one lock and one read of the head per flush however many events it carries. A Core INSERT into
    audit_events would bypass it and fail on the NOT NULL chain columns.
    """
    pending = object_session(target).info.pop(_UNSEALED, [])
    if target.chain_hash is None and target not in pending:
        pending.append(target)  # added to the session by a listener after _collect_new_events ran
    if not pending:
        return  # sealed with the first event of this flush
    audit_chain.lock_chain(connection)
    fields = [_fields(row) for row in pending]
    audit_chain.link(chain_key(), fields, *audit_chain.chain_tail(connection, len(pending)))
    for row, values in zip(pending, fields):
        for name in ("occurred_at", "id", "chain_seq", "chain_prev", "chain_hash"):
            setattr(row, name, values[name])


def _fields(row: AuditEvent) -> dict[str, Any]:
    # The column default would be applied only in the INSERT, after sealing: stamp the time now, in UTC.
    occurred_at = audit_chain.utc_instant(row.occurred_at or utcnow())
    return {name: getattr(row, name) for name in audit_chain.FIELDS} | {"occurred_at": occurred_at}


def chain_key() -> bytes:
    return audit_chain.chain_key(current_app.config["DATA_KEY"])


def verify_log(connection, anchors=()) -> audit_chain.Verification:
    """Check the whole chain as stored; the caller reports (registry/core/audit_cli.py)."""
    rows = audit_chain.stored_rows(connection, AuditEvent.__table__)
    return audit_chain.find_breaks(chain_key(), rows, anchors)
