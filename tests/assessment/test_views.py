"""Tests for the assessment pages: planning batches, the results grid, approval, issue and the batch list."""
import csv
import io
import re
from datetime import date
from functools import partial

import openpyxl
import pytest
import sqlalchemy as sa

from registry.core.roles import Role
from registry.assessment.models import AssessmentBatch, AssessmentResult, BatchStatus
from registry.assessment.operations import record_result
from registry.certificates.models import Certificate
from registry.certificates.operations import correct_certificate, issue_batch, revoke_certificate
from registry.core.audit import AuditEvent
from registry.core.db import db
from registry.organizations.models import AgencyStatus
from registry.people.models import Person
from registry.people.operations import protector
from registry.reference.models import Occupation
from tests.conftest import csrf_token_from
from tests import helpers
from tests.helpers import count

resident_id = partial(helpers.resident_id, area="410223", born="19880501")

WELDER = "6-18-02-04"


AGENCY = dict(name="开封测试焊接评价中心", scopes=[(WELDER, None, 5, 3, "2024-01-01", None)])  # the `agency` fixture (tests/conftest.py)


def html_of(response) -> str:
    return response.get_data(as_text=True)


def welder_id() -> int:
    return db.session.scalar(sa.select(Occupation.id).where(Occupation.code == WELDER))


def batch_form(**overrides) -> dict:
    return {"occupation_id": str(welder_id()), "work_type": "", "level": "4", "assessed_on": "2025-05-10",
            "assessed_until": "", "county_code": "410221", "training_class_id": ""} | overrides


def result_form(**overrides) -> dict:
    return {"document_type": "resident_id", "document_number": resident_id(1), "name": "李考生",
            "county_code": "410223", "theory_score": "75", "practical_score": "82.5",
            "remarks": ""} | overrides


def plain_number(person: Person) -> str:
    return protector().decrypt(person.document_cipher)


@pytest.fixture
def staff_client(make_user, login, agency):
    return login(make_user(Role.AGENCY, organization_id=agency.id))


@pytest.fixture
def batch(make_batch, agency):
    return make_batch(agency=agency)


# --- planning batches -------------------------------------------------------------------------------------

def test_agency_plans_a_batch_for_itself(staff_client, agency, make_agency):
    page = html_of(staff_client.get("/assessment/batches/new"))
    assert 'name="agency_id"' not in page and "三级/高级工" in page and "开封测试焊接评价中心 的备案范围" in page
    other = make_agency()
    response = staff_client.post("/assessment/batches/new", data=batch_form(agency_id=str(other.id)))
    batch = db.session.scalar(sa.select(AssessmentBatch))
    assert response.status_code == 302 and response.location.endswith(f"/assessment/batches/{batch.id}")
    assert batch.agency_id == agency.id and batch.status is BatchStatus.PLANNED and batch.level == 4
    audited = sa.select(AuditEvent.action).where(AuditEvent.entity_type == "assessment_batch")
    assert db.session.scalar(audited) == "create"


def test_administrator_chooses_the_agency(make_user, login, agency):
    client = login(make_user(Role.ADMIN))
    assert agency.name in html_of(client.get("/assessment/batches/new"))
    response = client.post("/assessment/batches/new", data=batch_form(agency_id=""))
    assert "评价机构：机构 （空） 不存在" in html_of(response) and count(AssessmentBatch) == 0
    client.post("/assessment/batches/new", data=batch_form(agency_id=str(agency.id)))
    assert db.session.scalar(sa.select(AssessmentBatch.agency_id)) == agency.id


@pytest.mark.parametrize(("overrides", "message"), [
    ({"level": "2"}, "等级：请选择等级"),  # not in the filed scope: not even offered
    ({"level": "9"}, "等级：请选择等级"),
    ({"assessed_on": "2023-12-31"}, "不在本机构 2023-12-31 有效的备案范围内"),
    ({"assessed_on": "2025/05/10"}, "认定日期：日期格式应为 年-月-日"),
    ({"assessed_on": ""}, "认定日期：不能为空"),
    ({"assessed_until": "2025-05-01"}, "结束日期：不能早于认定日期"),
    ({"occupation_id": ""}, "职业：未知的职业 （空）"),
    ({"county_code": ""}, "认定地点：未知或已撤销的县区代码 （空）"),
    ({"training_class_id": "99999"}, "关联培训班：请从列表中选择培训班"),
    ({"training_class_id": "第三期"}, "关联培训班：请从列表中选择培训班"),
])
def test_bad_batch_input_shows_the_reason_and_writes_nothing(staff_client, overrides, message):
    before = count(AuditEvent)
    response = staff_client.post("/assessment/batches/new", data=batch_form(**overrides))
    assert response.status_code == 200 and message in html_of(response)
    assert count(AssessmentBatch) == 0 and count(AuditEvent) == before


