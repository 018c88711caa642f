"""Tests for the training pages: classes, enrolment, completion, lists and their export, and scope by URL."""
import csv
import io
import re
from datetime import date
from functools import partial

import openpyxl
import pytest
import sqlalchemy as sa

from registry.core.roles import Role
from registry.core.audit import AuditEvent
from registry.core.db import db
from registry.people.models import KeyGroup, Person
from registry.reference.models import Occupation
from registry.training.models import ClassStatus, Enrollment, EnrollmentStatus, TrainingClass
from registry.training.operations import enroll_person, record_completion
from tests.conftest import csrf_token_from
from tests import helpers
from tests.helpers import count

resident_id = partial(helpers.resident_id, area="410223", born="19920301")

WELDER = "6-18-02-04"


def audit_count() -> int:
    return count(AuditEvent)


def class_form(**overrides) -> dict:
    welder = db.session.scalar(sa.select(Occupation.id).where(Occupation.code == WELDER))
    return {
        "name": "2025年第2期焊工培训班", "occupation_id": str(welder), "work_type": "", "target_level": "5",
        "training_type": "employment", "program_key": "kaifeng_manufacturing", "is_subsidised": "y",
        "planned_hours": "80", "starts_on": "2025-03-01", "ends_on": "2025-04-30", "county_code": "410221",
    } | overrides


def enrol_form(**overrides) -> dict:
    return {"document_type": "resident_id", "document_number": resident_id(1), "name": "王小红", "gender": "",
            "county_code": "410223", "phone": "", "key_groups": [str(int(KeyGroup.RURAL_LABOUR))],
            "enrolled_on": ""} | overrides


