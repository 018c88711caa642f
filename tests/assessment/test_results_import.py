"""Results upload: the roster's dry run → commit flow with scores; one result per person per batch, ever."""
import codecs
import io
import re
from decimal import Decimal
from functools import partial

import pytest
import sqlalchemy as sa

from registry.core.roles import Role
from registry.assessment.models import AssessmentResult, BatchStatus
from registry.assessment.operations import approve_batch, record_result
from registry.core.audit import AuditEvent
from registry.core.db import db
from registry.core.errors import InvalidInput
from registry.core.import_jobs import ImportJob, JobStatus
from registry.people.identity import DocumentType
from registry.people.models import Person
from registry.people.operations import register_person
from tests import helpers
from tests.helpers import commit, count, error_rows

HEADER = ["证件类型", "证件号码", "姓名", "所在县区", "理论知识成绩", "操作技能成绩", "综合评审成绩", "备注"]
resident_id = partial(helpers.resident_id, area="410224", born="19850101")
xlsx_bytes = partial(helpers.xlsx_bytes, header=HEADER)


AGENCY = dict(scopes=[("6-18-02-04", None, 5, 1, "2024-01-01", None)])  # the `agency` fixture (tests/conftest.py)


def result_rows(count: int, theory="85", practical="70") -> list[list]:
    return [["居民身份证", resident_id(i), f"考生{i}", "", theory, practical, "", ""] for i in range(1, count + 1)]


def csv_bytes(rows, header=HEADER, encoding="utf-8") -> bytes:
    text = "\n".join(",".join(str(cell) for cell in row) for row in [header, *rows]) + "\n"
    return text.encode(encoding)


@pytest.fixture
def agency_user(make_user, agency):
    return make_user(Role.AGENCY, organization_id=agency.id)


@pytest.fixture
def batch(make_batch, agency):
    return make_batch(agency=agency, level=4)


@pytest.fixture
def upload(client, login, agency_user, batch):
    """Upload as the batch's agency; returns the job after its (inline) dry run."""
    login(agency_user)

    def send(data: bytes, filename: str = "成绩.csv", batch_id: int | None = None):
        response = client.post(f"/assessment/batches/{batch_id or batch.id}/results/upload",
                               data={"file": (io.BytesIO(data), filename)}, content_type="multipart/form-data")
        assert response.status_code == 302, response.get_data(as_text=True)
        job_id = int(re.search(r"/imports/(\d+)", response.headers["Location"]).group(1))
        db.session.expire_all()
        return db.session.get(ImportJob, job_id)

    return send


def results_by_name() -> dict[str, AssessmentResult]:
    rows = db.session.execute(sa.select(Person.name, AssessmentResult).join(Person))
    return {name: result for name, result in rows}


def test_dry_run_reports_every_row_and_writes_nothing(client, upload, batch, make_person, make_batch, agency):
    known = make_person(name="老考生")
    # Assessed by this agency before: in its records, so the dry run may say it knows him.
    record_result(None, make_batch(agency=agency), known, theory=50, practical=50)
    db.session.commit()
    rows = result_rows(2) + [["居民身份证", resident_id(3), "考生3", "", "40", "90", "", "缺考补测"]]
    job = upload(csv_bytes(rows + [["居民身份证", _number_of(known), "老考生", "", "60", "60", "", ""]]))
    assert job.status is JobStatus.CHECKED and job.counts == {"new": 3, "existing": 1}
    html = client.get(f"/imports/{job.id}").get_data(as_text=True)
    assert "新登记人员，录入成绩（合格）" in html and "（不合格）" in html and "考*3" in html
    assert resident_id(3) not in html, "the report must mask document numbers"
    assert count(AssessmentResult, AssessmentResult.batch_id == batch.id) == 0 and count(Person) == 1
    assert db.session.get(type(batch), batch.id).status is BatchStatus.PLANNED


def _number_of(person: Person) -> str:
    from registry.people.operations import protector

    return protector().decrypt(person.document_cipher)


