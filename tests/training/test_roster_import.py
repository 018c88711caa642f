"""Roster upload: dry run first, then one all-or-nothing commit; every bad row named with column and reason."""
import codecs
import io
import re
import time
import zipfile
from datetime import date, datetime
from functools import partial
from pathlib import Path

import pytest
import sqlalchemy as sa

from registry.core.roles import Role
from registry.core.audit import AuditEvent
from registry.core.db import db
from registry.core.import_jobs import ImportJob, JobStatus
from registry.people.models import KeyGroup, Person
from registry.training.models import ClassStatus, Enrollment
from registry.training.operations import change_class_status
from tests import helpers
from tests.helpers import count, resident_id

HEADER = ["证件类型", "证件号码", "姓名", "性别", "所在县区", "手机号码", "重点群体", "入班日期"]
xlsx_bytes = partial(helpers.xlsx_bytes, header=HEADER)


def roster_rows(count: int, start: int = 1) -> list[list]:
    return [["居民身份证", resident_id(start + i), f"学员{start + i}", "", "杞县", "", "农村劳动力", "2025-03-05"]
            for i in range(count)]


def csv_bytes(rows, header=HEADER, encoding="utf-8") -> bytes:
    text = "\n".join(",".join(str(cell) for cell in row) for row in [header, *rows]) + "\n"
    return text.encode(encoding)


@pytest.fixture
def institution_user(make_institution, make_user):
    institution = make_institution()
    return make_user(Role.INSTITUTION, organization_id=institution.id)


@pytest.fixture
def training_class(make_class, institution_user):
    return make_class(institution=institution_user.institution, status=ClassStatus.RUNNING)


@pytest.fixture
def upload(client, login, institution_user, training_class):
    """Upload a file as the class's institution; returns the job after its (inline) dry run."""
    login(institution_user)

    def send(data: bytes, filename: str = "roster.csv", kind: str = "roster", class_id: int | None = None):
        response = client.post(f"/training/classes/{class_id or training_class.id}/{kind}",
                               data={"file": (io.BytesIO(data), filename)}, content_type="multipart/form-data")
        assert response.status_code == 302, response.get_data(as_text=True)
        job_id = int(re.search(r"/imports/(\d+)", response.headers["Location"]).group(1))
        db.session.expire_all()
        return db.session.get(ImportJob, job_id)

    return send


def commit(client, job, skip_errors=False):
    data = {"skip_errors": "1"} if skip_errors else {}
    response = client.post(f"/imports/{job.id}/commit", data=data)
    db.session.expire_all()
    return response


def report(client, job, only: str = "") -> str:
    return client.get(f"/imports/{job.id}?only={only}").get_data(as_text=True)


def test_dry_run_reports_every_row_and_writes_nothing(client, upload, make_person, make_class,
                                                      institution_user):
    from registry.training.operations import enroll_person

    # resident_id(1) is taken by this person, a trainee of the same institution: the report may name him.
    enroll_person(None, make_class(institution=institution_user.institution), make_person(name="老学员"))
    db.session.commit()
    rows = roster_rows(3)
    rows[0][2] = "学员1"
    job = upload(csv_bytes(rows))
    assert job.status is JobStatus.CHECKED
    assert job.counts == {"error": 1, "new": 2}
    assert count(Enrollment) == 1 and count(Person) == 1
    html = report(client, job)
    assert "新增" in html and "与该证件号码已登记的姓名（老*员）不符" in html and "学*2" in html
    assert resident_id(2) not in html, "the report must mask document numbers"


def test_commit_writes_all_rows_in_one_go_and_reupload_enrols_nobody_twice(client, upload, training_class):
    data = csv_bytes(roster_rows(25))
    job = upload(data)
    assert commit(client, job).status_code == 302
    assert db.session.get(ImportJob, job.id).status is JobStatus.COMMITTED
    assert count(Enrollment) == 25 and count(Person) == 25
    assert set(db.session.scalars(sa.select(Enrollment.class_county_code))) == {training_class.county_code}
    person = db.session.scalar(sa.select(Person).where(Person.name == "学员7"))
    assert person.groups == KeyGroup.RURAL_LABOUR and person.birth_on == date(1990, 1, 1)
    again = upload(data)
    assert again.counts == {"skipped": 25}
    commit(client, again)
    assert count(Enrollment) == 25
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "import_roster"))
    assert event.after["enrolments"] == 25 and event.after["new_persons"] == 25