def html_of(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def institution(make_institution):
    return make_institution(name="开封测试技工学校")


@pytest.fixture
def staff(make_user, institution):
    return make_user(Role.INSTITUTION, organization_id=institution.id)


@pytest.fixture
def staff_client(staff, login):
    return login(staff)


@pytest.fixture
def own_class(make_class, institution):
    return make_class(institution, name="本校焊工班", status=ClassStatus.RUNNING)


# --- creating and editing classes -------------------------------------------------------------------------

def test_institution_creates_a_class_for_itself(staff_client, institution, make_institution):
    other = make_institution()
    response = staff_client.post("/training/classes/new", data=class_form(institution_id=str(other.id)))
    training_class = db.session.scalar(sa.select(TrainingClass))
    assert response.status_code == 302 and response.location.endswith(f"/training/classes/{training_class.id}")
    assert training_class.institution_id == institution.id and training_class.is_subsidised
    audited = sa.select(AuditEvent.action).where(AuditEvent.entity_type == "training_class")
    assert db.session.scalar(audited) == "create"
    assert 'name="institution_id"' not in html_of(staff_client.get("/training/classes/new"))


def test_administrator_chooses_the_institution(make_user, login, institution):
    client = login(make_user(Role.ADMIN))
    assert institution.name in html_of(client.get("/training/classes/new"))
    response = client.post("/training/classes/new", data=class_form(institution_id=""))
    assert "培训机构：培训机构 （空） 不存在" in html_of(response) and count(TrainingClass) == 0
    client.post("/training/classes/new", data=class_form(institution_id=str(institution.id)))
    assert db.session.scalar(sa.select(TrainingClass.institution_id)) == institution.id


@pytest.mark.parametrize(("overrides", "message"), [
    ({"ends_on": "2025-02-01"}, "结束日期：不能早于开始日期"),
    ({"planned_hours": "0"}, "计划学时：应大于0"),
    ({"planned_hours": "八十"}, "计划学时：应为整数"),
    ({"starts_on": "2025/13/01"}, "开始日期：日期格式应为 年-月-日"),
    ({"name": ""}, "班级名称：不能为空"),
    ({"occupation_id": ""}, "职业：未知或已停用的职业 （空）"),
    ({"county_code": ""}, "培训地点：未知的县区代码 （空）"),
    ({"training_type": "hobby"}, "培训类型：无效的选项"),
])
def test_bad_class_input_shows_the_reason_and_writes_nothing(staff_client, overrides, message):
    before = audit_count()
    response = staff_client.post("/training/classes/new", data=class_form(**overrides))
    assert response.status_code == 200 and message in html_of(response)
    assert count(TrainingClass) == 0 and audit_count() == before


def test_edit_class_saves_and_a_closed_class_refuses(staff_client, own_class, make_class, institution):
    response = staff_client.post(f"/training/classes/{own_class.id}/edit", data=class_form(name="改过的名称"))
    assert response.status_code == 302 and own_class.name == "改过的名称"
    closed = make_class(institution, status=ClassStatus.CLOSED)
    response = staff_client.get(f"/training/classes/{closed.id}/edit", follow_redirects=True)
    assert "状态：培训班已关闭，不能修改" in html_of(response)
    assert "编辑培训班" not in html_of(response) and "只能查看" in html_of(response)


def test_status_button_moves_the_class_forward(staff_client, make_class, institution):
    training_class = make_class(institution)
    html = html_of(staff_client.get(f"/training/classes/{training_class.id}"))
    assert "改为“进行中”" in html
    response = staff_client.post(f"/training/classes/{training_class.id}/status", data={"status": "running"},
                                 follow_redirects=True)
    assert "培训班状态已改为“进行中”" in html_of(response) and training_class.status is ClassStatus.RUNNING
    response = staff_client.post(f"/training/classes/{training_class.id}/status", data={"status": "planned"},
                                 follow_redirects=True)
    assert "状态：不能从“进行中”改为“计划中”（只能改为“已结束”）" in html_of(response)
    assert training_class.status is ClassStatus.RUNNING


# --- enrolment and completion -----------------------------------------------------------------------------

def test_enrol_one_registers_the_person_and_masks_the_number(staff_client, own_class):
    response = staff_client.post(f"/training/classes/{own_class.id}/enrollments", data=enrol_form())
    assert response.status_code == 302
    person = db.session.scalar(sa.select(Person))
    assert (person.name, person.county_code) == ("王小红", "410223")
    assert person.key_groups == int(KeyGroup.RURAL_LABOUR)
    html = html_of(staff_client.get(response.location))
    assert person.document_masked in html and resident_id(1) not in html
    assert "农村劳动力" in html
    actions = db.session.scalars(sa.select(AuditEvent.entity_type).where(AuditEvent.action == "create")
                                 .order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["person", "enrollment"]


@pytest.mark.parametrize(("overrides", "message"), [
    ({"document_number": "410223199203011230"}, "证件号码：身份证号码校验码不符"),
    ({"document_number": ""}, "证件号码：不能为空"),
    ({"name": ""}, "姓名：不能为空"),
    ({"phone": "12345"}, "手机：应为11位手机号码"),
    ({"enrolled_on": "2025-05-01"}, "报名日期：应在培训班起止日期 2025-03-01 至 2025-04-30 之内"),
    ({"gender": "female"}, "性别：与身份证号码不符（号码为男性）"),
])
def test_bad_enrolment_shows_the_reason_and_writes_nothing(staff_client, own_class, overrides, message):
    before = audit_count()
    response = staff_client.post(f"/training/classes/{own_class.id}/enrollments", data=enrol_form(**overrides))
    assert response.status_code == 200 and message in html_of(response)
    assert count(Person) == 0 and count(Enrollment) == 0 and audit_count() == before


def test_enrolling_the_same_person_twice_is_refused(staff_client, own_class):
    staff_client.post(f"/training/classes/{own_class.id}/enrollments", data=enrol_form())
    response = staff_client.post(f"/training/classes/{own_class.id}/enrollments", data=enrol_form())
    assert "证件号码：该人员已在本班" in html_of(response) and count(Enrollment) == 1


def test_complete_and_drop_one_trainee(staff_client, own_class, make_person):
    enrollment = enroll_person(None, own_class, make_person(name="刘一"), date(2025, 3, 1))
    db.session.commit()
    response = staff_client.post(f"/training/enrollments/{enrollment.id}/complete",
                                 data={"completed_on": "2025-04-30", "attended_hours": "120"},
                                 follow_redirects=True)
    assert "参训学时：120 超过上限 88" in html_of(response) and enrollment.status is EnrollmentStatus.ENROLLED
    response = staff_client.post(f"/training/enrollments/{enrollment.id}/complete",
                                 data={"completed_on": "", "attended_hours": "80"}, follow_redirects=True)
    assert "结业日期：不能为空" in html_of(response)
    response = staff_client.post(f"/training/enrollments/{enrollment.id}/complete",
                                 data={"completed_on": "2025-04-30", "attended_hours": "80"},
                                 follow_redirects=True)
    assert "刘一 已结业" in html_of(response)
    assert (enrollment.status, enrollment.attended_hours) == (EnrollmentStatus.COMPLETED, 80)
    response = staff_client.post(f"/training/enrollments/{enrollment.id}/drop", follow_redirects=True)
    assert "刘一 已标记为退出" in html_of(response) and enrollment.status is EnrollmentStatus.DROPPED


def test_complete_all_from_the_class_page(staff_client, own_class, make_person):
    for _ in range(3):
        enroll_person(None, own_class, make_person(), date(2025, 3, 1))
    db.session.commit()
    before = audit_count()
    response = staff_client.post(f"/training/classes/{own_class.id}/complete-all",
                                 data={"completed_on": "2025-02-01", "attended_hours": "80"},
                                 follow_redirects=True)
    assert "结业日期：培训班尚未开始（开始日期 2025-03-01）" in html_of(response) and audit_count() == before
    response = staff_client.post(f"/training/classes/{own_class.id}/complete-all",
                                 data={"completed_on": "2025-04-30", "attended_hours": "80"},
                                 follow_redirects=True)
    assert "已为 3 名在训学员办理结业" in html_of(response) and audit_count() == before + 3
    assert set(db.session.scalars(sa.select(Enrollment.status))) == {EnrollmentStatus.COMPLETED}


@pytest.mark.csrf
def test_class_page_forms_carry_csrf_tokens(client, staff, own_class, make_person):
    enrollment = enroll_person(None, own_class, make_person(), date(2025, 3, 1))
    db.session.commit()
    client.post("/login", data={"username": staff.username, "password": "correct-horse-1",
                                "csrf_token": csrf_token_from(html_of(client.get("/login")))})
    html = html_of(client.get(f"/training/classes/{own_class.id}"))
    forms = re.findall(r'<form method="post"[^>]*action="([^"]+)"[^>]*>\s*'
                       r'(?:<input type="hidden" name="csrf_token" value="([^"]+)")?', html)
    assert {action for action, _ in forms} >= {
        f"/training/classes/{own_class.id}/status", f"/training/enrollments/{enrollment.id}/complete",
        f"/training/enrollments/{enrollment.id}/drop", f"/training/classes/{own_class.id}/complete-all",
    }
    hand_written = dict(forms)
    drop = f"/training/enrollments/{enrollment.id}/drop"
    assert client.post(drop).status_code == 400 and enrollment.status is EnrollmentStatus.ENROLLED
    assert client.post(drop, data={"csrf_token": hand_written[drop]}).status_code == 302
    assert enrollment.status is EnrollmentStatus.DROPPED
    response = client.post(f"/training/classes/{own_class.id}/enrollments",
                           data=enrol_form(csrf_token=csrf_token_from(html)))
    assert response.status_code == 302 and count(Enrollment) == 2


# --- scope by URL -----------------------------------------------------------------------------------------

def class_urls(training_class, enrollment) -> list[tuple[str, str]]:
    return [
        ("get", f"/training/classes/{training_class.id}"),
        ("get", f"/training/classes/{training_class.id}/edit"),
        ("post", f"/training/classes/{training_class.id}/edit"),
        ("post", f"/training/classes/{training_class.id}/status"),
        ("post", f"/training/classes/{training_class.id}/enrollments"),
        ("post", f"/training/classes/{training_class.id}/complete-all"),
        ("post", f"/training/enrollments/{enrollment.id}/complete"),
        ("post", f"/training/enrollments/{enrollment.id}/drop"),
    ]


@pytest.fixture
def foreign_class(make_class, make_institution, make_person):
    """Another institution's running class in 杞县 with one trainee."""
    training_class = make_class(make_institution(), name="别校焊工班", status=ClassStatus.RUNNING)
    enrollment = enroll_person(None, training_class, make_person(), date(2025, 3, 1))
    db.session.commit()
    return training_class, enrollment


def test_another_institution_gets_404_by_url_and_changes_nothing(staff_client, foreign_class):
    before = audit_count()
    for method, url in class_urls(*foreign_class):
        response = getattr(staff_client, method)(url, data={"status": "finished", "completed_on": "2025-04-30",
                                                            "attended_hours": "80", **enrol_form()})
        assert response.status_code == 404, url
    assert audit_count() == before and foreign_class[1].status is EnrollmentStatus.ENROLLED
    assert "别校焊工班" not in html_of(staff_client.get("/training/classes"))
    assert "别校焊工班" not in html_of(staff_client.get("/training/trainees"))


def test_county_reads_its_classes_but_never_writes(make_user, login, foreign_class):
    client = login(make_user(Role.COUNTY, county_code="410221"))
    for method, url in class_urls(*foreign_class):
        response = getattr(client, method)(url)
        assert response.status_code == (200 if url.endswith(f"/classes/{foreign_class[0].id}") else 403), url
    html = html_of(client.get(f"/training/classes/{foreign_class[0].id}"))
    assert "只读" in html and "登记入班" not in html and "全部结业" not in html
    elsewhere = login(make_user(Role.COUNTY, county_code="410222"))
    assert elsewhere.get(f"/training/classes/{foreign_class[0].id}").status_code == 404


def test_agency_reaches_no_training_page(make_user, make_agency, login, foreign_class):
    client = login(make_user(Role.AGENCY, organization_id=make_agency().id))
    for path in ("/training/classes", "/training/trainees", "/training/classes/new"):
        assert client.get(path).status_code == 403
    for method, url in class_urls(*foreign_class):
        assert getattr(client, method)(url).status_code == 403, url


def test_navigation_offers_the_training_lists(staff_client):
    html = html_of(staff_client.get("/dashboard"))
    assert 'href="/training/classes"' in html and 'href="/training/trainees"' in html


# --- lists and export -------------------------------------------------------------------------------------

@pytest.fixture
def listed(make_class, make_institution, institution, make_person):
    """Three own classes and one of another institution, with trainees."""
    classes = {
        "甲班": make_class(institution, name="甲班", starts_on=date(2025, 1, 1), ends_on=date(2025, 2, 1),
                         status=ClassStatus.RUNNING, is_subsidised=True, program_key="rural_craftsmen"),
        "乙班": make_class(institution, name="乙班", starts_on=date(2025, 3, 1), county_code="410222"),
        "丙班": make_class(institution, name="丙班", starts_on=date(2025, 5, 1), ends_on=date(2025, 6, 1),
                         status=ClassStatus.RUNNING),
        "外班": make_class(make_institution(), name="外班", county_code="410222"),
    }
    rural = make_person(name="农民甲", key_groups=int(KeyGroup.RURAL_LABOUR))
    for name, people in (("甲班", [rural, make_person(name="学员乙")]), ("丙班", [rural]), ("外班", [rural])):
        for person in people:
            enrollment = enroll_person(None, classes[name], person)
            if name == "甲班" and person is rural:
                record_completion(None, enrollment, classes[name].ends_on, 60)
    db.session.commit()
    return classes


def names_in(html: str, candidates) -> list[str]:
    return [name for _, name in sorted((html.index(name), name) for name in candidates if name in html)]


def test_class_list_filters_and_sorts(staff_client, listed):
    def names(query: str) -> list[str]:
        return names_in(html_of(staff_client.get(f"/training/classes?{query}")), listed)

    assert names("") == ["丙班", "乙班", "甲班"]  # newest first
    assert 'class="error"' not in html_of(staff_client.get("/training/classes"))
    assert "无效的选项" in html_of(staff_client.get("/training/classes?status=paused"))
    assert names("status=running") == ["丙班", "甲班"]
    assert names("is_subsidised=1") == ["甲班"] and names("is_subsidised=0") == ["丙班", "乙班"]
    assert names("program_key=rural_craftsmen") == ["甲班"]
    assert names("starts_from=2025-02-01&starts_to=2025-05-01") == ["丙班", "乙班"]
    assert names("sort=enrolments&dir=desc") == ["甲班", "丙班", "乙班"]
    assert names("sort=name&dir=desc") == names_in("".join(sorted(["甲班", "乙班", "丙班"], reverse=True)), listed)
    assert names("county_code=410222") == ["丙班", "乙班", "甲班"]  # not an institution's filter: ignored
    assert names("starts_from=not-a-date") == ["丙班", "乙班", "甲班"]
    assert names("per_page=1&page=2") == ["乙班"]


def test_administrator_filters_by_county_and_institution(make_user, login, listed, institution):
    client = login(make_user(Role.ADMIN))
    html = html_of(client.get("/training/classes?county_code=410222"))
    assert names_in(html, listed) == ["外班", "乙班"]
    html = html_of(client.get(f"/training/classes?institution_id={listed['外班'].institution_id}"))
    assert names_in(html, listed) == ["外班"]


def test_class_export_holds_exactly_the_filtered_rows_of_every_page(staff_client, listed):
    response = staff_client.get("/training/classes?status=running&per_page=1&page=2&format=xlsx")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("编号", "班级名称", "培训机构") and rows[0][-2:] == ("学员人数", "已结业人数")
    assert [row[1] for row in rows[1:]] == ["丙班", "甲班"]  # the page's order: newest first
    first = dict(zip(rows[0], rows[2]))
    assert (first["补贴性培训"], first["专项工程"], first["学员人数"], first["已结业人数"]) == ("是", "乡村工匠", 2, 1)
    assert first["状态"] == "进行中" and first["培训地点"] == "杞县"
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "export")).one()
    assert event.after["rows"] == 2 and event.after["status"] == "running"


