"""What each area's upload page is made of: taking the upload as a job, the page with the user's last uploads,
the empty template to fill in, and the job as its uploader may see it."""
import io

import sqlalchemy as sa
from flask import abort, flash, render_template, send_file
from flask_login import current_user
from werkzeug.datastructures import FileStorage

from registry.core import import_jobs
from registry.core.db import db
from registry.core.import_jobs import ImportJob
from registry.core.roles import Role
from registry.core.spreadsheet_files import template_csv, template_workbook
from registry.core.spreadsheets import Column


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
    # The stream, not its bytes: werkzeug keeps a large upload in a temporary file, and so may we.
    job = import_jobs.create_job(current_user, kind, target_id, upload.filename, upload.stream)
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