def test_a_batch_is_edited_only_while_planned(staff_client, batch, make_person, make_class):
    training_class = make_class()
    response = staff_client.post(f"/assessment/batches/{batch.id}/edit",
                                 data=batch_form(level="3", training_class_id=str(training_class.id)))
    assert response.status_code == 302 and batch.level == 3 and batch.training_class_id == training_class.id
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "update")).one()
    assert event.after == {"level": 3, "training_class_id": training_class.id}
    # The agency may not read the linked class, so its name is shown without a link.
    page = html_of(staff_client.get(f"/assessment/batches/{batch.id}"))
    assert training_class.name in page and f"/training/classes/{training_class.id}" not in page
    record_result(None, batch, make_person(), theory=80, practical=80)
    db.session.commit()
    response = staff_client.get(f"/assessment/batches/{batch.id}/edit", follow_redirects=True)
    assert "只有计划中（尚未录入成绩）的批次可以修改" in html_of(response)


# --- results --------------------------------------------------------------------------------------------

def test_recording_a_result_registers_the_candidate_and_masks_the_number(staff_client, batch):
    response = staff_client.post(f"/assessment/batches/{batch.id}/results", data=result_form())
    assert response.status_code == 302 and response.location.endswith("#results")
    result = db.session.scalars(sa.select(AssessmentResult)).one()
    assert result.is_passed and result.person.name == "李考生" and result.person.county_code == "410223"
    assert batch.status is BatchStatus.RESULTS_ENTERED
    page = html_of(staff_client.get(f"/assessment/batches/{batch.id}"))
    assert "李考生 的成绩已保存（合格）" in page and result.person.document_masked in page
    assert resident_id(1) not in page and "合格" in page and "通过" not in page and "82.50" in page
    actions = db.session.execute(sa.select(AuditEvent.entity_type, AuditEvent.action)).all()
    assert ("person", "create") in actions and ("assessment_result", "create") in actions


def test_submitting_the_same_candidate_again_updates_the_one_result(staff_client, batch):
    staff_client.post(f"/assessment/batches/{batch.id}/results", data=result_form())
    response = staff_client.post(f"/assessment/batches/{batch.id}/results",
                                 data=result_form(theory_score="50", remarks="理论补考"), follow_redirects=True)
    assert "李考生 的成绩已保存（不合格）" in html_of(response)
    result = db.session.scalars(sa.select(AssessmentResult)).one()
    assert not result.is_passed and result.remarks == "理论补考" and count(Person) == 1
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "update")).one()
    assert event.after == {"theory_score": "50.00", "is_passed": False, "remarks": "理论补考"}


@pytest.mark.parametrize(("overrides", "message"), [
    ({"theory_score": "101"}, "理论知识成绩：应在0–100之间，实为 101"),
    ({"practical_score": "八十"}, "操作技能成绩：应为0–100的数字，实为“八十”"),
    ({"theory_score": "", "practical_score": ""}, "理论知识成绩：理论和操作成绩不能都为空"),
    ({"document_number": "410223198805013210"}, "证件号码："),
    ({"document_number": ""}, "证件号码：不能为空"),
    ({"name": ""}, "姓名：不能为空"),
])
def test_bad_result_input_shows_the_reason_and_writes_nothing(staff_client, batch, overrides, message):
    before = count(AuditEvent)
    response = staff_client.post(f"/assessment/batches/{batch.id}/results", data=result_form(**overrides))
    assert response.status_code == 200 and message in html_of(response)
    assert count(AssessmentResult) == 0 and count(Person) == 0 and count(AuditEvent) == before
    assert batch.status is BatchStatus.PLANNED


def test_a_known_number_with_another_name_is_refused(staff_client, batch, make_person):
    person = make_person(name="王已登记")
    response = staff_client.post(f"/assessment/batches/{batch.id}/results",
                                 data=result_form(document_number=plain_number(person), name="王错名"))
    assert "姓名：与该证件号码已登记的姓名不符" in html_of(response) and count(AssessmentResult) == 0


