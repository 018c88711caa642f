"""Historical certificates: numbers checked per kind, holders registered as needed, whole file or nothing."""
import io
import re
from datetime import date
from functools import partial

import pytest
import sqlalchemy as sa

from registry.core.roles import Role
from registry.certificates.models import Certificate, CertificateKind, CertificateStatus
from registry.certificates.snapshot import snapshot_for
from registry.core import import_jobs
from registry.core.audit import AuditEvent
from registry.core.db import db
from registry.core.import_jobs import ImportJob, JobStatus
from registry.organizations.models import AgencyType
from registry.people.identity import DocumentType
from registry.people.models import Person
from registry.people.operations import register_person
from registry.reference.models import Occupation, SpecialItem
from tests import helpers
from tests.helpers import commit, count, error_rows

HEADER = ["证书种类", "证书编号", "证件类型", "证件号码", "姓名", "所在县区", "职业编码", "职业名称", "等级", "发证日期",
          "发证机构"]
resident_id = partial(helpers.resident_id, area="410225", born="19800101")
xlsx_bytes = partial(helpers.xlsx_bytes, header=HEADER)
ISSUER = "开封市职业技能鉴定中心"


AGENCY = dict(name="开封测试评价中心", site_code="800001", agency_type=AgencyType.SOCIAL)  # the `agency` fixture (tests/conftest.py)


def qualification(number: int, holder: int = 1) -> list:
    return ["职业资格证书", f"15410000000{number:05d}", "居民身份证", resident_id(holder), f"持证{holder}", "杞县",
            "6-18-02-04", "", "三级/高级工", "2015-06-30", ISSUER]


def csv_bytes(rows, header=HEADER) -> bytes:
    return ("\n".join(",".join(str(cell) for cell in row) for row in [header, *rows]) + "\n").encode()


@pytest.fixture
def admin(make_user):
    return make_user(Role.ADMIN)


@pytest.fixture
def upload(client, login, admin):
    login(admin)

    def send(data: bytes, filename: str = "历史证书.csv"):
        response = client.post("/certificates/history", data={"file": (io.BytesIO(data), filename)},
                               content_type="multipart/form-data")
        assert response.status_code == 302, response.get_data(as_text=True)
        job_id = int(re.search(r"/imports/(\d+)", response.headers["Location"]).group(1))
        db.session.expire_all()
        return db.session.get(ImportJob, job_id)

    return send


def every_kind(agency) -> list[list]:
    return [
        ["职业技能等级证书", f"{agency.number_prefix}213000007", "", resident_id(1), "持证1", "杞县", "6-18-02-04", "",
         "", "2021-07-01", agency.name],
        qualification(1),
        ["专项职业能力证书", "zx-2019-0001", "", resident_id(2), "持证2", "兰考县", "", "中式面点制作", "", "2019年5月20日",
         ISSUER],
        ["特种作业操作证", "T4102 2018 001", "", resident_id(3), "持证3", "410222", "", "电工作业", "", "20180301",
         "开封市应急管理局"],
        ["其他证书", "KF-88", "护照", "E12345678", "持证4", "尉氏县", "", "叉车司机", "高级", "2016/3/5", "某企业"],
    ]


def test_every_kind_is_imported_with_its_holder_registered_once(client, upload, agency):
    job = upload(csv_bytes(every_kind(agency)))
    assert job.counts == {"new": 5}, job.message
    assert count(Certificate) == 0
    assert commit(client, job).status is JobStatus.COMMITTED
    certificates = {c.kind: c for c in db.session.scalars(sa.select(Certificate))}
    assert all(c.is_imported and c.status is CertificateStatus.VALID for c in certificates.values())
    skill = certificates[CertificateKind.SKILL_LEVEL]
    assert skill.agency_id == agency.id and skill.level == 3 and skill.snapshot["agency_filing_number"]
    assert skill.occupation_id == db.session.scalar(sa.select(Occupation.id).where(Occupation.code == "6-18-02-04"))
    assert skill.snapshot["occupation_name"] == "焊工" and skill.snapshot["level_label"] == "三级/高级工"
    assert certificates[CertificateKind.QUALIFICATION].level == 3
    assert certificates[CertificateKind.QUALIFICATION].agency_id is None
    assert certificates[CertificateKind.SPECIAL_PROFICIENCY].number == "ZX-2019-0001"
    assert certificates[CertificateKind.SPECIAL_OPERATION].number == "T41022018001"
    assert certificates[CertificateKind.OTHER].level == 3
    assert certificates[CertificateKind.SPECIAL_OPERATION].issued_on == date(2018, 3, 1)
    holders = {person.name: person for person in db.session.scalars(sa.select(Person))}
    assert {name: p.county_code for name, p in holders.items()} == {
        "持证1": "410221", "持证2": "410225", "持证3": "410222", "持证4": "410223"}
    assert skill.person_id == certificates[CertificateKind.QUALIFICATION].person_id == holders["持证1"].id
    assert skill.snapshot["document_cipher"] == holders["持证1"].document_cipher
    assert skill.snapshot["document_masked"] == holders["持证1"].document_masked


