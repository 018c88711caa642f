"""申报条件: a rule per level, checked at the results import row by row; an exception needs a reason, is audited
and shown to officials on the batch page."""
import io
import re
from datetime import date
from functools import partial

import pytest
import sqlalchemy as sa

from registry.assessment.models import AssessmentResult
from registry.assessment import eligibility
from registry.assessment.operations import approve_batch, record_result
from registry.certificates.operations import issue_batch
from registry.core.audit import AuditEvent
from registry.core.db import db
from registry.core.import_jobs import ImportJob, JobStatus
from registry.core.roles import Role
from tests import helpers
from tests.helpers import commit, error_rows

AGENCY = dict(scopes=[("6-18-02-04", None, 5, 1, "2019-01-01", None)])
HEADER = ["证件类型", "证件号码", "姓名", "所在县区", "理论知识成绩", "操作技能成绩", "从事本职业年限", "学历",
          "申报条件例外原因"]
resident_id = partial(helpers.resident_id, area="410221", born="19880101")


def csv_bytes(rows) -> bytes:
    return ("\n".join(",".join(str(cell) for cell in row) for row in [HEADER, *rows]) + "\n").encode()


@pytest.fixture
def four_year_rule(app):
    eligibility.set_rule(None, 4, previous_level_years=4, work_years=6, educations=["技工学校", "中等职业学校"])
    db.session.commit()


@pytest.fixture
def upload(client, login, make_user, agency):
    login(make_user(Role.AGENCY, organization_id=agency.id))

    def send(data: bytes, batch_id: int):
        response = client.post(f"/assessment/batches/{batch_id}/results/upload", content_type="multipart/form-data",
                               data={"file": (io.BytesIO(data), "成绩.csv")})
        job_id = int(re.search(r"/imports/(\d+)", response.headers["Location"]).group(1))
        db.session.expire_all()
        return db.session.get(ImportJob, job_id)

    return send


def test_each_row_must_meet_a_route_of_the_levels_rule_or_carry_an_exception(
        client, upload, four_year_rule, agency, make_batch, make_person, login, make_user):
    # 持证人 got 五级 on 2020-06-01: more than four years before this batch's 2025-05-10.
    holder = make_person(name="持证人")
    earlier = make_batch(agency=agency, level=5, assessed_on=date(2020, 5, 10))
    record_result(None, earlier, holder, theory=80, practical=80)
    approve_batch(None, earlier)
    issue_batch(None, earlier, date(2020, 6, 1))
    db.session.commit()
    batch = make_batch(agency=agency, level=4)
    rows = [
        ["居民身份证", resident_id(11), "新手", "", "80", "80", "2", "", ""],
        ["居民身份证", resident_id(12), "老师傅", "", "80", "80", "7", "", ""],
        ["居民身份证", resident_id(13), "技校生", "", "80", "80", "", "技工学校", ""],
        ["居民身份证", helpers_number(holder), "持证人", "", "80", "80", "", "", ""],
        ["居民身份证", resident_id(15), "竞赛选手", "", "80", "80", "1", "高中", "市级技能竞赛第一名，经市人社局核准"],
    ]
    job = upload(csv_bytes(rows), batch.id)
    assert job.counts == {"new": 3, "existing": 1, "error": 1}
    assert error_rows(client, job) == [(
        "2", "从事本职业年限", "不符合四级/中级工申报条件（须满足其一：持本职业五级/初级工证书满4年；从事本职业满6年；"
        "学历为技工学校、中等职业学校；本行：未持本职业五级/初级工证书，从事本职业 2 年，学历 空）；"
        "如确属例外，请在“申报条件例外原因”列填写原因")]
    assert "申报条件例外：市级技能竞赛第一名" in client.get(f"/imports/{job.id}").get_data(as_text=True)
    assert commit(client, job, skip_errors=True).status is JobStatus.COMMITTED
    [excepted] = db.session.scalars(sa.select(AssessmentResult).where(
        AssessmentResult.eligibility_exception.is_not(None))).all()
    assert excepted.person.name == "竞赛选手" and excepted.eligibility_exception.startswith("市级技能竞赛第一名")
    [event] = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "eligibility_exception")).all()
    assert event.after["reason"] == "市级技能竞赛第一名，经市人社局核准" and "从事本职业 1 年" in event.after["refusal"]
    # The county's officials see the exception and its reason on the batch page.
    login(make_user(Role.COUNTY, county_code="410221"))
    page = client.get(f"/assessment/batches/{batch.id}").get_data(as_text=True)
    assert "例外情况（1 人" in page and "市级技能竞赛第一名，经市人社局核准" in page, page[page.find("<main"):][:3000]


def helpers_number(person) -> str:
    from registry.people.operations import protector

    return protector().decrypt(person.document_cipher)


def test_a_bad_work_years_value_is_named(client, upload, four_year_rule, agency, make_batch):
    batch = make_batch(agency=agency, level=4)
    job = upload(csv_bytes([["居民身份证", resident_id(21), "甲", "", "80", "80", "六年", "", ""]]), batch.id)
    assert error_rows(client, job) == [("2", "从事本职业年限", "应为数字（年），实为“六年”")]


def test_the_rule_is_set_listed_and_cleared_from_the_command_line(runner):
    shown = runner.invoke(args=["eligibility", "set", "3", "--previous-years", "5", "--education", "技师学院、高级技工学校"])
    assert shown.exit_code == 0 and "三级/高级工：持本职业四级/中级工证书满5年；学历为技师学院、高级技工学校" in shown.output
    assert "三级/高级工：" in runner.invoke(args=["eligibility", "list"]).output
    refused = runner.invoke(args=["eligibility", "set", "2"])
    assert refused.exit_code != 0 and "二级/技师的申报条件至少要有一条途径" in refused.output
    runner.invoke(args=["eligibility", "clear", "3"])
    assert "未设置申报条件" in runner.invoke(args=["eligibility", "list"]).output
    actions = db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.entity_type == "eligibility_rule"))
    assert list(actions) == ["set_eligibility_rule", "clear_eligibility_rule"]