def test_commit_registers_candidates_and_records_results_once(client, upload, batch):
    job = commit(client, upload(csv_bytes(result_rows(3) + [["", resident_id(4), "考生4", "兰考县", "59", "99",
                                                               "", "理论未过"]])))
    assert job.status is JobStatus.COMMITTED, job.message
    results = results_by_name()
    assert [results[f"考生{i}"].is_passed for i in range(1, 5)] == [True, True, True, False]
    assert results["考生4"].theory_score == Decimal("59") and results["考生4"].remarks == "理论未过"
    counties = dict(db.session.execute(sa.select(Person.name, Person.county_code)).all())
    assert counties == {"考生1": "410221", "考生2": "410221", "考生3": "410221", "考生4": "410225"}
    db.session.refresh(batch)
    assert batch.status is BatchStatus.RESULTS_ENTERED
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "import_results")).all()
    assert len(events) == 1 and events[0].entity_id == str(batch.id)
    assert events[0].after | {"sha256": None} == {
        "file": "成绩.csv", "sha256": None, "new_persons": 4, "created": 4, "updated": 0, "skipped": 0,
        "errors_skipped": 0, "out_of_scope": 4, "out_of_scope_registered": 0, "refused": 0}


def test_reupload_updates_changed_scores_skips_the_rest_and_never_duplicates(client, upload, batch):
    commit(client, upload(csv_bytes(result_rows(3))))
    again = upload(csv_bytes(result_rows(3)))
    assert again.counts == {"skipped": 3}
    rows = result_rows(3)
    rows[1][4], rows[2][7] = "50", "复核"
    changed = upload(csv_bytes(rows))
    assert changed.counts == {"skipped": 1, "updated": 2}
    assert "更新：理论 85.00 → 50.00（不合格）" in client.get(f"/imports/{changed.id}").get_data(as_text=True)
    assert commit(client, changed).status is JobStatus.COMMITTED
    assert count(AssessmentResult) == 3 and count(Person) == 3
    results = results_by_name()
    assert not results["考生2"].is_passed and results["考生3"].remarks == "复核"
    updates = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.entity_type == "assessment_result",
                                                             AuditEvent.action == "update")).all()
    assert [event.after for event in updates] == [{"theory_score": "50.00", "is_passed": False},
                                                  {"remarks": "复核"}]
    last = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "import_results")
                              .order_by(AuditEvent.id.desc())).first()
    assert last.after["updated"] == 2 and last.after["created"] == 0 and last.after["skipped"] == 1


@pytest.mark.parametrize("encode", [
    lambda rows: csv_bytes(rows, encoding="gb18030"),
    lambda rows: codecs.BOM_UTF8 + csv_bytes(rows),
    lambda rows: xlsx_bytes([row[:4] + [85, 70.5] + row[6:] for row in rows]),
], ids=["gbk-csv", "utf8-bom-csv", "xlsx-number-cells"])
def test_every_accepted_format_gives_the_same_result(client, upload, encode):
    job = commit(client, upload(encode(result_rows(3)), filename="成绩.xlsx"))
    assert job.status is JobStatus.COMMITTED and job.counts == {"new": 3}, job.message
    assert all(result.is_passed for result in results_by_name().values())


@pytest.mark.parametrize(("cells", "column", "message"), [
    ({4: "101"}, "理论知识成绩", "应在0–100之间，实为 101"),
    ({5: "-1"}, "操作技能成绩", "应在0–100之间"),
    ({4: "八十五"}, "理论知识成绩", "应为0–100的数字，实为“八十五”"),
    ({4: "", 5: ""}, "理论知识成绩", "理论和操作成绩不能都为空"),
    ({6: "80"}, "综合评审成绩", "仅二级/技师和一级/高级技师有综合评审"),
    ({3: "朝阳区"}, "所在县区", "未知的县区：朝阳区"),
    ({1: resident_id(2)[:-1] + ("0" if resident_id(2)[-1] != "0" else "1")}, "证件号码", "校验码"),
    ({2: ""}, "姓名", "不能为空"),
    ({0: "驾驶证"}, "证件类型", "未知的证件类型：驾驶证"),
    ({7: "长" * 201}, "备注", "最多200个字符"),
])
def test_bad_rows_are_named_with_row_column_and_reason(client, upload, cells, column, message):
    rows = result_rows(3)
    for index, value in cells.items():
        rows[1][index] = value
    job = upload(csv_bytes(rows))
    assert job.counts == {"new": 2, "error": 1}
    [(row, found_column, found_message)] = error_rows(client, job)
    assert row == "3" and found_column == column and message in found_message