def test_the_snapshot_has_the_keys_of_an_issued_certificate(client, upload, agency):
    commit(client, upload(csv_bytes([qualification(1)])))
    certificate = db.session.scalar(sa.select(Certificate))
    issued = snapshot_for(certificate.person, db.session.get(Occupation, certificate.occupation_id), None, 3, agency,
                          date(2025, 1, 1), "X")
    assert certificate.snapshot.keys() == issued.keys()
    assert certificate.snapshot | {"document_cipher": None} == {
        "layout": 2, "gender": "", "agency_credit_code": "",
        "title": "职业资格证书", "number": "1541000000000001", "name": "持证1", "document_type": "居民身份证",
        "document_masked": certificate.person.document_masked, "document_cipher": None, "occupation_name": "焊工",
        "occupation_code": "6-18-02-04", "work_type": "--", "level": 3, "level_label": "三级/高级工",
        "agency_name": ISSUER, "agency_filing_number": "", "issued_on": "2015-06-30",
        "photo_sha256": None}


def test_reupload_skips_what_is_there_and_an_existing_holder_gains_certificates(client, upload, agency):
    data = csv_bytes(every_kind(agency))
    commit(client, upload(data))
    again = upload(data)
    assert again.counts == {"skipped": 5}
    more = upload(csv_bytes([qualification(1), qualification(2)]))
    assert more.counts == {"skipped": 1, "existing": 1}
    commit(client, more)
    assert count(Certificate) == 6 and count(Person) == 4
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "import_history")
                                .order_by(AuditEvent.id)).all()
    assert [event.after | {"sha256": None} for event in events] == [
        {"file": "历史证书.csv", "sha256": None, "new_persons": 4, "certificates": 5, "skipped": 0,
         "errors_skipped": 0},
        {"file": "历史证书.csv", "sha256": None, "new_persons": 0, "certificates": 1, "skipped": 1,
         "errors_skipped": 0}]
    assert events[0].entity_type == "import_job"


def test_a_number_held_by_another_person_is_refused(client, upload):
    commit(client, upload(csv_bytes([qualification(1)])))
    job = upload(csv_bytes([qualification(1, holder=2)]))
    assert error_rows(client, job) == [("2", "证书编号", "职业资格证书 1541000000000001 已登记在另一人名下")]


@pytest.mark.parametrize(("cells", "column", "message"), [
    ({0: "技能证"}, "证书种类", "未知的证书种类：技能证（可填 职业技能等级证书、职业资格证书"),
    ({0: ""}, "证书种类", "不能为空"),
    ({1: ""}, "证书编号", "不能为空"),
    ({1: "154100000000001"}, "证书编号", "154100000000001 格式不正确，职业资格证书编号应为16位数字"),
    ({1: "15410000000000AB"}, "证书编号", "职业资格证书编号应为16位数字"),
    ({0: "职业技能等级证书", 1: "S00004180000121300001", 8: ""}, "证书编号", "应为22位：Y或S加21位数字"),
    ({0: "职业技能等级证书", 1: "X000041800001213000001", 8: ""}, "证书编号", "应为22位：Y或S加21位数字"),
    ({0: "职业技能等级证书", 1: "S000041800001210000001", 8: ""}, "证书编号", "第16位是等级码，应为1–5，实为“0”"),
    ({0: "职业技能等级证书", 1: "S000041800001213000001", 8: "四级"}, "等级",
     "四级/中级工 与证书编号中的等级码 3（三级/高级工）不符"),
    ({0: "其他证书", 1: "A1"}, "证书编号", "应为4–40位字母、数字或连字符"),
    ({0: "专项职业能力证书", 1: "ZX-1", 6: "", 7: "杞县砂锅制作"}, "等级", "专项职业能力证书没有等级，应留空"),
    ({0: "专项职业能力证书", 1: "ZX-2019-0001", 8: ""}, "职业编码", "专项职业能力证书没有职业编码，应留空"),
    ({0: "专项职业能力证书", 1: "ZX-2019-0001", 6: "", 7: "", 8: ""}, "职业名称", "专项职业能力证书须填写项目名称"),
    ({0: "专项职业能力证书", 1: "ZX418107771800001", 6: "", 7: "杞县砂锅制作", 8: ""}, "证书编号",
     "以 ZX41 开头，应为本系统专项职业能力证书编号：18位"),
    ({0: "专项职业能力证书", 1: "ZX4181077717000001", 6: "", 7: "杞县砂锅制作", 8: ""}, "证书编号",
     "第11–12位是发证年份，实为“17”，与发证日期 2015-06-30 不符（应为“15”）"),
    ({8: "0"}, "等级", "等级码 0 不存在：等级只有 1–5"),
    ({8: "0级"}, "等级", "等级码 0级 不存在"),
    ({1: "S000041800001213000001"}, "证书编号", "该编号符合职业技能等级证书的格式，请核对证书种类"),
    ({0: "职业技能等级证书", 1: "1541000000000001", 8: ""}, "证书编号",
     "应为22位：Y或S加21位数字；该编号符合职业资格证书的格式，请核对证书种类"),
    ({8: "特级"}, "等级", "未知的等级：特级"),
    ({6: "6180204"}, "职业编码", "6180204 格式不正确，应为 d-dd-dd-dd"),
    ({6: "9-99-99-99"}, "职业编码", "未知的职业编码：9-99-99-99"),
    ({6: "", 7: ""}, "职业名称", "未填职业编码时不能为空"),
    ({9: "2999-01-01"}, "发证日期", "2999-01-01 晚于今天，不能是将来的日期"),
    ({9: "2019-02-30"}, "发证日期", "日期不存在：2019-02-30"),
    ({9: ""}, "发证日期", "不能为空"),
    ({10: ""}, "发证机构", "不能为空"),
    ({5: ""}, "所在县区", "不能为空"),
    ({5: "朝阳区"}, "所在县区", "未知的县区：朝阳区"),
    ({3: "41022519800101002"}, "证件号码", "身份证号码长度应为18位"),
    ({4: ""}, "姓名", "不能为空"),
])
def test_bad_rows_are_named_with_row_column_and_reason(client, upload, cells, column, message):
    rows = [qualification(1, holder=1), qualification(2, holder=2), qualification(3, holder=3)]
    for index, value in cells.items():
        rows[1][index] = value
    job = upload(csv_bytes(rows))
    assert job.counts == {"new": 2, "error": 1}
    [(row, found_column, found_message)] = error_rows(client, job)
    assert row == "3" and found_column == column and message in found_message, found_message