def test_pressing_commit_twice_writes_once(client, upload):
    job = upload(csv_bytes(roster_rows(3)))
    commit(client, job)
    response = commit(client, job)
    assert count(Enrollment) == 3
    assert "不会重复写入" in client.get(response.headers["Location"]).get_data(as_text=True)


@pytest.mark.parametrize("encode", [
    lambda rows: csv_bytes(rows, encoding="gbk"),
    lambda rows: codecs.BOM_UTF8 + csv_bytes(rows),
    lambda rows: xlsx_bytes([row[:7] + [datetime(2025, 3, 5)] for row in rows]),
    lambda rows: xlsx_bytes([row[:7] + ["2025年3月5日"] for row in rows]),
], ids=["gbk-csv", "utf8-bom-csv", "xlsx-date-cells", "xlsx-chinese-dates"])
def test_every_accepted_format_gives_the_same_result(client, upload, encode):
    job = upload(encode(roster_rows(4)), filename="名单.xlsx")
    assert job.counts == {"new": 4}, job.message
    commit(client, job)
    dates = set(db.session.scalars(sa.select(Enrollment.enrolled_on)))
    assert dates == {date(2025, 3, 5)}


@pytest.mark.parametrize(("mutate", "column", "message"), [
    (lambda row: row.__setitem__(1, row[1][:-1] + ("0" if row[1][-1] != "0" else "1")), "证件号码", "校验码"),
    (lambda row: row.__setitem__(2, ""), "姓名", "不能为空"),
    (lambda row: row.__setitem__(4, "朝阳区"), "所在县区", "未知的县区：朝阳区"),
    (lambda row: row.__setitem__(6, "外星人"), "重点群体", "未知的重点群体：外星人"),
    (lambda row: row.__setitem__(7, "2025-06-01"), "入班日期", "不在培训班起止日期 2025-03-01 至 2025-04-30 之内"),
    (lambda row: row.__setitem__(7, "2025-02-30"), "入班日期", "日期不存在"),
    (lambda row: row.__setitem__(3, "男"), "性别", "与身份证号码不符"),
    (lambda row: row.__setitem__(0, "驾驶证"), "证件类型", "未知的证件类型：驾驶证"),
])
def test_bad_rows_are_named_with_row_column_and_reason(client, upload, mutate, column, message):
    rows = roster_rows(3)
    mutate(rows[1])
    job = upload(csv_bytes(rows))
    assert job.counts == {"new": 2, "error": 1}
    html = report(client, job, only="error")
    row = re.search(r'<tr class="outcome-error"><td>(\d+)</td><td>错误</td><td>[^<]*</td>\s*<td>([^<]*)</td><td>([^<]*)</td>',
                    html)
    assert row.group(1) == "3" and row.group(2) == column and message in row.group(3), html


def test_duplicate_rows_point_at_the_first(client, upload):
    rows = roster_rows(2) + roster_rows(1)
    job = upload(csv_bytes(rows))
    assert job.counts == {"new": 2, "error": 1}
    assert "与第 2 行是同一人" in report(client, job, only="error")


def test_an_id_stored_as_an_excel_number_is_refused(client, upload):
    rows = roster_rows(1)
    rows[0][1] = 4.10221199001010e17
    job = upload(xlsx_bytes(rows))
    assert "被 Excel 存成了数字" in report(client, job, only="error")


@pytest.mark.parametrize(("data", "message"), [
    (b"", "文件为空"),
    (b"%PDF-1.7 not a roster", "文件不是 Excel (.xlsx) 或 CSV 表格"),
    (csv_bytes([], header=HEADER), "文件中没有数据行"),
    (csv_bytes(roster_rows(1), header=["证件号", "名字"]), "缺少列：姓名"),
])
def test_unusable_files_fail_with_a_message_and_write_nothing(client, upload, data, message):
    job = upload(data)
    assert job.status is JobStatus.FAILED and message in job.message
    assert message in report(client, job)
    assert count(Person) == 0


