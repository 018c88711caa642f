"""Import jobs (导入任务): an uploaded file, its dry-run report, and the commit — run by the task worker.

The uploaded file and its row outcomes live under instance/imports/<job id>/ (owner-only); progress is a
small file there too, because an SQLite writer holds the only write lock while a commit runs. The upload,
full of ID numbers, is kept encrypted with the data key and deleted as soon as the job can no longer use
it; the report keeps only masked names and numbers. `purge_expired` removes what is left after a while.
"""
import contextlib
import gc
import io
import json
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

import sqlalchemy as sa
from cryptography.fernet import InvalidToken
from flask import current_app
from huey import crontab

from registry.core import private_files, sealed_files
from registry.core.db import db, utcnow
from registry.core.errors import InvalidInput
from registry.core.models import ImportJob, JobStatus
from registry.core.imports import ImportAborted, Importer, OutcomeLog, run_import
from registry.core.spreadsheets import SpreadsheetError, open_sheet
from registry.core.tasks import background_task, periodic

log = logging.getLogger(__name__)
# A job younger than this may be between its commit and the queueing of its task.
UNCLAIMED_GRACE = timedelta(minutes=1)


INTERNAL_ERROR = "导入时发生内部错误，未写入任何数据，请联系管理员。"
OUT_OF_MEMORY = "文件过大或结构异常，读取时内存不足，未写入任何数据。请拆分成较小的文件后重新上传。"
UPLOAD_GONE = "上传的文件已不在服务器上（超过保留期限已删除），未写入任何数据，请重新上传。"
UPLOAD_UNREADABLE = "无法解密上传的文件（数据密钥已更换），未写入任何数据，请重新上传。"
INTERRUPTED = "导入被中断（服务重启），未写入任何数据，请重新提交"
COMMIT_INTERRUPTED = "导入被中断（服务重启），未写入任何数据；检查结果仍然有效，可以再次确认导入"


def imports_folder() -> Path:
    return Path(current_app.config["INSTANCE_PATH"]) / "imports"


def job_folder(job_id: int, create: bool = False) -> Path:
    folder = imports_folder() / str(job_id)
    if create:
        private_files.private_folder(imports_folder())
        private_files.private_folder(folder)
    return folder


def upload_path(job_id: int) -> Path:
    return job_folder(job_id) / "upload"


def outcomes_path(job_id: int) -> Path:
    return job_folder(job_id) / "outcomes.jsonl"


def _running_outcomes_path(job_id: int) -> Path:
    # A run writes its outcomes here and moves them into place when it ends: a commit that is interrupted
    # leaves the dry run's report whole, so the job can be offered for commit again.
    return job_folder(job_id) / "outcomes.running.jsonl"


def _progress_path(job_id: int) -> Path:
    return job_folder(job_id) / "progress.json"


def _columns_path(job_id: int) -> Path:
    return job_folder(job_id) / "columns.json"