def test_class_export_as_csv_opens_in_excel(staff_client, listed):
    response = staff_client.get("/training/classes?sort=name&format=csv")
    assert response.data.startswith(b"\xef\xbb\xbf") and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0][1] == "班级名称" and sorted(row[1] for row in rows[1:]) == sorted(["甲班", "乙班", "丙班"])


def test_trainee_list_filters_within_scope(staff_client, listed):
    def names(query: str) -> list[str]:
        html = html_of(staff_client.get(f"/training/trainees?{query}"))
        return [html.count(name) for name in ("农民甲", "学员乙")]

    assert names("") == [2, 1]  # 农民甲 twice: two classes of this institution (外班 is not)
    assert 'class="error"' not in html_of(staff_client.get("/training/trainees"))
    assert names(f"key_group={int(KeyGroup.RURAL_LABOUR)}") == [2, 0]
    assert names("status=completed") == [1, 0]
    assert names(f"class_id={listed['丙班'].id}") == [1, 0]
    assert names("q=学员") == [0, 1]
    assert names(f"class_id={listed['外班'].id}") == [2, 1]  # not a choice here: ignored


def test_trainee_export_masks_every_document_number(staff_client, listed):
    response = staff_client.get("/training/trainees?sort=name&format=xlsx")
    rows = list(openpyxl.load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    assert header[:3] == ("姓名", "证件类型", "证件号码（脱敏）") and len(body) == 3
    masked = {person.document_masked for person in db.session.scalars(sa.select(Person))}
    assert {row[2] for row in body} <= masked and all("*" in row[2] for row in body)
    by_class = {(row[0], row[7]): dict(zip(header, row)) for row in body}
    assert by_class[("农民甲", "甲班")]["状态"] == "已结业" and by_class[("农民甲", "甲班")]["参训学时"] == 60
    assert by_class[("农民甲", "甲班")]["重点群体"] == "农村劳动力"


def test_upload_links_appear_only_once_the_upload_pages_exist(app, staff_client, own_class):
    html = html_of(staff_client.get(f"/training/classes/{own_class.id}"))
    assert ("/roster" in html) == ("training.import_roster" in app.view_functions)
    assert ("/completions" in html) == ("training.import_completions" in app.view_functions)