def test_too_large_a_file_is_refused_naming_the_limit(app, client, upload):
    app.config["IMPORT_MAX_BYTES"] = 1024
    job = upload(csv_bytes(roster_rows(60)))
    assert job.status is JobStatus.FAILED and "文件过大" in job.message and "上限" in job.message


def with_empty_rows(data: bytes, count: int) -> bytes:
    """The workbook with `count` empty rows after its own, streamed in: the shape of issue 19's 1.5 MB file
    that held 180 million of them."""
    source, target = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in source.infolist():
            content = source.read(item)
            if item.filename != "xl/worksheets/sheet1.xml":
                archive.writestr(item, content)
                continue
            head, tail = content.split(b"</sheetData>")
            with archive.open(item.filename, "w") as part:
                part.write(head)
                for _ in range(count // 100_000):
                    part.write(b"<row/>" * 100_000)
                part.write(b"</sheetData>" + tail)
    return target.getvalue()


def test_an_xlsx_bomb_fails_the_job_naming_the_limit_it_broke(client, upload):
    job = upload(with_empty_rows(xlsx_bytes(roster_rows(2)), 5_000_000), filename="roster.xlsx")
    assert job.status is JobStatus.FAILED
    assert job.message.startswith("Excel 文件压缩比异常：xl/worksheets/sheet1.xml 解压后是压缩时的 ")
    assert "疑似恶意构造的文件，已拒绝读取" in report(client, job)
    assert count(Person) == 0


def test_blank_rows_count_towards_the_row_limit(app, upload):
    app.config["IMPORT_MAX_ROWS"] = 10
    job = upload(csv_bytes([*roster_rows(1), *[[""] * 8 for _ in range(1_010)], *roster_rows(1, start=2)]))
    assert job.status is JobStatus.FAILED
    assert job.message == "行数过多：表格超过 1010 行（空行也计算在内；数据行最多 10 行）"


def test_the_files_kept_for_a_job_hold_no_full_id_number(app, client, upload):
    rows = roster_rows(3)
    rows[0][2] = ""  # an error row: its report names the row's number, masked
    job = upload(csv_bytes(rows))
    assert job.counts == {"error": 1, "new": 2}

    def stored() -> bytes:
        folder = Path(app.config["INSTANCE_PATH"]) / "imports" / str(job.id)
        return b"".join(path.read_bytes() for path in folder.iterdir())

    for number in (resident_id(1), resident_id(2), resident_id(3)):
        assert number.encode() not in stored()
    commit(client, job, skip_errors=True)
    assert not (Path(app.config["INSTANCE_PATH"]) / "imports" / str(job.id) / "upload").exists()
    assert "学*2" in report(client, job)
    assert all(number.encode() not in stored() for number in (resident_id(1), resident_id(2), resident_id(3)))


def test_commit_with_errors_needs_explicit_skipping(client, upload):
    rows = roster_rows(3)
    rows[2][2] = ""
    job = upload(csv_bytes(rows))
    commit(client, job)
    assert count(Enrollment) == 0 and db.session.get(ImportJob, job.id).status is JobStatus.CHECKED
    commit(client, job, skip_errors=True)
    assert count(Enrollment) == 2


def test_a_row_that_turns_bad_before_commit_rolls_back_everything(client, upload, training_class, make_person):
    job = upload(csv_bytes(roster_rows(5)))
    make_person(name="抢先登记")  # takes resident_id(1) under another name between dry run and commit
    commit(client, job)
    job = db.session.get(ImportJob, job.id)
    assert job.status is JobStatus.CHECKED and "未写入任何数据" in job.message
    assert count(Enrollment) == 0 and count(Person) == 1


def test_existing_person_keeps_record_and_gains_key_groups(client, upload, make_person):
    person = make_person(name="学员1", key_groups=int(KeyGroup.VETERAN))
    job = upload(csv_bytes(roster_rows(1)))
    assert job.counts == {"new": 1}  # registered, not in this institution's records: a dry run won't say
    commit(client, job)
    assert db.session.get(ImportJob, job.id).counts == {"existing": 1} and count(Person) == 1
    db.session.refresh(person)
    assert person.groups == KeyGroup.VETERAN | KeyGroup.RURAL_LABOUR


def test_another_institution_cannot_upload_or_read_the_report(client, upload, make_institution, make_user, login,
                                                              training_class):
    job = upload(csv_bytes(roster_rows(1)))
    other = make_user(Role.INSTITUTION, organization_id=make_institution().id)
    login(other)
    response = client.post(f"/training/classes/{training_class.id}/roster",
                           data={"file": (io.BytesIO(csv_bytes(roster_rows(1))), "r.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 404
    assert client.get(f"/imports/{job.id}").status_code == 404
    assert client.post(f"/imports/{job.id}/commit").status_code == 404
    assert count(Enrollment) == 0


def test_templates_download_and_round_trip(client, upload):
    for fmt in ("xlsx", "csv"):
        response = client.get(f"/training/templates/roster.{fmt}")
        assert response.status_code == 200
    job = upload(response.data)
    assert job.status is JobStatus.FAILED and "没有数据行" in job.message


def test_completions_are_recorded_from_a_file(client, upload, training_class):
    commit(client, upload(csv_bytes(roster_rows(3))))
    header = ["证件号码", "姓名", "结业状态", "结业日期", "参训学时"]
    rows = [[resident_id(1), "学员1", "结业", "2025-04-30", "80"],
            [resident_id(2), "学员2", "退出", "", ""],
            [resident_id(3), "学员3", "结业", "2025-04-30", "200"],
            [resident_id(9), "学员9", "结业", "2025-04-30", "80"]]
    job = upload(csv_bytes(rows, header=header), kind="completions")
    assert job.counts == {"updated": 2, "error": 2}
    errors = report(client, job, only="error")
    assert "参训学时" in errors and "超过上限 88" in errors and "该人员不在本班名单中" in errors
    commit(client, job, skip_errors=True)
    statuses = dict(db.session.execute(sa.select(Person.name, Enrollment.status).join(Person)).all())
    assert {name: status.value for name, status in statuses.items()} == {
        "学员1": "completed", "学员2": "dropped", "学员3": "enrolled"}


def test_a_queued_job_reports_progress_until_done(client, upload, task_queue):
    job = upload(csv_bytes(roster_rows(50)))
    progress = client.get(f"/imports/{job.id}/progress").get_json()
    assert progress["running"] and progress["status"] == "checking"
    assert task_queue() == 1
    progress = client.get(f"/imports/{job.id}/progress").get_json()
    assert progress["status"] == "checked" and progress["processed"] == 50


def test_report_stays_readable_after_the_class_finished_and_a_new_upload_is_refused(
        client, upload, training_class, institution_user):
    job = upload(csv_bytes(roster_rows(2)))
    commit(client, job)
    change_class_status(institution_user, training_class, ClassStatus.FINISHED)
    db.session.commit()
    response = client.get(f"/imports/{job.id}")
    assert response.status_code == 200 and "导入学员名单" in response.get_data(as_text=True)
    refused = upload(csv_bytes(roster_rows(1, start=5)))
    assert refused.status is JobStatus.FAILED and "培训班已结束" in refused.message
    assert count(Enrollment) == 2


# --- persons outside the institution's scope (issue 19, item 7) -------------------------------------------

@pytest.fixture
def trained_elsewhere(make_person, make_class, make_institution):
    """王晓明, enrolled by another institution only: this institution has no record of him."""
    from registry.training.operations import enroll_person

    person = make_person(name="王晓明")
    enroll_person(None, make_class(institution=make_institution(), status=ClassStatus.RUNNING), person)
    db.session.commit()
    return person


def number_of(person) -> str:
    from registry.people.operations import protector

    return protector().decrypt(person.document_cipher)


def roster_row(number: str, name: str) -> list:
    return ["居民身份证", number, name, "", "杞县", "", "", "2025-03-05"]


def answers(job) -> list[tuple]:
    """What the dry run tells the uploader about each row, but the row's own (masked) number."""
    from registry.core.import_jobs import outcomes_path
    from registry.core.imports import read_outcomes

    outcomes, _total = read_outcomes(outcomes_path(job.id))
    return [(outcome.outcome.value, outcome.message, outcome.column, outcome.subject.split(" ")[0])
            for outcome in outcomes]


@pytest.mark.parametrize("guess", ["张三", "王晓明"], ids=["wrong-name", "right-name"])
def test_a_dry_run_answers_about_someone_outside_the_scope_as_about_an_unknown_number(
        client, upload, trained_elsewhere, guess):
    probe = upload(csv_bytes([roster_row(number_of(trained_elsewhere), guess)]))
    control = upload(csv_bytes([roster_row(resident_id(900), guess)]))
    assert answers(probe) == answers(control)
    assert probe.counts == control.counts == {"new": 1}
    assert "王*明" not in report(client, probe).replace(f"{guess[0]}*{guess[-1]}", "")


def test_each_dry_run_is_audited_with_how_many_numbers_outside_the_scope_it_looked_up(
        client, upload, trained_elsewhere, institution_user, training_class):
    number = number_of(trained_elsewhere)
    upload(csv_bytes([roster_row(number, "张三"), roster_row(resident_id(900), "李四"), ["居民身份证", "1", "坏号"]]))
    [event] = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "check_import")).all()
    assert (event.actor_id, event.entity_type, event.entity_id) == (
        institution_user.id, "training_class", str(training_class.id))
    assert event.after["out_of_scope"] == 2 and event.after["out_of_scope_registered"] == 1
    assert event.after["rows"] == 3 and event.after["kind"] == "roster"
    assert number not in str(event.after) and resident_id(900) not in str(event.after)


def test_numbers_outside_the_scope_are_rate_limited_per_user(
        app, client, upload, login, make_user, make_class, institution_user, training_class):
    app.config["PERSON_LOOKUP_LIMITS"] = "3/hour"
    assert upload(csv_bytes(roster_rows(2))).counts == {"new": 2}
    refused = upload(csv_bytes(roster_rows(2, start=10)))
    assert refused.counts == {"error": 2}
    assert {answer[1] for answer in answers(refused)} == {
        "查询过于频繁：本账号查询本单位记录以外的证件号码已超过上限（每小时 3 个），请稍后再试"}
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "check_import")
                               .order_by(AuditEvent.id.desc())).first()
    assert event.after["refused"] == 2
    # Another user of the same institution has a budget of their own.
    colleague = make_user(Role.INSTITUTION, organization_id=institution_user.institution_id)
    login(colleague)
    response = client.post(f"/training/classes/{training_class.id}/roster",
                           data={"file": (io.BytesIO(csv_bytes(roster_rows(2, start=10))), "r.csv")},
                           content_type="multipart/form-data")
    job = db.session.get(ImportJob, int(re.search(r"/imports/(\d+)", response.headers["Location"]).group(1)))
    assert job.counts == {"new": 2}


def test_the_commit_enrols_the_registered_person_when_the_name_matches(client, upload, trained_elsewhere):
    job = upload(csv_bytes([roster_row(number_of(trained_elsewhere), "王晓明")]))
    assert commit(client, job).status_code == 302
    job = db.session.get(ImportJob, job.id)
    assert job.status is JobStatus.COMMITTED and job.counts == {"existing": 1}
    assert count(Person) == 1 and count(Enrollment) == 2


def test_the_commit_refuses_a_different_name_without_telling_the_registered_one(client, upload,
                                                                                trained_elsewhere):
    job = upload(csv_bytes([roster_row(number_of(trained_elsewhere), "张三")]))
    commit(client, job)
    job = db.session.get(ImportJob, job.id)
    assert job.status is JobStatus.CHECKED and "未写入任何数据" in job.message
    assert answers(job) == [("error", "与该证件号码已登记的姓名不符，请核对证件号码和姓名", "姓名", "张*")]
    assert count(Person) == 1 and count(Enrollment) == 1
