"""The served task worker: an issue job of 10,000 certificates whose process is killed -9 half-way goes on,
and ends with serials 1…10,000, none skipped or doubled, and the cockpit's kept totals right."""
import io
import json
import os
import re
import signal
import time
from datetime import date, timedelta

import httpx
import pytest
import sqlalchemy as sa

from registry.assessment.models import AssessmentBatch, BatchStatus
from registry.assessment.operations import approve_batch
from registry.certificates import issue_jobs
from registry.certificates.models import Certificate, IssueJobStatus
from registry.core.db import db
from registry.core.import_jobs import ImportJob, JobStatus
from registry.core.roles import Role
from registry.stats.models import CoverageDay
from registry.people.identity import resident_id_check_char
from tests.conftest import TEST_DATA_KEY
from tests.serving import registry_environment, run_command

CANDIDATES = 10_000
PASSWORD = "correct-horse-1"
AGENCY = dict(scopes=[("6-18-02-04", None, 5, 3, "2024-01-01", None)])


def results_file(count: int) -> bytes:
    lines = ["证件类型,证件号码,姓名,所在县区,理论知识成绩,操作技能成绩,综合评审成绩,备注"]
    for number in range(count):
        first17 = f"410221{date(1970, 1, 1) + timedelta(days=number // 500):%Y%m%d}{number % 500 + 100:03d}"
        lines.append(f"居民身份证,{first17 + resident_id_check_char(first17)},考生{number},杞县,80,75,,")
    return ("\n".join(lines) + "\n").encode()


def csrf_token(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


@pytest.fixture
def served_environment():
    return {"REGISTRY_PERSON_LOOKUP_LIMITS": "1000000/hour"}


@pytest.fixture
def batch_of_ten_thousand(client, login, make_user, make_batch, agency):
    """An approved level-4 batch whose 10,000 passing results came in through the results upload."""
    user = make_user(Role.AGENCY, organization_id=agency.id, username="agency")
    batch = make_batch(agency=agency, level=4)
    login(user)
    sent = client.post(f"/assessment/batches/{batch.id}/results/upload", content_type="multipart/form-data",
                       data={"file": (io.BytesIO(results_file(CANDIDATES)), "成绩.csv")})
    job_id = int(re.search(r"/imports/(\d+)", sent.headers["Location"]).group(1))
    client.post(f"/imports/{job_id}/commit")
    db.session.expire_all()
    assert db.session.get(ImportJob, job_id).status is JobStatus.COMMITTED
    approve_batch(None, db.session.get(AssessmentBatch, batch.id))
    db.session.commit()
    return batch.id


def test_an_issue_job_killed_half_way_resumes_without_gap_or_double(batch_of_ten_thousand, served_app, tmp_path,
                                                                    database_url):
    batch_id = batch_of_ten_thousand
    web = httpx.Client(base_url=served_app.base_url, timeout=60)
    web.post("/login", data={"username": "agency", "password": PASSWORD,
                             "csrf_token": csrf_token(web.get("/login").text)})
    page = web.get(f"/assessment/batches/{batch_id}/issue").text
    assert f"确认发证（{CANDIDATES} 本）" in page
    started = web.post(f"/assessment/batches/{batch_id}/issue", data={"csrf_token": csrf_token(page)})
    assert started.status_code == 302
    db.session.rollback()
    job_id = issue_jobs.job_of(batch_id).id
    claim = tmp_path / "tasks" / f"registry.certificates.issue_jobs.issue_certificates-{job_id}.json"

    def progress() -> dict:
        return web.get(f"/assessment/batches/{batch_id}/issue/progress").json()

    deadline = time.monotonic() + 300
    while not (claim.exists() and "pid" in json.loads(claim.read_text() or "{}")
               and 0 < progress()["processed"] < CANDIDATES):
        assert time.monotonic() < deadline, progress()
        time.sleep(0.05)
    os.kill(json.loads(claim.read_text())["pid"], signal.SIGKILL)  # the task process, mid-job
    killed_at = progress()
    assert killed_at["running"] and killed_at["processed"] < CANDIDATES, "killed before the job ended"
    # The page, closed and opened again, still shows the job.
    assert 'id="job-progress"' in web.get(f"/assessment/batches/{batch_id}/issue").text

    while (state := progress())["running"]:
        assert time.monotonic() < deadline, state
        time.sleep(0.2)
    assert state["status"] == "done" and state["processed"] == CANDIDATES, state
    assert "queued again" in served_app.log()
    db.session.rollback()
    numbers = db.session.scalars(sa.select(Certificate.number).where(Certificate.batch_id == batch_id)).all()
    assert sorted(int(number[-6:]) for number in numbers) == list(range(1, CANDIDATES + 1))
    assert len(set(numbers)) == CANDIDATES
    assert db.session.get(AssessmentBatch, batch_id).status is BatchStatus.ISSUED
    assert issue_jobs.job_of(batch_id).status is IssueJobStatus.DONE
    # The kept totals equal a recount from the certificates (exit 0: no difference).
    checked = run_command(registry_environment(database_url, tmp_path, TEST_DATA_KEY), "stats", "rebuild", "--check")
    assert "没有差异" in checked
    assert db.session.scalar(sa.select(sa.func.sum(CoverageDay.level_4))) == CANDIDATES
    web.close()
