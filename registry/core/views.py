"""The front door (to sign-in or the dashboard), the health check and the audit log."""
import sqlalchemy as sa
from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from flask_login import current_user

from registry.core.access import admin_required
from registry.core import arguments, audit_pages, settings
from registry.core.audit import AuditEvent
from registry.core.db import db
from registry.core.exports import send_export, sorted_statement
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
    filters = audit_pages.AuditFilters(
        action=arguments.option("action", audit_pages.ACTION_LABELS),
        actor_id=arguments.integer("actor"),
        entity_type=arguments.option("entity_type", audit_pages.ENTITY_LABELS),
        entity_id=arguments.text("entity_id", max_length=40),
        date_from=arguments.day("date_from"), date_to=arguments.day("date_to"))
    statement = audit_pages.filtered_events(filters)
    columns = {"occurred_at": AuditEvent.occurred_at, "action": AuditEvent.action, "actor": AuditEvent.actor_name}
    if fmt := arguments.export_format():
        events = db.session.scalars(sorted_statement(statement, columns, "occurred_at", AuditEvent.id,
                                                     newest_first=True)).all()
        return send_export("审计日志", audit_pages.EXPORT_HEADERS, audit_pages.export_rows(events), "audit_log", fmt)
    page, sorting = paginate(statement, columns, default="occurred_at", newest_first=True)
    return render_template("core/audit.html", page=page, sorting=sorting, audit=audit_pages,
                           actors=audit_pages.actors_of(page.items), actor_choices=audit_pages.actor_choices())


@bp.route("/admin/settings", methods=["GET", "POST"])
@admin_required
def edit_settings():
    form = FlaskForm()
    if form.validate_on_submit():
        settings.set_flag(current_user, settings.ISSUE_WITHOUT_PHOTO, request.form.get(settings.ISSUE_WITHOUT_PHOTO) == "1")
        db.session.commit()
        flash("系统设置已保存。", "success")
        return redirect(url_for("core.edit_settings"))
    return render_template("core/settings.html", form=form, settings=settings)
