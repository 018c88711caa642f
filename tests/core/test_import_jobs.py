"""Import jobs: every way a run can end leaves the job finished, an interrupted job can be taken up again, and
the files of a job (owner-only, the upload encrypted) go when they are no longer needed."""
import os
import stat
import weakref
from datetime import timedelta

import pytest
import sqlalchemy as sa

from registry.core import import_jobs, imports
from registry.core.audit import AuditEvent, record_event
from registry.core.db import db, utcnow
from registry.core.import_jobs import ImportJob, JobStatus
from registry.core.imports import Importer, Outcome, RowOutcome
from registry.core.spreadsheets import Column


class Killed(BaseException):
    """Stands for the process being killed: not an Exception, so nothing on the way catches it."""


class NumberImporter(Importer):
    """Each row writes one audit event: a write that a rollback undoes, as a real import's would be."""

    kind = "numbers"
    title = "编号导入"
    columns = [Column("number", "编号"), Column("name", "姓名")]
    fail_with: type[BaseException] | None = None  # raised while checking, after `fail_after` rows
    kill_after_written: int | None = None
    fail_after = 0

    def __init__(self, job):
        self.job = job
        self.rows_checked = 0

    def check_chunk(self, rows):
        hog = Hog()  # what a parse holds when memory runs out: it must be let go before the job is finished
        HOGS.append(weakref.ref(hog))
        self.rows_checked += len(rows)
        if self.fail_with is not None and self.rows_checked > self.fail_after:
            raise self.fail_with()
        return [(RowOutcome(row, Outcome.NEW, "新增", subject=values["name"]), values) for row, values in rows]

    def write_chunk(self, payloads):
        for values in payloads:
            if self.kill_after_written is not None and self.written() >= self.kill_after_written:
                raise Killed()
            record_event(None, "number_import", "number", int(values["number"]))
        db.session.flush()

    @staticmethod
    def written() -> int:
        return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "number_import"))


class Hog:
    pass


HOGS: list[weakref.ref] = []


@pytest.fixture
def importer(monkeypatch):
    monkeypatch.setitem(import_jobs.IMPORTERS, NumberImporter.kind, NumberImporter)
    monkeypatch.setattr(imports, "CHUNK_SIZE", 10)
    monkeypatch.setattr(NumberImporter, "fail_with", None)
    monkeypatch.setattr(NumberImporter, "kill_after_written", None)
    monkeypatch.setattr(NumberImporter, "fail_after", 0)
    HOGS.clear()
    return NumberImporter


@pytest.fixture
def new_job(app, make_user, importer):
    user = make_user()

    def factory(rows: int = 25) -> ImportJob:
        data = "编号,姓名\n" + "".join(f"{number},学员{number}\n" for number in range(1, rows + 1))
        job = import_jobs.create_job(user, NumberImporter.kind, None, "numbers.csv", data.encode())
        db.session.commit()
        return job

    return factory


def reloaded(job: ImportJob) -> ImportJob:
    return db.session.get(ImportJob, job.id, populate_existing=True)


def checked_job(new_job, rows: int = 25) -> ImportJob:
    job = new_job(rows)
    import_jobs.check_job(job.id)
    assert reloaded(job).status is JobStatus.CHECKED
    return job


def claim(job: ImportJob) -> None:
    assert import_jobs.claim_for_commit(job.id, skip_errors=False)
    db.session.commit()


# Every way a run ends leaves the job finished

def test_a_run_that_runs_out_of_memory_fails_with_the_reason_after_letting_the_memory_go(
        new_job, importer, monkeypatch):
    job = new_job()
    importer.fail_with = MemoryError
    finishing = import_jobs.finish

    def finish(*args, **kwargs):
        assert HOGS and all(ref() is None for ref in HOGS), "the failed run's memory must be let go first"
        finishing(*args, **kwargs)

    monkeypatch.setattr(import_jobs, "finish", finish)
    import_jobs.check_job(job.id)
    job = reloaded(job)
    assert job.status is JobStatus.FAILED
    assert job.message == "文件过大或结构异常，读取时内存不足，未写入任何数据。请拆分成较小的文件后重新上传。"


def test_an_unexpected_error_fails_the_job_with_a_message_and_writes_nothing(new_job, importer):
    job = checked_job(new_job)
    claim(job)
    importer.fail_with, importer.fail_after = RuntimeError, 20
    import_jobs.commit_job(job.id)
    job = reloaded(job)
    assert job.status is JobStatus.FAILED and job.message == "导入时发生内部错误，未写入任何数据，请联系管理员。"
    assert importer.written() == 0


def test_an_upload_no_longer_there_fails_the_job_saying_so(new_job):
    job = new_job()
    import_jobs.upload_path(job.id).unlink()
    import_jobs.check_job(job.id)
    job = reloaded(job)
    assert job.status is JobStatus.FAILED and job.message.startswith("上传的文件已不在服务器上")


# Interrupted jobs (issue 19: a commit killed at 28,000/50,000 showed so forever and could not be committed)

def interrupted_commit(new_job, importer) -> ImportJob:
    job = checked_job(new_job, rows=25)
    claim(job)
    importer.kill_after_written = 10
    with pytest.raises(Killed):
        import_jobs.commit_job(job.id)
    db.session.rollback()  # the dead process's transaction is gone with it
    importer.kill_after_written = None
    job = reloaded(job)
    assert job.status is JobStatus.COMMITTING and importer.written() == 0
    assert import_jobs.read_progress(job.id)["processed"] == 10
    return job


