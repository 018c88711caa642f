"""Import jobs (导入任务): an uploaded file, its dry-run report, and the commit — run by the task worker.

The uploaded file and its row outcomes live under instance/imports/<job id>/; progress is a small file
there too, because an SQLite writer holds the only write lock while a commit runs.
"""
import contextlib
import enum
import hashlib
import json
import logging
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Mapped, mapped_column

from registry.core.db import db, enum_type, utcnow
from registry.core.errors import InvalidInput
from registry.core.imports import ImportAborted, Importer, OutcomeLog, run_import
from registry.core.spreadsheets import SpreadsheetError, open_sheet
from registry.core.tasks import background_task

log = logging.getLogger(__name__)


class JobStatus(enum.StrEnum):
    CHECKING = "checking"
    CHECKED = "checked"
    COMMITTING = "committing"
    COMMITTED = "committed"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return {"checking": "正在检查", "checked": "检查完成，待确认", "committing": "正在导入",
                "committed": "已导入", "failed": "失败"}[self.value]

    @property
    def is_running(self) -> bool:
        return self in (JobStatus.CHECKING, JobStatus.COMMITTING)


class ImportJob(db.Model):
    """导入任务 — one uploaded file on its way through dry run and commit."""

    __tablename__ = "import_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(30))
    target_id: Mapped[int | None]
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    filename: Mapped[str] = mapped_column(sa.String(200))
    file_sha256: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[JobStatus] = mapped_column(enum_type(JobStatus), default=JobStatus.CHECKING)
    skip_errors: Mapped[bool] = mapped_column(default=False)
    total_rows: Mapped[int | None]
    counts: Mapped[dict[str, int]] = mapped_column(sa.JSON, default=dict)
    message: Mapped[str] = mapped_column(sa.String(500), default="")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    @property
    def error_count(self) -> int:
        return (self.counts or {}).get("error", 0)

    @property
    def writable_count(self) -> int:
        counts = self.counts or {}
        return counts.get("new", 0) + counts.get("existing", 0) + counts.get("updated", 0)


def job_folder(job_id: int) -> Path:
    folder = Path(current_app.config["INSTANCE_PATH"]) / "imports" / str(job_id)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def upload_path(job_id: int) -> Path:
    return job_folder(job_id) / "upload"


def outcomes_path(job_id: int) -> Path:
    return job_folder(job_id) / "outcomes.jsonl"


def write_progress(job_id: int, processed: int, total: int | None) -> None:
    path = job_folder(job_id) / "progress.json"
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({"processed": processed, "total": total}))
    temporary.replace(path)


def read_progress(job_id: int) -> dict[str, Any]:
    path = job_folder(job_id) / "progress.json"
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {"processed": 0, "total": None}


def create_job(user, kind: str, target_id: int | None, filename: str, data: bytes) -> ImportJob:
    job = ImportJob(kind=kind, target_id=target_id, user_id=user.id, filename=filename[:200],
                    file_sha256=hashlib.sha256(data).hexdigest())
    db.session.add(job)
    db.session.flush()
    upload_path(job.id).write_bytes(data)
    return job


def claim_for_commit(job_id: int, skip_errors: bool) -> bool:
    """Move a checked job to committing exactly once, however many times the button is pressed."""
    result = db.session.execute(
        sa.update(ImportJob)
        .where(ImportJob.id == job_id, ImportJob.status == JobStatus.CHECKED)
        .values(status=JobStatus.COMMITTING, skip_errors=skip_errors)
    )
    return result.rowcount == 1


def give_up(job_id: int, reason: str) -> None:
    """The background run could not finish: the job ends as failed, with the reason, and nothing written."""
    db.session.rollback()
    finish(job_id, JobStatus.FAILED, message=f"{reason}；未写入任何数据。")


def finish(job_id: int, status: JobStatus, counts: dict[str, int] | None = None, message: str = "",
           total_rows: int | None = None) -> None:
    job = db.session.get(ImportJob, job_id)
    job.status, job.message, job.finished_at = status, message, utcnow()
    if counts is not None:
        job.counts = counts
    if total_rows is not None:
        job.total_rows = total_rows
    db.session.commit()


# Each domain registers the importer of its row schema here (core cannot import the domains).
IMPORTERS: dict[str, Callable[[ImportJob], Importer]] = {}


def register_importer(kind: str, factory: Callable[[ImportJob], Importer]) -> None:
    IMPORTERS[kind] = factory


def importer_for(job: ImportJob) -> Importer:
    return IMPORTERS[job.kind](job)


@background_task(give_up=give_up)
def check_job(job_id: int) -> None:
    """The dry run: every row's outcome, nothing written."""
    _execute(job_id, commit=False)


@background_task(give_up=give_up)
def commit_job(job_id: int) -> None:
    """Write every clean row in one transaction, or nothing (a rerun after a crash starts from nothing)."""
    _execute(job_id, commit=True)


def _execute(job_id: int, commit: bool) -> None:
    job = db.session.get(ImportJob, job_id)
    postgres = db.session.get_bind().dialect.name == "postgresql"
    try:
        importer = importer_for(job)
        sheet = open_sheet(upload_path(job_id).read_bytes(), job.filename, importer.columns,
                           max_bytes=current_app.config["IMPORT_MAX_BYTES"],
                           max_rows=current_app.config["IMPORT_MAX_ROWS"])
        write_progress(job_id, 0, sheet.total_rows)
        counts = run_import(importer, sheet, OutcomeLog(outcomes_path(job_id)), commit=commit,
                            skip_errors=job.skip_errors,
                            progress=lambda processed: write_progress(job_id, processed, sheet.total_rows),
                            checking=_lookups_planned_afresh if postgres else contextlib.nullcontext)
    except ImportAborted as aborted:
        # The data changed since the dry run: show the new errors and let the user decide again.
        db.session.rollback()
        finish(job_id, JobStatus.CHECKED, counts=_counts_of(job_id), message=aborted.message)
        return
    except (SpreadsheetError, InvalidInput) as error:
        db.session.rollback()
        finish(job_id, JobStatus.FAILED, counts={}, message=error.message)
        return
    if not counts:
        db.session.rollback()
        finish(job_id, JobStatus.FAILED, counts={}, message="文件中没有数据行")
        return
    # For a commit this one call commits the imported rows and the job's new status together.
    finish(job_id, JobStatus.COMMITTED if commit else JobStatus.CHECKED, counts=counts,
           total_rows=sum(counts.values()))


@contextlib.contextmanager
def _lookups_planned_afresh() -> Iterator[None]:
    """While a chunk is checked, have PostgreSQL plan each look-up for the tables as they are now.

    psycopg prepares a query run five times, and PostgreSQL then reuses one generic plan, costed while the
    table was small: as a commit grows the persons table, each chunk's 1,000-value look-up became a full
    scan testing every row against every value, quadratic in the file (100k rows: minutes, not seconds).
    Only while checking: planning every inserted row afresh too would cost about 20 µs a row. After an
    error there is no reset to make: the rollback that follows undoes the SET LOCAL.
    """
    db.session.execute(sa.text("SET LOCAL plan_cache_mode = force_custom_plan"))
    yield
    db.session.execute(sa.text("SET LOCAL plan_cache_mode = DEFAULT"))


def _counts_of(job_id: int) -> dict[str, int]:
    counts: dict[str, int] = {}
    with outcomes_path(job_id).open(encoding="utf-8") as handle:
        for line in handle:
            outcome = json.loads(line)["outcome"]
            counts[outcome] = counts.get(outcome, 0) + 1
    return counts
