"""Roster errors a clerk can act on: the person named on each error row, the error rows downloaded to fix
and upload again, the template's sample never imported, and 报名日期 just before the start only a warning."""
import io
import re
from functools import partial

import openpyxl
import pytest

from registry.core.audit import AuditEvent
from registry.core.db import db
from registry.core.import_jobs import ImportJob, JobStatus
from registry.core.roles import Role
from registry.training.models import ClassStatus, Enrollment
from tests import helpers
from tests.helpers import count, resident_id

HEADER = ["证件类型", "证件号码", "姓名", "性别", "所在县区", "手机号码", "重点群体", "入班日期"]
xlsx_bytes = partial(helpers.xlsx_bytes, header=HEADER)
ERROR_ROW = re.compile(r'<tr class="outcome-error"><td>(\d+)</td><td>错误</td><td>([^<]*)</td>\s*'
                       r'<td>([^<]*)</td><td>([^<]*)</td>')


def row(number: int, enrolled_on: str = "2025-03-05", name: str = "") -> list:
    return ["居民身份证", resident_id(number), name or f"学员{number}", "", "杞县", "", "", enrolled_on]


def masked(number: int) -> str:
    return resident_id(number)[:6] + "********" + resident_id(number)[-4:]


@pytest.fixture
def institution_user(make_institution, make_user):
    return make_user(Role.INSTITUTION, organization_id=make_institution().id)


@pytest.fixture
def training_class(make_class, institution_user):
    # starts 2025-03-01, ends 2025-04-30 (tests/conftest.py)
    return make_class(institution=institution_user.institution, status=ClassStatus.RUNNING)


@pytest.fixture
def upload(client, login, institution_user, training_class):
    login(institution_user)

    def send(data: bytes, filename: str = "名单.xlsx"):
        response = client.post(f"/training/classes/{training_class.id}/roster",
                               data={"file": (io.BytesIO(data), filename)}, content_type="multipart/form-data")
        assert response.status_code == 302, response.get_data(as_text=True)
        job_id = int(re.search(r"/imports/(\d+)", response.headers["Location"]).group(1))
        db.session.expire_all()
        return db.session.get(ImportJob, job_id)

    return send


def errors(client, job) -> list[tuple[str, ...]]:
    return ERROR_ROW.findall(client.get(f"/imports/{job.id}?only=error").get_data(as_text=True))


def test_an_error_found_in_a_cell_names_the_person_as_well_as_the_row(client, upload):
    bad_date, bad_check = row(2, "2025-02-30", name="王小明"), row(3, name="李四")
    bad_check[1] = bad_check[1][:-1] + ("0" if bad_check[1][-1] != "0" else "1")
    job = upload(xlsx_bytes([row(1), bad_date, bad_check]))
    found = {number: (person, column) for number, person, column, _reason in errors(client, job)}
    assert found["3"] == (f"王*明 {masked(2)}", "入班日期")
    assert found["4"] == (f"李* {bad_check[1][:6]}********{bad_check[1][-4:]}", "证件号码")


def test_the_error_rows_download_with_their_reason_and_upload_again_once_fixed(client, upload):
    bad = row(2, "2025-06-01")
    job = upload(xlsx_bytes([row(1), bad, row(3)]))
    assert job.counts == {"new": 2, "error": 1}
    page = client.get(f"/imports/{job.id}").get_data(as_text=True)
    assert f'href="/imports/{job.id}/errors.xlsx"' in page and "下载错误行" in page

    response = client.get(f"/imports/{job.id}/errors.xlsx")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    cells = [[cell.value for cell in line] for line in sheet.iter_rows()]
    assert cells[0] == HEADER + ["错误原因"]
    assert len(cells) == 2 and cells[1][:7] == bad[:3] + [None, "杞县", None, None]
    assert cells[1][8].startswith("入班日期：2025-06-01 不在培训班起止日期") and "原第 3 行" in cells[1][8]
    assert count(AuditEvent, AuditEvent.action == "export", AuditEvent.entity_id == str(job.id)) == 1

    cells[1][7] = "2025-03-06"  # the clerk fixes the date the reason names and uploads the file as it is
    fixed = upload(xlsx_bytes(cells[1:], header=cells[0]))
    assert fixed.counts == {"new": 1}, fixed.message
    helpers.commit(client, fixed)
    assert count(Enrollment) == 1