def test_a_commit_killed_midway_is_checked_again_and_can_be_committed(new_job, importer):
    job = interrupted_commit(new_job, importer)
    assert import_jobs.recover_interrupted(job.id) is JobStatus.CHECKED
    db.session.commit()
    job = reloaded(job)
    assert job.status is JobStatus.CHECKED and job.counts == {"new": 25}
    assert job.message == "导入被中断（服务重启），未写入任何数据；检查结果仍然有效，可以再次确认导入"
    outcomes, total = imports.read_outcomes(import_jobs.outcomes_path(job.id))
    assert total == 25, "the dry run's report must survive the interrupted commit"
    claim(job)
    import_jobs.commit_job(job.id)
    assert reloaded(job).status is JobStatus.COMMITTED and importer.written() == 25


def test_a_commit_killed_without_its_dry_run_report_fails_and_the_file_can_be_sent_again(new_job, importer):
    job = interrupted_commit(new_job, importer)
    import_jobs.outcomes_path(job.id).unlink()
    assert import_jobs.recover_interrupted(job.id) is JobStatus.FAILED
    db.session.commit()
    job = reloaded(job)
    assert job.message == "导入被中断（服务重启），未写入任何数据，请重新提交"
    assert not import_jobs.upload_path(job.id).exists()
    again = checked_job(new_job, rows=25)
    claim(again)
    import_jobs.commit_job(again.id)
    assert reloaded(again).status is JobStatus.COMMITTED and importer.written() == 25


def test_every_job_left_running_is_recovered_and_others_are_left_alone(new_job, importer):
    checking = new_job()  # created, never checked: its process died first
    committing = interrupted_commit(new_job, importer)
    committed = checked_job(new_job)
    claim(committed)
    import_jobs.commit_job(committed.id)
    assert import_jobs.mark_interrupted_jobs() == {checking.id: JobStatus.FAILED,
                                                    committing.id: JobStatus.CHECKED}
    db.session.commit()
    assert reloaded(checking).message == "导入被中断（服务重启），未写入任何数据，请重新提交"
    assert reloaded(committed).status is JobStatus.COMMITTED
    assert import_jobs.recover_interrupted(committed.id) is None
    assert import_jobs.mark_interrupted_jobs() == {}


# Files at rest

def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_the_upload_is_encrypted_owner_only_and_goes_when_the_job_ends(app, new_job):
    job = checked_job(new_job)
    folder = import_jobs.job_folder(job.id)
    assert mode(folder.parent) == mode(folder) == 0o700
    assert {path.name: mode(path) for path in folder.iterdir()} == {
        "upload": 0o600, "outcomes.jsonl": 0o600, "progress.json": 0o600, "columns.json": 0o600}
    stored = import_jobs.upload_path(job.id).read_bytes()
    assert "编号,姓名".encode() not in stored and "学员7".encode() not in stored
    with import_jobs.open_upload(job.id) as upload:
        assert upload.read().startswith("编号,姓名\n1,学员1".encode())
    claim(job)
    import_jobs.commit_job(job.id)
    assert sorted(path.name for path in folder.iterdir()) == ["columns.json", "outcomes.jsonl", "progress.json"]


def test_a_failed_job_keeps_no_upload(new_job):
    job = new_job(rows=0)
    import_jobs.check_job(job.id)
    job = reloaded(job)
    assert job.status is JobStatus.FAILED and job.message == "文件中没有数据行"
    assert not import_jobs.upload_path(job.id).exists()


def test_expired_folders_are_purged_and_a_checked_job_so_old_fails(app, new_job, importer, runner):
    now = utcnow()
    old, recent = now - timedelta(days=8), now - timedelta(days=1)
    committed = checked_job(new_job)
    claim(committed)
    import_jobs.commit_job(committed.id)
    waiting = checked_job(new_job)
    failed = new_job(rows=0)
    import_jobs.check_job(failed.id)
    running = new_job()  # checking for ever: recovering it is the worker's start-up's job, not the purge's
    fresh = checked_job(new_job)
    for job, finished_at in ((committed, old), (waiting, old), (failed, old), (fresh, recent)):
        reloaded(job).finished_at = finished_at
    reloaded(running).created_at = old
    db.session.commit()
    orphans = import_jobs.imports_folder()
    stale_orphan, new_orphan = orphans / "9990", orphans / "9991"  # a folder whose job was never committed
    for folder in (stale_orphan, new_orphan):
        folder.mkdir()
        (folder / "upload").write_bytes(b"x")
    os.utime(stale_orphan, (old.timestamp(), old.timestamp()))

    result = runner.invoke(args=["purge-files"])
    assert result.exit_code == 0, result.output
    assert "已删除 4 个导入任务文件夹（保留 7 天）" in result.output
    left = sorted(path.name for path in orphans.iterdir())
    assert left == sorted([str(running.id), str(fresh.id), "9991"])
    assert reloaded(committed).status is JobStatus.COMMITTED
    waiting = reloaded(waiting)
    assert waiting.status is JobStatus.FAILED
    assert waiting.message == "检查结果已超过保留期限（7 天）被删除，未写入任何数据，请重新上传"
    assert reloaded(running).status is JobStatus.CHECKING