def test_the_same_person_twice_is_an_error_on_the_later_row(client, upload):
    job = upload(csv_bytes(result_rows(2) + [result_rows(1)[0]]))
    assert job.counts == {"new": 2, "error": 1}
    assert error_rows(client, job) == [("4", "证件号码", "与第 2 行是同一人（证件号码重复）")]


def test_a_name_unlike_the_registered_one_is_refused(client, upload, app, make_batch, agency):
    # 王五 is one of this agency's candidates already: the dry run may name him, masked.
    person = register_person(None, DocumentType.RESIDENT_ID, resident_id(1), "王五", "410221")
    record_result(None, make_batch(agency=agency), person, theory=50, practical=50)
    db.session.commit()
    job = upload(csv_bytes(result_rows(1)))
    assert error_rows(client, job) == [("2", "姓名", "与该证件号码已登记的姓名（王*）不符")]


def test_someone_outside_the_agencys_records_is_answered_like_an_unknown_number(client, upload):
    """王五 was never this agency's candidate: the dry run neither names him nor confirms a guess; the commit
    refuses the wrong name without telling the registered one."""
    register_person(None, DocumentType.RESIDENT_ID, resident_id(1), "王五", "410221")
    db.session.commit()
    probe = upload(csv_bytes(result_rows(1)))
    control = upload(csv_bytes([["居民身份证", resident_id(50), "考生1", "", "85", "70", "", ""]]))
    assert probe.counts == control.counts == {"new": 1}
    assert error_rows(client, probe) == []
    assert "王*" not in client.get(f"/imports/{probe.id}").get_data(as_text=True)
    job = commit(client, probe)
    assert job.status is JobStatus.CHECKED and "未写入任何数据" in job.message
    assert error_rows(client, job) == [("2", "姓名", "与该证件号码已登记的姓名不符，请核对证件号码和姓名")]


def test_an_approved_batch_refuses_the_whole_upload(client, upload, batch, make_person):
    record_result(None, batch, make_person(), theory=90, practical=90)
    approve_batch(None, batch)
    db.session.commit()
    page = client.get(f"/assessment/batches/{batch.id}/results/upload").get_data(as_text=True)
    assert "批次已审核，成绩不能修改" in page
    job = upload(csv_bytes(result_rows(2)))
    assert job.status is JobStatus.FAILED and job.message == "批次已审核，成绩不能修改"
    assert "批次已审核，成绩不能修改" in client.get(f"/imports/{job.id}").get_data(as_text=True)
    assert count(AssessmentResult) == 1 and count(Person) == 1


def test_approval_between_dry_run_and_commit_writes_nothing(client, upload, batch, make_person):
    job = upload(csv_bytes(result_rows(3)))
    record_result(None, batch, make_person(), theory=90, practical=90)
    approve_batch(None, batch)
    db.session.commit()
    job = commit(client, job)
    assert job.status is JobStatus.FAILED and "批次已审核，成绩不能修改" in job.message
    assert count(AssessmentResult) == 1 and count(Person) == 1
    assert count(AuditEvent, AuditEvent.action == "import_results") == 0


def test_a_row_that_turns_bad_before_commit_rolls_back_everything(client, upload):
    job = upload(csv_bytes(result_rows(4)))
    register_person(None, DocumentType.RESIDENT_ID, resident_id(3), "抢先登记", "410221")
    db.session.commit()
    job = commit(client, job)
    assert job.status is JobStatus.CHECKED and "未写入任何数据" in job.message
    assert count(AssessmentResult) == 0 and count(Person) == 1