def test_a_special_certificate_of_a_catalogue_item_is_linked_to_it(client, upload):
    row = ["专项职业能力证书", "ZX4181077719000001", "", resident_id(9), "持证9", "杞县", "", "杞县砂锅制作", "",
           "2019-05-20", ISSUER]
    job = upload(csv_bytes([row, ["专项职业能力证书", "KF-ZX-2019-7", "", resident_id(8), "持证8", "杞县", "",
                                  "木版年画制作", "", "2019-05-20", ISSUER]]))
    assert job.counts == {"new": 2}, job.message
    commit(client, job)
    linked = dict(db.session.execute(sa.select(Certificate.number, Certificate.special_item_id)).all())
    assert linked["ZX4181077719000001"] == db.session.scalar(
        sa.select(SpecialItem.id).where(SpecialItem.name == "杞县砂锅制作"))
    assert linked["KF-ZX-2019-7"] is None, "an item not in the catalogue keeps its printed name only"


def test_a_legacy_number_stored_as_an_excel_number_is_refused(client, upload):
    row = qualification(1)
    row[1] = 1541000000000001
    job = upload(xlsx_bytes([row]), filename="历史证书.xlsx")
    assert error_rows(client, job) == [("2", "证书编号", "被 Excel 存成了数字，末尾几位已丢失；请将该列设为“文本”后重新录入")]


def test_repeats_within_the_file_point_at_the_first_row(client, upload):
    renamed = qualification(2)
    renamed[4] = "别名"
    job = upload(csv_bytes([qualification(1), qualification(1, holder=2), renamed]))
    assert job.counts == {"new": 1, "error": 2}
    assert error_rows(client, job) == [("3", "证书编号", "与第 2 行证书编号重复"),
                                       ("4", "姓名", "与第 2 行同一证件号码的姓名（持*1）不符")]


def test_a_name_unlike_the_registered_one_is_refused(client, upload):
    register_person(None, DocumentType.RESIDENT_ID, resident_id(1), "王五", "410221")
    db.session.commit()
    job = upload(csv_bytes([qualification(1)]))
    assert error_rows(client, job) == [("2", "姓名", "与该证件号码已登记的姓名（王*）不符")]


def test_a_conflict_arising_before_commit_writes_nothing(client, upload):
    job = upload(csv_bytes([qualification(number) for number in range(1, 4)] + [qualification(4, holder=2)]))
    commit(client, upload(csv_bytes([qualification(3, holder=9)])))
    job = commit(client, job)
    assert job.status is JobStatus.CHECKED and "未写入任何数据" in job.message
    assert count(Certificate) == 1 and count(Person) == 1
    assert count(AuditEvent, AuditEvent.action == "import_history") == 1


