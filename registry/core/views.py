"""The front door (to sign-in or the dashboard), the health check and the audit log."""
import sqlalchemy as sa
from flask import Blueprint, jsonify, redirect, render_template, url_for
from flask_login import current_user

from registry.core.access import admin_required
from registry.core import arguments
from registry.core.audit import AuditEvent
from registry.core.db import db
from registry.core.listing import paginate

bp = Blueprint("core", __name__)


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")


@bp.get("/")
def home():
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.login"))
    return redirect(url_for("dashboard.index"))


@bp.get("/admin/audit")
@admin_required
def audit_log():
    statement = sa.select(AuditEvent)
    for field in ("action", "entity_type", "actor_name"):
        if value := arguments.text(field, max_length=80):
            statement = statement.where(getattr(AuditEvent, field) == value)
    columns = {"occurred_at": AuditEvent.occurred_at, "action": AuditEvent.action, "actor": AuditEvent.actor_name}
    page, sorting = paginate(statement, columns, default="occurred_at")
    return render_template("core/audit.html", page=page, sorting=sorting)