def test_levels_two_and_one_need_the_review_column_and_score(client, upload, make_batch, agency):
    technician = make_batch(agency=agency, level=2)
    job = upload(csv_bytes([row[:6] for row in result_rows(1)], header=HEADER[:6]), batch_id=technician.id)
    assert job.status is JobStatus.FAILED and "缺少列：综合评审成绩" in job.message
    rows = result_rows(3)
    rows[0][6], rows[2][6] = "75", "50"
    job = upload(csv_bytes(rows), batch_id=technician.id)
    # A blank review score is a missing score, never a silent 不合格.
    assert job.counts == {"new": 2, "error": 1}
    assert error_rows(client, job) == [("3", "综合评审成绩", "二级、一级必须填写综合评审成绩")]
    rows[1][6] = "80"
    commit(client, upload(csv_bytes(rows), batch_id=technician.id))
    results = results_by_name()
    assert results["考生1"].is_passed and results["考生1"].review_score == Decimal("75")
    assert results["考生2"].is_passed and not results["考生3"].is_passed


def test_the_pass_mark_comes_from_the_configuration(app, client, upload):
    app.config["ASSESSMENT_PASS_MARK"] = 80
    commit(client, upload(csv_bytes(result_rows(1, theory="85", practical="79.5"))))
    assert not results_by_name()["考生1"].is_passed


def test_another_agency_gets_404_and_other_roles_403(client, upload, login, make_agency, make_institution, make_user,
                                                     batch):
    job = upload(csv_bytes(result_rows(1)))
    path = f"/assessment/batches/{batch.id}/results/upload"
    stranger = make_user(Role.AGENCY, organization_id=make_agency().id)
    for user, status in [(stranger, 404), (make_user(Role.COUNTY, county_code="410221"), 403),
                         (make_user(Role.INSTITUTION, organization_id=make_institution().id), 403)]:
        login(user)
        assert client.get(path).status_code == status
        response = client.post(path, data={"file": (io.BytesIO(csv_bytes(result_rows(1))), "r.csv")},
                               content_type="multipart/form-data")
        assert response.status_code == status
    login(stranger)
    assert client.get(f"/imports/{job.id}").status_code == 404
    assert client.post(f"/imports/{job.id}/commit").status_code == 404
    assert count(AssessmentResult) == 0 and count(ImportJob) == 1


def test_upload_page_links_back_and_template_round_trips(client, upload, batch):
    page = client.get(f"/assessment/batches/{batch.id}/results/upload").get_data(as_text=True)
    assert f"/assessment/batches/{batch.id}" in page and "合格线：每项成绩不低于 60 分" in page
    workbook = client.get("/assessment/templates/results.xlsx")
    assert workbook.status_code == 200
    # The sample row sits on the 说明 sheet, which is never imported.
    assert upload(workbook.data, filename="认定成绩模板.xlsx").message == "文件中没有数据行"
    blank = client.get("/assessment/templates/results.csv").data
    assert upload(blank).message == "文件中没有数据行"
    assert client.get("/assessment/templates/results.pdf").status_code == 404


# --- cross-checks with the batch ----------------------------------------------------------------------------

CHECKED_HEADER = HEADER + ["等级", "职业", "认定县区", "籍贯"]


@pytest.mark.parametrize(("extra", "column", "message"), [
    (["三级", "焊工", "杞县", ""], "等级", "文件中为“三级”，与本批次的等级“四级/中级工”不一致"),
    (["4", "电工", "杞县", ""], "职业", "文件中为“电工”，与本批次的职业“焊工（6-18-02-04）”不一致"),
    (["四级/中级工", "6-18-02-04", "兰考县", ""], "认定县区", "文件中为“兰考县”，与本批次的认定县区“杞县”不一致"),
])
def test_a_level_occupation_or_place_column_must_agree_with_the_batch(client, upload, extra, column, message):
    rows = [row + ["四级", "焊工", "杞县", "开封"] for row in result_rows(3)]
    rows[1][8:] = extra
    job = upload(csv_bytes(rows, header=CHECKED_HEADER))
    assert job.counts == {"new": 2, "error": 1}
    assert error_rows(client, job) == [("3", column, message)]


def test_a_mixed_level_file_is_refused_row_by_row_and_writes_nothing(client, upload):
    rows = [row + [f"{index % 5 + 1}级", "", "", ""] for index, row in enumerate(result_rows(10))]
    job = commit(client, upload(csv_bytes(rows, header=CHECKED_HEADER)))
    assert job.status is JobStatus.CHECKED and job.counts == {"new": 2, "error": 8}
    assert count(AssessmentResult) == 0 and count(Person) == 0