def test_review_score_is_asked_only_for_the_two_highest_levels(staff_client, batch, make_user, login,
                                                               make_agency, make_batch):
    assert 'name="review_score"' not in html_of(staff_client.get(f"/assessment/batches/{batch.id}"))
    technician = make_agency(scopes=[(WELDER, None, 5, 2, "2024-01-01", None)])
    review_batch = make_batch(agency=technician, level=2)
    client = login(make_user(Role.AGENCY, organization_id=technician.id))
    assert 'name="review_score"' in html_of(client.get(f"/assessment/batches/{review_batch.id}"))
    client.post(f"/assessment/batches/{review_batch.id}/results", data=result_form(review_score="59"))
    assert db.session.scalar(sa.select(AssessmentResult.is_passed)) is False


# --- approval and issue ---------------------------------------------------------------------------------

def test_approval_freezes_the_results(staff_client, batch, make_person):
    record_result(None, batch, make_person(), theory=80, practical=80)
    db.session.commit()
    assert "审核成绩" in html_of(staff_client.get(f"/assessment/batches/{batch.id}"))
    response = staff_client.post(f"/assessment/batches/{batch.id}/approve", follow_redirects=True)
    assert "批次已审核" in html_of(response) and batch.status is BatchStatus.APPROVED
    assert db.session.scalar(sa.select(AuditEvent.action).where(AuditEvent.action == "approve")) == "approve"
    assert "保存成绩" not in html_of(response) and "发证…" in html_of(response)
    again = staff_client.post(f"/assessment/batches/{batch.id}/approve", follow_redirects=True)
    assert "只有已录入成绩的批次可以审核" in html_of(again)
    late = staff_client.post(f"/assessment/batches/{batch.id}/results", data=result_form())
    assert "成绩不能再修改" in html_of(late) and count(AssessmentResult) == 1


def test_issue_confirmation_states_the_count_and_issues_exactly_that(staff_client, approved_batch, agency):
    batch = approved_batch(agency=agency, passed=3, failed=2)
    page = html_of(staff_client.get(f"/assessment/batches/{batch.id}/issue"))
    assert "将为 3 名合格人员发证" in page and "确认发证（3 本）" in page and count(Certificate) == 0
    response = staff_client.post(f"/assessment/batches/{batch.id}/issue", follow_redirects=True)
    numbers = db.session.scalars(sa.select(Certificate.number).order_by(Certificate.number)).all()
    db.session.refresh(batch)
    assert len(numbers) == 3 and batch.status is BatchStatus.ISSUED
    # The job runs at once in tests: the issue page it leads to reports the outcome.
    assert f"已发证 3 本，证书编号 {numbers[0]} 至 {numbers[-1]}" in html_of(response)
    html = html_of(staff_client.get(f"/assessment/batches/{batch.id}"))
    assert all(number in html for number in numbers) and "3 / 3 / 3" not in html and "5 / 3 / 3" in html


def test_results_grid_links_a_corrected_certificate_to_its_replacement(staff_client, approved_batch, agency):
    # The replacement has no result row of its own: the holder's row is where people look for it.
    batch = approved_batch(agency=agency, passed=2, failed=0)
    first, second = issue_batch(None, batch)
    revoke_certificate(None, first, "考试作弊")
    replacement = correct_certificate(None, second, "姓名录入错误", name="张娜娜")
    db.session.commit()
    html = html_of(staff_client.get(f"/assessment/batches/{batch.id}"))
    text = re.sub(r"\s+", " ", html)
    assert f"{first.number}</a> （已撤销）" in text
    assert (f'（已被替代，新证书 <a href="/certificates/{replacement.id}">{replacement.number}</a>）' in text
            and "被替代））" not in text)


def test_issue_is_refused_for_a_batch_not_yet_approved(staff_client, batch, make_person):
    record_result(None, batch, make_person(), theory=80, practical=80)
    db.session.commit()
    response = staff_client.get(f"/assessment/batches/{batch.id}/issue", follow_redirects=True)
    assert "只有已审核的批次可以发证" in html_of(response)
    response = staff_client.post(f"/assessment/batches/{batch.id}/issue", follow_redirects=True)
    assert "只有已审核的批次可以发证" in html_of(response) and count(Certificate) == 0


