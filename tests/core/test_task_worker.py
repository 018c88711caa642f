"""The served task worker: an import whose worker is killed mid-commit is run again whole, once."""
import json
import os
import re
import signal
import time
from datetime import date, timedelta

import httpx
import pytest
import sqlalchemy as sa

from registry.core.roles import Role
from registry.core.db import db
from registry.core.import_jobs import ImportJob, JobStatus
from registry.people.identity import resident_id_check_char
from registry.people.models import Person
from registry.training.models import ClassStatus, Enrollment

ROWS = 30_000
PASSWORD = "correct-horse-1"


def roster(count: int) -> bytes:
    lines = ["证件类型,证件号码,姓名,性别,所在县区,手机号码,重点群体,入班日期"]
    for number in range(count):
        first17 = f"410221{date(1965, 1, 1) + timedelta(days=number // 800):%Y%m%d}{number % 800 + 100:03d}"
        lines.append(f"居民身份证,{first17 + resident_id_check_char(first17)},学员{number},,杞县,,,2025-03-05")
    return ("\n".join(lines) + "\n").encode()


def csrf_token(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def progress(client: httpx.Client, job_id: int) -> dict:
    return client.get(f"/imports/{job_id}/progress").json()


def wait_for(client: httpx.Client, job_id: int, done, seconds: float = 300) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        state = progress(client, job_id)
        if done(state):
            return state
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} still {state} after {seconds} s")


@pytest.fixture
def served_environment():
    return {"REGISTRY_PERSON_LOOKUP_LIMITS": "1000000/hour"}  # 30,000 new persons, checked and committed


def test_an_import_whose_worker_is_killed_mid_commit_runs_again_whole(
        served_app, tmp_path, make_institution, make_user, make_class):
    institution = make_institution()
    make_user(Role.INSTITUTION, organization_id=institution.id, username="school")
    training_class = make_class(institution=institution, status=ClassStatus.RUNNING)
    client = httpx.Client(base_url=served_app.base_url, timeout=60)
    login = client.get("/login").text
    client.post("/login", data={"username": "school", "password": PASSWORD, "csrf_token": csrf_token(login)})
    upload_url = f"/training/classes/{training_class.id}/roster"
    sent = client.post(upload_url, data={"csrf_token": csrf_token(client.get(upload_url).text)},
                       files={"file": ("名单.csv", roster(ROWS), "text/csv")})
    job_id = int(re.search(r"/imports/(\d+)", sent.headers["Location"]).group(1))
    wait_for(client, job_id, lambda state: state["status"] == "checked")

    page = client.get(f"/imports/{job_id}").text
    client.post(f"/imports/{job_id}/commit", data={"csrf_token": csrf_token(page)})
    claim = tmp_path / "tasks" / f"registry.core.import_jobs.commit_job-{job_id}.json"
    # Started (its claim names the process) and part-way through the rows.
    wait_for(client, job_id, lambda state: "pid" in json.loads(claim.read_text())
             and 0 < state["processed"] < ROWS)
    os.kill(json.loads(claim.read_text())["pid"], signal.SIGKILL)  # the task process, mid-transaction
    for web_worker in served_app.pids("gunicorn")[1:]:  # and the web workers; the master starts new ones
        os.kill(web_worker, signal.SIGKILL)
    time.sleep(0.5)
    assert progress(client, job_id)["status"] == "committing", "killed before its commit ended"

    finished = wait_for(client, job_id, lambda state: not state["running"])
    assert finished["status"] == "committed", finished
    db.session.rollback()
    assert db.session.get(ImportJob, job_id).status is JobStatus.COMMITTED
    enrolled = db.session.scalar(sa.select(sa.func.count()).select_from(Enrollment)
                                 .where(Enrollment.class_id == training_class.id))
    persons = db.session.scalar(sa.select(sa.func.count(sa.distinct(Person.id))))
    assert (enrolled, persons) == (ROWS, ROWS), "nothing lost, nothing doubled"
    assert "queued again" in served_app.log()
    deadline = time.monotonic() + 10
    while claim.exists() and time.monotonic() < deadline:  # removed just after the job's last commit
        time.sleep(0.05)
    assert not claim.exists()
    client.close()