def test_the_dry_run_names_the_columns_read_and_those_ignored(client, upload):
    rows = [row + ["四级", "焊工", "杞县", "开封"] for row in result_rows(1)]
    job = upload(csv_bytes(rows, header=CHECKED_HEADER))
    html = client.get(f"/imports/{job.id}").get_data(as_text=True)
    assert ("读取的列：证件类型、证件号码、姓名、所在县区、理论知识成绩、操作技能成绩、综合评审成绩、备注、等级、职业、认定县区"
            in html)
    assert "未使用的列</strong>（其内容不会导入，也不会被核对）：籍贯" in html


# --- no double award ----------------------------------------------------------------------------------------

REPEAT_HEADER = HEADER + ["重复认定原因"]


def test_passing_the_same_persons_into_a_second_batch_needs_an_audited_reason(client, upload, batch, make_batch,
                                                                             agency):
    assert commit(client, upload(csv_bytes(result_rows(3)))).status is JobStatus.COMMITTED
    second = make_batch(agency=agency, level=4)
    job = upload(csv_bytes(result_rows(3)), batch_id=second.id)
    assert job.counts == {"error": 3}, "the dry run flags every repeat"
    assert error_rows(client, job)[0] == (
        "2", "重复认定原因", f"已在第 {batch.id} 批同职业同等级认定合格（待发证），不能再次录入合格成绩（不得重复发证）；"
        "补考、换证请另行办理，确需重复认定请在“重复认定原因”列填写原因")
    rows = [row + [""] for row in result_rows(3)]
    rows[0][8] = "原批次考场违纪，经市人社局批准重新认定"
    rows[1][4] = "40"  # 不合格: no award, no reason needed
    rows[2][8] = ""
    job = upload(csv_bytes(rows, header=REPEAT_HEADER), batch_id=second.id)
    assert job.counts == {"existing": 2, "error": 1}
    assert [row[0] for row in error_rows(client, job)] == ["4"]
    html = client.get(f"/imports/{job.id}").get_data(as_text=True)
    assert "重复认定：原批次考场违纪，经市人社局批准重新认定" in html
    assert commit(client, job, skip_errors=True).status is JobStatus.COMMITTED
    repeated = db.session.scalars(sa.select(AssessmentResult).where(AssessmentResult.batch_id == second.id,
                                                                    AssessmentResult.is_passed)).all()
    assert [result.repeat_reason for result in repeated] == ["原批次考场违纪，经市人社局批准重新认定"]
    [event] = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "allow_repeat_award")).all()
    assert event.after["reason"] == "原批次考场违纪，经市人社局批准重新认定" and f"第 {batch.id} 批" in event.after["prior"]
    # Another level is another award.
    other_level = make_batch(agency=agency, level=3)
    assert upload(csv_bytes(result_rows(3)), batch_id=other_level.id).counts == {"existing": 3}


def test_a_single_result_for_a_holder_is_refused_without_a_reason(batch, make_batch, make_person, agency):
    person = make_person()
    record_result(None, batch, person, theory=80, practical=80)
    second = make_batch(agency=agency, level=4)
    with pytest.raises(InvalidInput, match="重复认定原因：已在第 .* 批同职业同等级认定合格"):
        record_result(None, second, person, theory=80, practical=80)
    assert not record_result(None, second, person, theory=40, practical=80).is_passed  # 补考 of a fail is fine
    db.session.rollback()


def test_a_row_error_names_the_person_as_the_row_gives_them(client, upload):
    rows = result_rows(2)
    rows[1][4] = "101"
    job = upload(csv_bytes(rows))
    html = client.get(f"/imports/{job.id}?only=error").get_data(as_text=True)
    masked = resident_id(2)[:6] + "********" + resident_id(2)[-4:]
    assert re.search(rf'<tr class="outcome-error"><td>3</td><td>错误</td><td>考\*2 {re.escape(masked)}</td>', html), html