def test_a_suspended_agency_is_flagged_and_cannot_issue(staff_client, approved_batch, agency):
    batch = approved_batch(agency=agency, passed=1, failed=0)
    agency.status = AgencyStatus.SUSPENDED
    db.session.commit()
    assert "（机构暂停，不能发证）" in html_of(staff_client.get("/assessment/batches"))
    assert "备案状态为“暂停”：本批次不能发证" in html_of(staff_client.get(f"/assessment/batches/{batch.id}"))
    response = staff_client.post(f"/assessment/batches/{batch.id}/issue", follow_redirects=True)
    assert "不能发证" in html_of(response) and count(Certificate) == 0


def test_upload_link_appears_only_once_the_upload_page_exists(app, staff_client, batch):
    html = html_of(staff_client.get(f"/assessment/batches/{batch.id}"))
    expected = f"/assessment/batches/{batch.id}/results/import" in html or "导入成绩" in html
    assert expected == ("assessment.import_results" in app.view_functions)


@pytest.mark.csrf
def test_batch_page_forms_carry_csrf_tokens(client, make_user, agency, batch, make_person):
    record_result(None, batch, make_person(), theory=80, practical=80)
    db.session.commit()
    staff = make_user(Role.AGENCY, organization_id=agency.id)
    client.post("/login", data={"username": staff.username, "password": "correct-horse-1",
                                "csrf_token": csrf_token_from(html_of(client.get("/login")))})
    detail = f"/assessment/batches/{batch.id}"
    assert client.post(f"{detail}/results", data=result_form()).status_code == 400
    token = csrf_token_from(html_of(client.get(detail)))
    assert client.post(f"{detail}/results", data=result_form(csrf_token=token)).status_code == 302
    assert client.post(f"{detail}/approve").status_code == 400 and batch.status is BatchStatus.RESULTS_ENTERED
    assert client.post(f"{detail}/approve", data={"csrf_token": token}).status_code == 302
    token = csrf_token_from(html_of(client.get(f"{detail}/issue")))
    assert client.post(f"{detail}/issue", data={"csrf_token": token}).status_code == 302
    assert count(Certificate) == 2


# --- scope by URL ---------------------------------------------------------------------------------------

def batch_urls(batch) -> list[tuple[str, str]]:
    base = f"/assessment/batches/{batch.id}"
    return [("get", base), ("get", f"{base}/edit"), ("post", f"{base}/edit"), ("post", f"{base}/results"),
            ("post", f"{base}/approve"), ("get", f"{base}/issue"), ("post", f"{base}/issue")]


@pytest.fixture
def foreign_batch(approved_batch, make_agency):
    """Another agency's approved batch in 杞县 (410221)."""
    other = make_agency(name="别家评价机构", scopes=[(WELDER, None, 5, 3, "2024-01-01", None)])
    return approved_batch(agency=other, passed=2, failed=0)


def test_another_agency_gets_404_by_url_and_changes_nothing(staff_client, foreign_batch):
    before = count(AuditEvent)
    for method, url in batch_urls(foreign_batch):
        response = getattr(staff_client, method)(url, data=batch_form() | result_form())
        assert response.status_code == 404, url
    assert count(AuditEvent) == before and count(Certificate) == 0
    assert foreign_batch.status is BatchStatus.APPROVED
    assert "别家评价机构" not in html_of(staff_client.get("/assessment/batches"))


def test_county_reads_batches_held_there_but_never_writes(make_user, login, foreign_batch):
    client = login(make_user(Role.COUNTY, county_code="410221"))
    for method, url in batch_urls(foreign_batch):
        response = getattr(client, method)(url)
        assert response.status_code == (200 if url.endswith(f"/batches/{foreign_batch.id}") else 403), url
    html = html_of(client.get(f"/assessment/batches/{foreign_batch.id}"))
    assert "只读" in html and "发证…" not in html and "保存成绩" not in html and "编辑批次" not in html
    assert "新建认定批次" not in html_of(client.get("/assessment/batches"))
    assert client.get("/assessment/batches/new").status_code == 403 and count(Certificate) == 0
    elsewhere = login(make_user(Role.COUNTY, county_code="410222"))
    assert elsewhere.get(f"/assessment/batches/{foreign_batch.id}").status_code == 404
    assert "别家评价机构" not in html_of(elsewhere.get("/assessment/batches"))


