"""The pages every import shares: the dry-run report with progress, and the commit button (the upload pages
of each area build on registry/core/import_pages.py)."""
import io

from flask import Blueprint, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from registry.core.access import any_role_required
from registry.core import arguments, import_errors, import_jobs
from registry.core.audit import record_event
from registry.core.db import db
from registry.core.errors import InvalidInput
from registry.core.exports import XLSX_MIMETYPE
from registry.core.spreadsheets import SpreadsheetError
from registry.core.import_pages import get_job_or_404
from registry.core.imports import Outcome, read_outcomes

bp = Blueprint("imports", __name__)
PAGE_SIZE = 100


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
        progress=import_jobs.read_progress(job.id), Outcome=Outcome, columns=import_jobs.read_columns(job.id),
        errors_downloadable=import_errors.is_available(job),
    )


@bp.get("/imports/<int:job_id>/errors.xlsx")
@any_role_required
def error_rows(job_id: int):
    """The error rows as uploaded, with 错误原因, to fix and upload again; it holds full ID numbers, so
    only the uploader gets it (get_job_or_404) and each download is audited."""
    job = get_job_or_404(job_id)
    if not import_errors.is_available(job):
        flash("没有可下载的错误行：文件已导入、已失败或超过保留期限。", "warning")
        return redirect(url_for("imports.job_detail", job_id=job.id))
    try:
        data, rows = import_errors.error_workbook(job)
    except (InvalidInput, SpreadsheetError) as error:
        flash(error.message, "error")
        return redirect(url_for("imports.job_detail", job_id=job.id))
    record_event(current_user, "export", "import_job", job.id, after={"list": import_errors.TITLE, "rows": rows})
    db.session.commit()
    return send_file(io.BytesIO(data), mimetype=XLSX_MIMETYPE, as_attachment=True,
                     download_name=f"{import_errors.TITLE}_{job.id}.xlsx")


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
