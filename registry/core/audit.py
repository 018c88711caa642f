"""The append-only audit log (审计日志): every write, login and failed login leaves one row."""
from contextvars import ContextVar
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column

from registry.core.db import db, utcnow

# Set by the request (or CLI command) that acts; operations stay free of Flask's globals.
client_address: ContextVar[str | None] = ContextVar("client_address", default=None)


class AuditEvent(db.Model):
    """审计事件 — one recorded action; rows are never updated or deleted (a database trigger enforces it)."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    actor_name: Mapped[str] = mapped_column(sa.String(80))
    ip_address: Mapped[str | None] = mapped_column(sa.String(64))
    action: Mapped[str] = mapped_column(sa.String(40), index=True)
    entity_type: Mapped[str] = mapped_column(sa.String(40))
    entity_id: Mapped[str | None] = mapped_column(sa.String(40))
    before: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)

    __table_args__ = (sa.Index("ix_audit_events_entity", "entity_type", "entity_id"),)


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