def read_columns(job_id: int) -> dict[str, list[str]] | None:
    """The columns the dry run read and those it ignored (None before the file was opened)."""
    try:
        return json.loads(_columns_path(job_id).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def write_progress(job_id: int, processed: int, total: int | None) -> None:
    private_files.write_private(_progress_path(job_id), json.dumps({"processed": processed, "total": total}))


def read_progress(job_id: int) -> dict[str, Any]:
    try:
        return json.loads(_progress_path(job_id).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {"processed": 0, "total": None}


def create_job(user, kind: str, target_id: int | None, filename: str, data: bytes | BinaryIO) -> ImportJob:
    """A job for the upload `data` (the bytes, or a file read from where it stands), sealed into its folder
    piece by piece: a large upload is never held whole in memory."""
    job = ImportJob(kind=kind, target_id=target_id, user_id=user.id, filename=filename[:200], file_sha256="")
    db.session.add(job)
    db.session.flush()
    job_folder(job.id, create=True)
    source = io.BytesIO(data) if isinstance(data, (bytes, bytearray, memoryview)) else data
    job.file_sha256 = sealed_files.seal(source, upload_path(job.id), _protector())
    return job


@contextlib.contextmanager
def open_upload(job_id: int) -> Iterator[BinaryIO]:
    """The uploaded file as it came, as a seekable file decrypted piece by piece while it is read;
    InvalidInput (saying why) once it is gone or cannot be decrypted."""
    try:
        upload = sealed_files.open_sealed(upload_path(job_id), _protector())
    except FileNotFoundError:
        raise InvalidInput(None, UPLOAD_GONE) from None
    except InvalidToken:
        raise InvalidInput(None, UPLOAD_UNREADABLE) from None
    with upload:
        yield upload


def _protector():
    # The app's DocumentProtector (registry.people.protection), reached without core importing an area.
    return current_app.extensions["document_protector"]


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
    if status in (JobStatus.COMMITTED, JobStatus.FAILED):
        # Nothing can use the upload any more: the report needs only the masked outcomes.
        upload_path(job_id).unlink(missing_ok=True)


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
    """Run the job and finish it, whatever happens: a job that fails ends as 失败 with the reason."""
    try:
        counts = _run_job(job_id, commit)
    except ImportAborted as aborted:
        # The data changed since the dry run: show the new errors and let the user decide again.
        db.session.rollback()
        _keep_outcomes(job_id)
        finish(job_id, JobStatus.CHECKED, counts=_counts_of(job_id), message=aborted.message)
        return
    except (SpreadsheetError, InvalidInput) as error:
        message = error.message
    except MemoryError:
        message = OUT_OF_MEMORY  # no traceback logged: formatting one needs memory too
        log.error("import job %s ran out of memory", job_id)
    except Exception:
        log.exception("import job %s failed", job_id)
        message = INTERNAL_ERROR
    else:
        if counts:
            _keep_outcomes(job_id)
            # For a commit this one call commits the imported rows and the job's new status together.
            finish(job_id, JobStatus.COMMITTED if commit else JobStatus.CHECKED, counts=counts,
                   total_rows=sum(counts.values()))
            return
        message = "文件中没有数据行"
    # Only here, out of the except clause, are the failed run's frames and all they held (a sheet that
    # exhausted memory) let go: finishing needs memory of its own.
    gc.collect()
    db.session.rollback()
    _running_outcomes_path(job_id).unlink(missing_ok=True)
    finish(job_id, JobStatus.FAILED, counts={}, message=message)


def _run_job(job_id: int, commit: bool) -> dict[str, int]:
    job = db.session.get(ImportJob, job_id)
    importer = importer_for(job)
    with open_upload(job_id) as upload:
        sheet = open_sheet(upload, job.filename, importer.columns,
                           max_bytes=current_app.config["IMPORT_MAX_BYTES"],
                           max_rows=current_app.config["IMPORT_MAX_ROWS"])
        write_progress(job_id, 0, sheet.total_rows)
        private_files.write_private(_columns_path(job_id), json.dumps(
            {"used": sheet.used_headers(), "ignored": sheet.ignored_headers()}, ensure_ascii=False))
        postgres = db.session.get_bind().dialect.name == "postgresql"
        return run_import(importer, sheet, OutcomeLog(_running_outcomes_path(job_id)), commit=commit,
                          skip_errors=job.skip_errors,
                          progress=lambda processed: write_progress(job_id, processed, sheet.total_rows),
                          checking=_lookups_planned_afresh if postgres else contextlib.nullcontext)


def _keep_outcomes(job_id: int) -> None:
    _running_outcomes_path(job_id).replace(outcomes_path(job_id))


def recover_interrupted(job_id: int) -> JobStatus | None:
    """Return a job that a dead process left 正在检查 or 正在导入 to where its user can go on.

    Call it only for jobs no process is working on: the task worker calls it for every running job as it
    starts. An interrupted commit wrote nothing (the rows and the job's end are committed together): with
    its dry-run report whole it is 检查完成 again and may be committed; any other job fails, saying so, and
    the file may be uploaded again. Returns the new status (None for a job that was not running); the
    caller commits.
    """
    job = db.session.get(ImportJob, job_id, populate_existing=True)
    if job is None or not job.status.is_running:
        return None
    _running_outcomes_path(job_id).unlink(missing_ok=True)
    _progress_path(job_id).unlink(missing_ok=True)
    if job.status is JobStatus.COMMITTING and job.counts and _dry_run_report_is_whole(job):
        job.status, job.message = JobStatus.CHECKED, COMMIT_INTERRUPTED
    else:
        job.status, job.message, job.counts = JobStatus.FAILED, INTERRUPTED, {}
        upload_path(job_id).unlink(missing_ok=True)
    job.finished_at = utcnow()
    return job.status


@periodic(crontab(minute="*"), name="registry.import_jobs.recover")
def recover_unclaimed_jobs() -> dict[int, JobStatus]:
    """Jobs left running that no task will finish: neither its dry run nor its commit is queued or running
    (the process that was to queue it died first, or its claim was lost). A job whose task died is not one
    of them: its claim remains, and the task is run again (registry/core/tasks.py)."""
    running = db.session.scalars(sa.select(ImportJob).where(
        ImportJob.status.in_([JobStatus.CHECKING, JobStatus.COMMITTING]))).all()
    settled = [job.id for job in running if _as_utc(job.created_at) < utcnow() - UNCLAIMED_GRACE]
    return {job_id: recover_interrupted(job_id) for job_id in settled
            if not check_job.is_claimed(job_id) and not commit_job.is_claimed(job_id)}


def mark_interrupted_jobs() -> dict[int, JobStatus]:
    """recover_interrupted for every job left running; {job id: new status}. The caller commits."""
    running = db.session.scalars(sa.select(ImportJob.id).where(
        ImportJob.status.in_([JobStatus.CHECKING, JobStatus.COMMITTING])).order_by(ImportJob.id)).all()
    return {job_id: recover_interrupted(job_id) for job_id in running}


def _dry_run_report_is_whole(job: ImportJob) -> bool:
    if not upload_path(job.id).exists():
        return False
    try:
        with outcomes_path(job.id).open("rb") as handle:
            return sum(1 for _line in handle) == sum(job.counts.values())
    except FileNotFoundError:
        return False


def purge_expired(retention: timedelta, now: datetime | None = None) -> int:
    """Delete the folders (report, and any upload left) of jobs that ended more than `retention` ago, and
    folders no job owns. A job still 检查完成 by then can no longer be committed: it fails, saying why.
    Running jobs are left alone. Returns how many folders went; the caller commits."""
    cutoff = (now or utcnow()) - retention
    folders = {int(path.name): path for path in _folders_in(imports_folder())}
    jobs = {job.id: job for job in db.session.scalars(sa.select(ImportJob).where(ImportJob.id.in_(folders)))}
    removed = 0
    for job_id, folder in sorted(folders.items()):
        job = jobs.get(job_id)
        if job is None:
            expired = private_files.modified_at(folder) < cutoff
        else:
            expired = not job.status.is_running and _as_utc(job.finished_at or job.created_at) < cutoff
        if not expired:
            continue
        if job is not None and job.status is JobStatus.CHECKED and not _expire_checked(job, retention):
            continue  # claimed for commit meanwhile
        private_files.remove(folder)
        removed += 1
    return removed


def _expire_checked(job: ImportJob, retention: timedelta) -> bool:
    """Fail a job still waiting for its commit, unless someone has just pressed the button."""
    message = f"检查结果已超过保留期限（{retention.days} 天）被删除，未写入任何数据，请重新上传"
    result = db.session.execute(sa.update(ImportJob)
                                .where(ImportJob.id == job.id, ImportJob.status == JobStatus.CHECKED)
                                .values(status=JobStatus.FAILED, message=message))
    return result.rowcount == 1


def _folders_in(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return [path for path in folder.iterdir() if path.is_dir() and path.name.isdigit()]


def _as_utc(moment: datetime) -> datetime:
    # SQLite gives back the naive UTC time it stored.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


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