def test_institution_reaches_no_assessment_page(make_user, make_institution, login, foreign_batch):
    client = login(make_user(Role.INSTITUTION, organization_id=make_institution().id))
    assert client.get("/assessment/batches").status_code == 403
    for method, url in batch_urls(foreign_batch):
        assert getattr(client, method)(url).status_code == 403, url


def test_navigation_offers_batches_and_certificates(staff_client, make_user, make_institution, login):
    html = html_of(staff_client.get("/dashboard"))
    assert 'href="/assessment/batches"' in html and 'href="/certificates"' in html
    county = html_of(login(make_user(Role.COUNTY)).get("/dashboard"))
    assert 'href="/assessment/batches"' in county and 'href="/certificates"' in county
    school = login(make_user(Role.INSTITUTION, organization_id=make_institution().id))
    institution = html_of(school.get("/dashboard"))
    assert 'href="/assessment/batches"' not in institution and 'href="/certificates"' not in institution


# --- the list and its export ----------------------------------------------------------------------------

@pytest.fixture
def listed(make_batch, approved_batch, agency, foreign_batch):
    """Three batches of the agency (planned 四级, planned 五级 in 尉氏县, approved 三级) and another agency's."""
    return {
        "planned": make_batch(agency=agency, level=4, assessed_on=date(2025, 3, 1)),
        "elsewhere": make_batch(agency=agency, level=5, assessed_on=date(2025, 4, 1), county_code="410223"),
        "approved": approved_batch(agency=agency, level=3, passed=2, failed=1, assessed_on=date(2025, 6, 1)),
        "foreign": foreign_batch,
    }


def test_batch_list_filters_and_sorts(staff_client, listed):
    html = html_of(staff_client.get("/assessment/batches?sort=assessed_on&dir=desc"))
    order = [html.index(f"第 {listed[key].id} 批") for key in ("approved", "elsewhere", "planned")]
    assert order == sorted(order) and f"第 {listed['foreign'].id} 批" not in html
    assert 'name="agency_id"' not in html
    html = html_of(staff_client.get("/assessment/batches?status=planned&level=5"))
    assert f"第 {listed['elsewhere'].id} 批" in html and f"第 {listed['planned'].id} 批" not in html
    html = html_of(staff_client.get("/assessment/batches?county_code=410221&assessed_from=2025-05-01"))
    assert f"第 {listed['approved'].id} 批" in html and f"第 {listed['planned'].id} 批" not in html
    html = html_of(staff_client.get("/assessment/batches?assessed_from=2025/05/01"))
    assert "日期格式应为" in html and f"第 {listed['planned'].id} 批" in html


def test_administrator_filters_by_agency(make_user, login, listed, agency):
    client = login(make_user(Role.ADMIN))
    html = html_of(client.get(f"/assessment/batches?agency_id={listed['foreign'].agency_id}"))
    assert f"第 {listed['foreign'].id} 批" in html and f"第 {listed['planned'].id} 批" not in html


def test_batch_export_holds_exactly_the_filtered_rows_and_is_audited(staff_client, listed):
    response = staff_client.get("/assessment/batches?county_code=410221&sort=level&per_page=1&page=2"
                                "&format=xlsx")
    assert response.status_code == 200 and response.headers["Content-Disposition"].startswith("attachment")
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    header, *body = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert header[0] == "批次编号" and [row[0] for row in body] == [listed["approved"].id, listed["planned"].id]
    approved = dict(zip(header, body[0]))
    assert approved["等级"] == "三级/高级工" and approved["考生人数"] == 3 and approved["合格人数"] == 2
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "export")).one()
    assert event.entity_type == "assessment_list" and event.after["rows"] == 2
    response = staff_client.get("/assessment/batches?format=csv")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert response.mimetype == "text/csv" and len(rows) == 4


def test_no_batch_page_shows_a_plain_document_number(staff_client, listed):
    batch = listed["approved"]
    persons = db.session.scalars(sa.select(Person).join(AssessmentResult).where(
        AssessmentResult.batch_id == batch.id)).all()
    pages = [html_of(staff_client.get(path)) for path in (
        f"/assessment/batches/{batch.id}", f"/assessment/batches/{batch.id}/issue", "/assessment/batches")]
    for person in persons:
        assert person.document_masked in pages[0]
        assert not any(plain_number(person) in page for page in pages)