def test_no_error_file_once_nothing_is_wrong_or_the_upload_is_gone(client, upload):
    clean = upload(xlsx_bytes([row(1)]))
    assert "下载错误行" not in client.get(f"/imports/{clean.id}").get_data(as_text=True)
    assert client.get(f"/imports/{clean.id}/errors.xlsx").status_code == 302
    job = upload(xlsx_bytes([row(1), row(2, "2024-01-01")]))
    assert helpers.commit(client, job, skip_errors=True).status is JobStatus.COMMITTED
    assert client.get(f"/imports/{job.id}/errors.xlsx").status_code == 302


def test_another_user_cannot_download_the_error_rows(client, upload, login, make_user, make_institution):
    job = upload(xlsx_bytes([row(1, "2024-01-01")]))
    login(make_user(Role.INSTITUTION, organization_id=make_institution().id))
    assert client.get(f"/imports/{job.id}/errors.xlsx").status_code == 404


def test_the_template_sample_is_on_its_own_sheet_and_a_copied_sample_row_is_refused(client, upload):
    template = client.get("/training/templates/roster.xlsx").data
    workbook = openpyxl.load_workbook(io.BytesIO(template))
    assert workbook.sheetnames[1] == "说明" and workbook.active.max_row == 1
    assert upload(template).message == "文件中没有数据行"
    sample = [cell.value for cell in workbook["说明"][5]]
    job = upload(xlsx_bytes([sample, row(1)]))
    assert errors(client, job) == [("2", f"张* {sample[1][:6]}********{sample[1][-4:]}", "证件号码",
                                   "是模板中的示例号码：请删除示例行（或填写学员本人的证件号码）后再导入")]


def test_an_enrolment_shortly_before_the_start_is_a_warning_and_earlier_an_error(app, client, upload):
    job = upload(xlsx_bytes([row(1, "2025-02-20"), row(2, "2025-01-30"), row(3, "2025-01-29")]))
    assert job.counts == {"new": 2, "error": 1}
    html = client.get(f"/imports/{job.id}").get_data(as_text=True)
    assert "提醒：报名日期 2025-02-20 早于开班日期 2025-03-01 9 天（允许提前 30 天内报名），请核对" in html
    assert [(number, column) for number, _person, column, _reason in errors(client, job)] == [("4", "入班日期")]
    assert "开班前最多可提前 30 天报名" in errors(client, job)[0][3]
    helpers.commit(client, job, skip_errors=True)
    assert count(Enrollment) == 2

    app.config["ENROLLMENT_EARLY_DAYS"] = 5
    narrower = upload(xlsx_bytes([row(4, "2025-02-20")]))
    assert narrower.counts == {"error": 1}


def test_a_completion_for_someone_not_in_the_class_names_them_as_the_row_does(client, login, institution_user,
                                                                               training_class):
    login(institution_user)
    data = helpers.xlsx_bytes([[resident_id(9), "周九", "结业", "2025-04-30", "80"]],
                              ["证件号码", "姓名", "结业状态", "结业日期", "参训学时"])
    response = client.post(f"/training/classes/{training_class.id}/completions",
                           data={"file": (io.BytesIO(data), "结业.xlsx")}, content_type="multipart/form-data")
    job_id = int(re.search(r"/imports/(\d+)", response.headers["Location"]).group(1))
    assert ERROR_ROW.findall(client.get(f"/imports/{job_id}?only=error").get_data(as_text=True)) == [
        ("2", f"周* {masked(9)}", "证件号码", "该人员不在本班名单中")]
