"""Issuing a batch as a background job (发证任务): a progress bar instead of one long request.

One request had to number, snapshot and write every certificate inside the server's timeout (826 took 12 s;
10,000 would pass the 120 s limit). Now the request only checks the batch, reserves the serials and starts a
job; the task worker writes CHUNK certificates per short transaction, so the page can be closed and opened
again and SQLite's one write lock is never held for long.

Serials cannot drift however the job dies: they are reserved once, in the transaction that starts the job,
and the certificate of the k-th passed result (result id order) is always numbered first_serial + k. A run
killed half-way leaves whole chunks behind (each commits with its stats totals); the next run, started by
the task worker's recovery or by the 继续发证 button, writes the results still without a certificate.
"""
from datetime import date

import sqlalchemy as sa

from registry.accounts.models import User
from registry.assessment.models import AssessmentBatch, AssessmentResult, BatchStatus
from registry.certificates.awards import refused_results
from registry.certificates.bulk_issue import locked_for_issue, certificate_rows, holder_rows
from registry.certificates.issued_hash import fill_batch_hashes
from registry.certificates.models import Certificate, IssueJob, IssueJobStatus
from registry.certificates.numbering import allocate_serials
from registry.certificates.operations import check_photos, issuable_results
from registry.core.audit import record_event
from registry.core.changes import note_persons_changed
from registry.core.db import commit_with_retry, db, utcnow
from registry.core.errors import InvalidInput
from registry.core.tasks import background_task, enqueue_after_commit

CHUNK = 500  # certificates per transaction: the write lock is held well under a second


def job_of(batch_id: int) -> IssueJob | None:
    return db.session.scalar(sa.select(IssueJob).where(IssueJob.batch_id == batch_id)
                             .execution_options(populate_existing=True))


def passed_count(batch_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(AssessmentResult).where(
        AssessmentResult.batch_id == batch_id, AssessmentResult.is_passed))


def issued_count(batch_id: int) -> int:
    """Certificates the batch's results have so far (corrections' replacements have no result: not counted)."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(Certificate).where(
        Certificate.batch_id == batch_id, Certificate.result_id.is_not(None)))


def start_issue(actor, batch: AssessmentBatch, issued_on: date | None = None) -> IssueJob:
    """Check the batch, reserve its serials and queue the job that writes its certificates; the caller commits.

    A batch whose job was interrupted (发证中断) is resumed with the serials it already has.
    """
    batch = locked_for_issue(actor, batch)
    job = job_of(batch.id)
    if job is not None:
        if job.status is IssueJobStatus.FAILED:
            job.status, job.message, job.finished_at = IssueJobStatus.RUNNING, "", None
            record_event(actor, "resume_issue", "assessment_batch", batch.id, after={"job": job.id})
        enqueue_after_commit(issue_certificates, job.id)
        return job
    issued_on = issued_on or date.today()
    refused = refused_results(batch)
    check_photos(issuable_results(batch, refused))
    total = passed_count(batch.id) - len(refused)
    first = allocate_serials(batch.agency_id, issued_on.year, batch.level, total)[0] if total else 1
    job = IssueJob(batch_id=batch.id, user_id=getattr(actor, "id", None), issued_on=issued_on,
                   first_serial=first, total=total, refused={str(key): why for key, why in refused.items()},
                   message=refusal_message(len(refused)))
    db.session.add(job)
    db.session.flush()
    record_event(actor, "start_issue", "assessment_batch", batch.id, after={
        "job": job.id, "certificates": total, "issued_on": issued_on.isoformat(),
        "serials": f"{first}–{first + total - 1}" if total else None, "refused": job.refused})
    enqueue_after_commit(issue_certificates, job.id)
    return job


def refusal_message(refused: int) -> str:
    if not refused:
        return ""
    return (f"{refused} 名合格人员已持有（或已在更早的批次待发）同职业、同等级的证书，且成绩中没有填写重复认定原因，"
            "不予发证（不得重复发证）；补考、换证请另行办理")


def _give_up(job_id: int, reason: str) -> None:
    """The worker gave up: what was written stays (whole chunks), and the page offers to go on."""
    db.session.rollback()
    job = db.session.get(IssueJob, job_id)
    job.status, job.message, job.finished_at = IssueJobStatus.FAILED, reason[:300], utcnow()
    db.session.commit()


@background_task(give_up=_give_up)
def issue_certificates(job_id: int) -> None:
    """Write the job's certificates CHUNK at a time, each chunk committed; then mark the batch 已发证."""
    while not commit_with_retry(lambda: issue_next_chunk(job_id)):
        pass


def issue_next_chunk(job_id: int) -> bool:
    """Write the next chunk of certificates (the caller commits); True once the job has ended."""
    job = db.session.get(IssueJob, job_id, populate_existing=True)
    if job is None or job.status is not IssueJobStatus.RUNNING:
        return True
    batch = db.session.scalars(sa.select(AssessmentBatch).where(AssessmentBatch.id == job.batch_id)
                               .with_for_update().execution_options(populate_existing=True)).one()
    holders = [holder for holder in db.session.execute(holder_rows(batch.id))
               if str(holder.result_id) not in job.refused]
    if len(holders) != job.total:  # an approved batch is frozen: this is a defect, never a guess at serials
        job.status, job.finished_at = IssueJobStatus.FAILED, utcnow()
        job.message = f"合格人数已从 {job.total} 变为 {len(holders)}，发证已停止，请联系管理员"
        return True
    certified = set(db.session.scalars(sa.select(Certificate.result_id).where(
        Certificate.batch_id == batch.id, Certificate.result_id.is_not(None))))
    pending = [(holder, job.first_serial + rank) for rank, holder in enumerate(holders)
               if holder.result_id not in certified][:CHUNK]
    if not pending:
        _finish(job, batch)
        return True
    rows = certificate_rows(batch, pending, job.issued_on, utcnow())
    db.session.execute(sa.insert(Certificate.__table__), rows)
    note_persons_changed(row["person_id"] for row in rows)
    return False


def _finish(job: IssueJob, batch: AssessmentBatch) -> None:
    now = utcnow()
    batch.status, batch.issued_at = BatchStatus.ISSUED, now
    job.status, job.finished_at = IssueJobStatus.DONE, now
    actor = db.session.get(User, job.user_id) if job.user_id else None
    numbers = progress(job)
    record_event(actor, "issue", "assessment_batch", batch.id, after={
        "certificates": job.total, "first": numbers.get("first"), "last": numbers.get("last"), "job": job.id})
    # Rendered after, in short transactions of their own (registry/certificates/issued_hash.py).
    enqueue_after_commit(fill_batch_hashes, batch.id)


def progress(job: IssueJob) -> dict:
    state = {"status": job.status.value, "label": job.status.label, "running": job.status is IssueJobStatus.RUNNING,
             "processed": issued_count(job.batch_id), "total": job.total, "message": job.message}
    if job.status is IssueJobStatus.DONE:
        state["first"], state["last"] = db.session.execute(
            sa.select(sa.func.min(Certificate.number), sa.func.max(Certificate.number))
            .where(Certificate.batch_id == job.batch_id, Certificate.result_id.is_not(None))).one()
    return state
