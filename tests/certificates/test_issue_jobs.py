"""Issuing as a background job: the request only starts it; progress is shown; an interrupted job goes on with
the serials reserved for it, never skipping or doubling one."""
import re

import pytest
import sqlalchemy as sa

from registry.assessment.models import AssessmentBatch, AssessmentResult, BatchStatus
from registry.certificates import issue_jobs
from registry.certificates.models import Certificate
from registry.certificates.operations import issue_batch
from registry.core.audit import AuditEvent
from registry.core.db import db
from registry.core.errors import InvalidInput
from registry.core.roles import Role
from tests.helpers import count


@pytest.fixture
def agency_client(client, login, make_user, agency):
    login(make_user(Role.AGENCY, organization_id=agency.id))
    return client


def serials(batch_id: int) -> list[int]:
    return sorted(int(number[-6:]) for number in db.session.scalars(
        sa.select(Certificate.number).where(Certificate.batch_id == batch_id)))


def test_the_issue_button_starts_a_job_and_the_page_shows_its_progress(agency_client, agency, approved_batch,
                                                                       task_queue):
    batch = approved_batch(agency=agency, passed=5, failed=1)
    response = agency_client.post(f"/assessment/batches/{batch.id}/issue")
    assert response.headers["Location"].endswith(f"/assessment/batches/{batch.id}/issue")
    assert count(Certificate) == 0, "the request itself writes no certificate"
    page = agency_client.get(f"/assessment/batches/{batch.id}/issue").get_data(as_text=True)
    assert "正在发证" in page and 'id="job-progress"' in page and "可以关闭本页" in page
    state = agency_client.get(f"/assessment/batches/{batch.id}/issue/progress").get_json()
    assert (state["running"], state["processed"], state["total"]) == (True, 0, 5)

    assert task_queue() >= 1
    db.session.expire_all()
    state = agency_client.get(f"/assessment/batches/{batch.id}/issue/progress").get_json()
    assert (state["running"], state["processed"], state["total"]) == (False, 5, 5)
    assert db.session.get(AssessmentBatch, batch.id).status is BatchStatus.ISSUED
    page = agency_client.get(f"/assessment/batches/{batch.id}/issue").get_data(as_text=True)
    assert re.search(r"已发证 5 本，证书编号 \w+000001 至 \w+000005", page)
    assert serials(batch.id) == [1, 2, 3, 4, 5]


def test_an_interrupted_job_goes_on_with_its_reserved_serials(agency_client, agency, approved_batch, task_queue,
                                                              monkeypatch):
    monkeypatch.setattr(issue_jobs, "CHUNK", 2)
    earlier = approved_batch(agency=agency, passed=3, failed=0)
    batch = approved_batch(agency=agency, passed=7, failed=2)
    # Another batch of the same agency, year and level started first: it holds serials 1–3.
    agency_client.post(f"/assessment/batches/{earlier.id}/issue")
    agency_client.post(f"/assessment/batches/{batch.id}/issue")
    job = issue_jobs.job_of(batch.id)
    # Two chunks committed, then the process dies: the worker gives up on it.
    for _chunk in range(2):
        assert issue_jobs.issue_next_chunk(job.id) is False
        db.session.commit()
    issue_jobs._give_up(job.id, "后台任务已中断 3 次（进程被终止或内存不足），已停止重试")
    assert count(Certificate, Certificate.batch_id == batch.id) == 4
    page = agency_client.get(f"/assessment/batches/{batch.id}/issue").get_data(as_text=True)
    assert "发证中断" in page and "已停止重试" in page and "继续发证" in page
    agency_client.post(f"/assessment/batches/{batch.id}/issue")  # 继续发证
    task_queue()
    db.session.expire_all()
    assert serials(earlier.id) == [1, 2, 3]
    assert serials(batch.id) == list(range(4, 11)), "no serial skipped or doubled across the interruption"
    assert db.session.get(AssessmentBatch, batch.id).status is BatchStatus.ISSUED


def test_a_batch_being_issued_by_a_job_cannot_be_issued_again_at_once(agency_client, agency, approved_batch,
                                                                     task_queue):
    batch = approved_batch(agency=agency, passed=2, failed=0)
    agency_client.post(f"/assessment/batches/{batch.id}/issue")
    with pytest.raises(InvalidInput, match="本批次已有发证任务"):
        issue_batch(None, db.session.get(AssessmentBatch, batch.id))
    db.session.rollback()
    agency_client.post(f"/assessment/batches/{batch.id}/issue")  # pressed twice: still one job
    task_queue()
    assert serials(batch.id) == [1, 2]


def test_issuing_refuses_a_person_who_already_holds_the_certificate(agency_client, agency, approved_batch,
                                                                    make_person, task_queue):
    first = approved_batch(agency=agency, passed=2, failed=0)
    issue_batch(None, first)
    db.session.commit()
    holder = db.session.scalars(sa.select(Certificate).where(Certificate.batch_id == first.id)).first()
    second = approved_batch(agency=agency, passed=3, failed=0)
    # A pass recorded before the no-double-award rule existed (the rule now refuses it at entry): data, as found.
    db.session.add(AssessmentResult(batch_id=second.id, person_id=holder.person_id, theory_score=90,
                                    practical_score=90, is_passed=True))
    db.session.commit()
    page = agency_client.get(f"/assessment/batches/{second.id}/issue").get_data(as_text=True)
    assert "将为 3 名合格人员发证" in page and "1 名合格人员已持有" in page and "不予发证（不得重复发证）" in page
    agency_client.post(f"/assessment/batches/{second.id}/issue")
    task_queue()
    db.session.expire_all()
    issued = db.session.scalars(sa.select(Certificate.person_id).where(Certificate.batch_id == second.id)).all()
    assert len(issued) == 3 and holder.person_id not in issued
    assert serials(second.id) == [3, 4, 5]
    job = issue_jobs.job_of(second.id)
    assert list(job.refused.values()) == [f"已持有焊工四级/中级工有效证书 {holder.number}"]
    started = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "start_issue",
                                                            AuditEvent.entity_id == str(second.id)))
    assert holder.number in str(started.after["refused"])
    page = agency_client.get(f"/assessment/batches/{second.id}/issue").get_data(as_text=True)
    assert "1 名合格人员已持有" in page and "已发证 3 本" in page


def test_a_recorded_repeat_reason_lets_the_holder_be_issued_again(agency, approved_batch, make_batch):
    from registry.assessment.operations import approve_batch, record_result

    first = approved_batch(agency=agency, passed=1, failed=0)
    [held] = issue_batch(None, first)
    db.session.commit()
    second = make_batch(agency=agency)
    record_result(None, second, held.person, theory=90, practical=90, repeat_reason="原证书信息有误，经批准重新认定")
    approve_batch(None, second)
    db.session.commit()
    assert [certificate.person_id for certificate in issue_batch(None, second)] == [held.person_id]
