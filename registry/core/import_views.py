"""The pages every import shares: the dry-run report with progress, and the commit button."""
import io

import sqlalchemy as sa
from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from werkzeug.datastructures import FileStorage

from registry.core.access import any_role_required
from registry.core.roles import Role
from registry.core import arguments, import_jobs
from registry.core.db import db
from registry.core.import_jobs import ImportJob, JobStatus
from registry.core.imports import Outcome, read_outcomes
from registry.core.spreadsheets import Column, template_csv, template_workbook

bp = Blueprint("imports", __name__)
PAGE_SIZE = 100


def get_job_or_404(job_id: int) -> ImportJob:
    """Only the uploader (and the administrator) may see a job: its report names persons."""
    # The job changes in another thread's transaction: always read it afresh.
    job = db.session.get(ImportJob, job_id, populate_existing=True)
    if job is None or (job.user_id != current_user.id and current_user.role is not Role.ADMIN):
        abort(404)
    return job


def accept_upload(kind: str, target_id: int | None, upload: FileStorage | None) -> ImportJob | None:
    """Store the upload as a new job and start its dry run; None (with a message) when nothing came."""
    if upload is None or not upload.filename:
        flash("请选择要上传的文件（.xlsx 或 .csv）。", "error")
        return None
    job = import_jobs.create_job(current_user, kind, target_id, upload.filename, upload.read())
    db.session.commit()
    import_jobs.check_job.enqueue(job.id)
    return job


def upload_page(kind: str, target_id: int | None, **context):
    """The shared upload page (templates/import_upload.html) with the user's last uploads of this kind."""
    target = ImportJob.target_id.is_(None) if target_id is None else ImportJob.target_id == target_id
    jobs = db.session.scalars(sa.select(ImportJob).where(ImportJob.kind == kind, target,
                                                         ImportJob.user_id == current_user.id)
                              .order_by(ImportJob.id.desc()).limit(10)).all()
    return render_template("import_upload.html", jobs=jobs, **context)


def template_download(columns: list[Column], sample: list[list], title: str, fmt: str):
    """An empty template to fill in: .xlsx with a sample row, or a bare CSV header."""
    if fmt not in ("xlsx", "csv"):
        abort(404)
    data = template_workbook(columns, sample, title=title) if fmt == "xlsx" else template_csv(columns)
    return send_file(io.BytesIO(data), as_attachment=True, download_name=f"{title}.{fmt}")


@bp.get("/imports/<int:job_id>")
@any_role_required
def job_detail(job_id: int):
    job = get_job_or_404(job_id)
    only = Outcome(value) if (value := arguments.option("only", Outcome)) else None
    page = arguments.integer("page", 1)
    outcomes, matching = ([], 0) if job.status.is_running else read_outcomes(
        import_jobs.outcomes_path(job.id), only, (page - 1) * PAGE_SIZE, PAGE_SIZE)
    return render_template(
        "core/import_job.html", job=job, importer=import_jobs.importer_for(job), outcomes=outcomes,
        matching=matching, page=page, pages=max((matching + PAGE_SIZE - 1) // PAGE_SIZE, 1), only=only,
        progress=import_jobs.read_progress(job.id), Outcome=Outcome,
    )


@bp.get("/imports/<int:job_id>/progress")
@any_role_required
def job_progress(job_id: int):
    job = get_job_or_404(job_id)
    return jsonify(status=job.status.value, label=job.status.label, running=job.status.is_running,
                   **import_jobs.read_progress(job.id))


@bp.post("/imports/<int:job_id>/commit")
@any_role_required
def commit_job(job_id: int):
    job = get_job_or_404(job_id)
    skip_errors = request.form.get("skip_errors") == "1"
    if job.error_count and not skip_errors:
        flash(f"有 {job.error_count} 行错误：请修改文件后重新上传，或勾选“跳过错误行”后导入。", "error")
        return redirect(url_for("imports.job_detail", job_id=job.id))
    if not import_jobs.claim_for_commit(job.id, skip_errors):
        db.session.rollback()
        flash("该文件已导入或正在导入，不会重复写入。", "warning")
        return redirect(url_for("imports.job_detail", job_id=job.id))
    db.session.commit()
    import_jobs.commit_job.enqueue(job.id)
    return redirect(url_for("imports.job_detail", job_id=job.id))