@pytest.mark.parametrize("role", [Role.COUNTY, Role.AGENCY, Role.INSTITUTION])
def test_only_the_administrator_imports_history(client, login, make_user, make_agency, make_institution, upload,
                                                role):
    job = upload(csv_bytes([qualification(1)]))
    organization = {Role.AGENCY: make_agency, Role.INSTITUTION: make_institution}.get(role)
    login(make_user(role, organization_id=organization().id if organization else None))
    for path in ("/certificates/history", "/certificates/history/template.xlsx"):
        assert client.get(path).status_code == 403
    response = client.post("/certificates/history", data={"file": (io.BytesIO(csv_bytes([qualification(2)])), "h.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 403
    assert client.get(f"/imports/{job.id}").status_code == 404
    assert client.post(f"/imports/{job.id}/commit").status_code == 404
    assert count(Certificate) == 0 and count(ImportJob) == 1


def test_the_importer_itself_refuses_anyone_but_the_administrator(app, make_user, make_agency):
    user = make_user(Role.AGENCY, organization_id=make_agency().id)
    job = import_jobs.create_job(user, "history", None, "h.csv", csv_bytes([qualification(1)]))
    db.session.commit()
    import_jobs.check_job.enqueue(job.id)
    db.session.expire_all()
    assert db.session.get(ImportJob, job.id).status is JobStatus.FAILED


def test_upload_page_and_template_round_trip(client, upload):
    page = client.get("/certificates/history").get_data(as_text=True)
    assert "导入历史证书" in page and "证书文件" in page and "16位数字" in page
    workbook = client.get("/certificates/history/template.xlsx")
    assert workbook.status_code == 200
    # The sample rows sit on the 说明 sheet, which is never imported.
    job = upload(workbook.data, filename="历史证书模板.xlsx")
    assert job.message == "文件中没有数据行"
    assert upload(client.get("/certificates/history/template.csv").data).message == "文件中没有数据行"
    assert "返回" in client.get(f"/imports/{job.id}").get_data(as_text=True)


@pytest.mark.parametrize("role", list(Role))
def test_only_the_administrators_menu_offers_the_history_import(client, login, make_user, make_agency,
                                                                make_institution, role):
    organization = {Role.AGENCY: make_agency, Role.INSTITUTION: make_institution}.get(role)
    user = make_user(role, organization_id=organization().id if organization else None)
    html = login(user).get("/dashboard").get_data(as_text=True)
    assert ('href="/certificates/history"' in html) is (role is Role.ADMIN)


# --- impossible levels and numbers that contradict their row --------------------------------------------------

def test_a_level_the_occupation_does_not_have_is_refused(client, upload, agency):
    from registry.reference.operations import update_occupation

    cook = db.session.scalar(sa.select(Occupation).where(Occupation.code == "4-03-02-01"))
    update_occupation(None, cook, cook.code, cook.name, cook.edition, levels=[5, 4, 3])
    db.session.commit()
    rows = [qualification(1, holder=1), qualification(2, holder=2),
            ["职业技能等级证书", f"{agency.number_prefix}211000007", "", resident_id(3), "持证3", "杞县", "4-03-02-01", "",
             "", "2021-07-01", agency.name]]
    rows[1][6], rows[1][8] = "4-03-02-01", "二级/技师"
    job = upload(csv_bytes(rows))
    assert job.counts == {"new": 1, "error": 2}
    assert [(row, column, message) for row, column, message in error_rows(client, job)] == [
        ("3", "等级", "中式烹调师 没有二级/技师（该职业可认定：五级/初级工、四级/中级工、三级/高级工）"),
        ("4", "证书编号", "第16位等级码 1（一级/高级技师）：中式烹调师 没有该等级（该职业可认定：五级/初级工、四级/中级工、三级/高级工）"),
    ]


def test_a_skills_level_number_of_another_year_than_its_issue_date_is_refused(client, upload, agency):
    rows = [["职业技能等级证书", f"{agency.number_prefix}193000007", "", resident_id(1), "持证1", "杞县", "6-18-02-04", "",
             "", "2021-07-01", agency.name]]
    job = upload(csv_bytes(rows))
    assert error_rows(client, job) == [
        ("2", "证书编号", "第14–15位是发证年份，实为“19”，与发证日期 2021-07-01 不符（应为“21”）")]


def test_a_row_error_names_the_holder_as_the_row_gives_them(client, upload):
    row = qualification(1)
    row[9] = "2015-02-30"
    job = upload(csv_bytes([row]))
    html = client.get(f"/imports/{job.id}?only=error").get_data(as_text=True)
    masked = resident_id(1)[:6] + "********" + resident_id(1)[-4:]
    assert re.search(rf'<tr class="outcome-error"><td>2</td><td>错误</td><td>持\*1 {re.escape(masked)}</td>', html), html
