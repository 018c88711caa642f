"""Uploading a roster or a completion list for a class, and the templates to fill in."""
from flask import abort, redirect, render_template, request, send_file, url_for
from flask_login import current_user
import io

import sqlalchemy as sa

from registry.accounts.access import roles_required
from registry.accounts.models import Role
from registry.core.db import db
from registry.core.import_jobs import ImportJob
from registry.core.import_views import accept_upload
from registry.core.spreadsheets import template_csv, template_workbook
from registry.training.completions import COMPLETION_COLUMNS, COMPLETION_SAMPLE, CompletionImporter
from registry.training.roster import ROSTER_COLUMNS, ROSTER_SAMPLE, RosterImporter
from registry.training.scopes import get_class_or_404
from registry.training.views import bp

IMPORTS = {
    RosterImporter.kind: (RosterImporter, ROSTER_COLUMNS, ROSTER_SAMPLE, "学员名单模板"),
    CompletionImporter.kind: (CompletionImporter, COMPLETION_COLUMNS, COMPLETION_SAMPLE, "结业名单模板"),
}
writers = roles_required(Role.ADMIN, Role.INSTITUTION)


@bp.route("/training/classes/<int:class_id>/roster", methods=["GET", "POST"], defaults={"kind": "roster"},
          endpoint="import_roster")
@bp.route("/training/classes/<int:class_id>/completions", methods=["GET", "POST"],
          defaults={"kind": "completions"}, endpoint="import_completions")
@writers
def upload(class_id: int, kind: str):
    training_class = get_class_or_404(current_user, class_id, for_write=True)
    if request.method == "POST" and (job := accept_upload(kind, training_class.id, request.files.get("file"))):
        return redirect(url_for("imports.job_detail", job_id=job.id))
    importer, columns, _sample, _title = IMPORTS[kind]
    jobs = db.session.scalars(sa.select(ImportJob).where(
        ImportJob.kind == kind, ImportJob.target_id == training_class.id,
        ImportJob.user_id == current_user.id).order_by(ImportJob.id.desc()).limit(10)).all()
    return render_template("training/import_upload.html", training_class=training_class, kind=kind,
                           title=importer.title, columns=columns, jobs=jobs)


@bp.get("/training/templates/<kind>.<fmt>")
@writers
def import_template(kind: str, fmt: str):
    if kind not in IMPORTS or fmt not in ("xlsx", "csv"):
        abort(404)
    _importer, columns, sample, title = IMPORTS[kind]
    data = template_workbook(columns, sample, title=title) if fmt == "xlsx" else template_csv(columns)
    return send_file(io.BytesIO(data), as_attachment=True, download_name=f"{title}.{fmt}")
