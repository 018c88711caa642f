"""专项职业能力证书 issued in the app: the item catalogue, agencies filed for items, batches without a level,
results, issuing by the same job with the registry's own number rule, and the item on the PDF and verify page."""
import re
from datetime import date

import pytest
import sqlalchemy as sa

from registry.assessment.models import AssessmentBatch, BatchStatus
from registry.assessment.operations import approve_batch, record_result
from registry.assessment.special_batches import create_special_batch
from registry.certificates import issue_jobs
from registry.certificates.models import Certificate, CertificateKind
from registry.certificates.numbering import SPECIAL_NUMBER
from registry.certificates.rendering import render
from registry.core.audit import AuditEvent
from registry.core.db import db
from registry.core.errors import InvalidInput
from registry.core.roles import Role
from registry.organizations.special_filing import file_special_item, withdraw_special_item
from registry.reference.models import SpecialItem
from registry.reference.seeding import SEED_DIR, read_rows
from tests.certificates.test_pdf import pdf_text
from tests.helpers import count


def item(code: str = "KF-ZX-002") -> SpecialItem:
    return db.session.scalar(sa.select(SpecialItem).where(SpecialItem.code == code))


@pytest.fixture
def filed_agency(make_agency):
    agency = make_agency(site_code="810777")
    file_special_item(None, agency, item().id, date(2024, 1, 1))
    db.session.commit()
    return agency


def special_batch(agency, passed: int, failed: int, make_person, item_code: str = "KF-ZX-002") -> AssessmentBatch:
    batch = create_special_batch(None, agency_id=agency.id, special_item_id=item(item_code).id,
                                 assessed_on=date(2025, 5, 10), county_code="410221")
    for index in range(passed + failed):
        score = 80 if index < passed else 30
        record_result(None, batch, make_person(), theory=score, practical=score)
    approve_batch(None, batch)
    db.session.commit()
    return batch


def test_the_catalogue_is_seeded_as_a_labelled_example_set(app):
    rows = read_rows(SEED_DIR / "special_items.csv")
    assert {row["name_zh"] for row in rows} >= {"汴绣制作", "杞县砂锅制作", "通许烧鸡制作"}
    assert all(row["source"].startswith("示例项目") for row in rows), "no official list: every row says so"
    assert item().name == "杞县砂锅制作" and item().source.startswith("示例项目")


def test_an_agency_assesses_only_items_it_is_filed_for(make_agency, make_person):
    agency = make_agency()
    with pytest.raises(InvalidInput, match="未备案“杞县砂锅制作”"):
        create_special_batch(None, agency_id=agency.id, special_item_id=item().id, assessed_on=date(2025, 5, 10),
                             county_code="410221")
    file_special_item(None, agency, item().id, date(2024, 1, 1))
    with pytest.raises(InvalidInput, match="已备案"):
        file_special_item(None, agency, item().id, date(2024, 1, 1))
    db.session.commit()
    batch = create_special_batch(None, agency_id=agency.id, special_item_id=item().id,
                                 assessed_on=date(2025, 5, 10), county_code="410221")
    assert (batch.level, batch.occupation_id, batch.level_label) == (None, None, "不分等级")
    audited = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "file_special_item"))
    assert audited.after["special_item"] == "KF-ZX-002"


def test_a_batch_cannot_be_both_or_neither(make_agency, filed_agency):
    db.session.add(AssessmentBatch(agency_id=filed_agency.id, special_item_id=item().id, occupation_id=None,
                                   level=3, assessed_on=date(2025, 5, 10), county_code="410221"))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_issuing_runs_the_issue_job_with_the_special_number_rule(client, login, make_user, filed_agency,
                                                                make_person, task_queue):
    batch = special_batch(filed_agency, passed=3, failed=1, make_person=make_person)
    login(make_user(Role.AGENCY, organization_id=filed_agency.id))
    client.post(f"/assessment/batches/{batch.id}/issue")
    task_queue()
    db.session.expire_all()
    assert db.session.get(AssessmentBatch, batch.id).status is BatchStatus.ISSUED
    certificates = db.session.scalars(sa.select(Certificate).where(Certificate.batch_id == batch.id)
                                      .order_by(Certificate.number)).all()
    numbers = [certificate.number for certificate in certificates]
    assert numbers == [f"ZX41810777{date.today().year % 100:02d}00000{serial}" for serial in (1, 2, 3)]
    assert all(SPECIAL_NUMBER.fullmatch(number) for number in numbers)
    first = certificates[0]
    assert (first.kind, first.level, first.occupation_id, first.special_item_id) == (
        CertificateKind.SPECIAL_PROFICIENCY, None, None, item().id)
    assert first.snapshot["title"] == "专项职业能力证书" and first.snapshot["occupation_name"] == "杞县砂锅制作"

    # The second batch of the same agency and year goes on from serial 4; a skills-level batch's serials are
    # separate (their own counter per level).
    again = special_batch(filed_agency, passed=1, failed=0, make_person=make_person, item_code="KF-ZX-002")
    with pytest.raises(InvalidInput, match="重复"):
        pass_again(again, first.person)
    client.post(f"/assessment/batches/{again.id}/issue")
    task_queue()
    assert db.session.scalar(sa.select(Certificate.number).where(Certificate.batch_id == again.id)).endswith("000004")

    page = client.get(f"/certificates/{first.id}").get_data(as_text=True)
    assert re.search(r"专项职业能力</\w+>\s*<\w+[^>]*>杞县砂锅制作", page), "the item under its own label"
    assert "职业技能等级" not in strip_menu(page) and "工种/职业方向" not in strip_menu(page)
    verify = client.get(f"/verify/{first.number}").get_data(as_text=True)
    assert '<th scope="row">专项职业能力</th><td>杞县砂锅制作</td>' in verify
    assert '<th scope="row">项目编码</th><td>KF-ZX-002</td>' in verify
    assert "职业技能等级" not in verify and "工种/职业方向" not in verify


def pass_again(batch, person):
    """The same person passing the same item again needs a repeat reason (no double award)."""
    batch.status = BatchStatus.RESULTS_ENTERED
    try:
        record_result(None, batch, person, theory=90, practical=90)
    finally:
        db.session.rollback()


def strip_menu(page: str) -> str:
    return page.split("<main", 1)[-1]


def test_the_pdf_prints_the_item_and_no_level(filed_agency, make_person, task_queue, tmp_path):
    batch = special_batch(filed_agency, passed=1, failed=0, make_person=make_person)
    issue_jobs.start_issue(None, batch)
    db.session.commit()
    task_queue()
    certificate = db.session.scalar(sa.select(Certificate).where(Certificate.batch_id == batch.id))
    text = "".join(pdf_text(render(certificate), tmp_path).split())
    assert "专项职业能力证书" in text and "杞县砂锅制作" in text and "KF-ZX-002" in text
    assert "职业技能等级" not in text and "专项职业能力考核合格" in text


def test_a_withdrawn_filing_stops_issuing(filed_agency, make_person):
    batch = special_batch(filed_agency, passed=1, failed=0, make_person=make_person)
    withdraw_special_item(None, filed_agency, item().id)
    db.session.commit()
    with pytest.raises(InvalidInput, match="未备案"):
        issue_jobs.start_issue(None, batch)
    db.session.rollback()
    assert count(Certificate) == 0


def test_results_of_a_special_batch_are_uploaded_and_a_level_column_is_refused(client, login, make_user,
                                                                              filed_agency):
    import io

    from registry.assessment.models import AssessmentResult
    from registry.core.import_jobs import ImportJob
    from tests.helpers import commit, error_rows, resident_id

    batch = create_special_batch(None, agency_id=filed_agency.id, special_item_id=item().id,
                                 assessed_on=date(2025, 5, 10), county_code="410221")
    db.session.commit()
    login(make_user(Role.AGENCY, organization_id=filed_agency.id))
    header = "证件类型,证件号码,姓名,理论知识成绩,操作技能成绩,等级,职业名称\n"
    rows = (f"居民身份证,{resident_id(1)},甲,80,75,,杞县砂锅制作\n"
            f"居民身份证,{resident_id(2)},乙,80,75,四级,\n"
            f"居民身份证,{resident_id(3)},丙,80,75,,焊工\n")
    response = client.post(f"/assessment/batches/{batch.id}/results/upload", content_type="multipart/form-data",
                           data={"file": (io.BytesIO((header + rows).encode()), "成绩.csv")})
    job = db.session.get(ImportJob, int(re.search(r"/imports/(\d+)", response.headers["Location"]).group(1)))
    assert error_rows(client, job) == [
        ("3", "等级", "文件中为“四级”，本批次为专项职业能力考核（杞县砂锅制作），没有等级，应留空"),
        ("4", "职业", "文件中为“焊工”，与本批次的专项职业能力项目“杞县砂锅制作（KF-ZX-002）”不一致")]
    commit(client, job, skip_errors=True)
    [result] = db.session.scalars(sa.select(AssessmentResult).where(AssessmentResult.batch_id == batch.id)).all()
    assert result.person.name == "甲" and result.is_passed


def test_a_special_batch_takes_any_assessor_of_its_agencys_roster(filed_agency, make_agency, make_user):
    from registry.oversight import operations as oversight
    from registry.reference.models import Occupation
    from tests.helpers import resident_id

    welder = db.session.scalar(sa.select(Occupation.id).where(Occupation.code == "6-18-02-04"))
    own = oversight.add_assessor(None, filed_agency, "赵考评", resident_id(1, "19800101"), "KP-1", [(welder, 5, 4)])
    stranger = oversight.add_assessor(None, make_agency(), "钱考评", resident_id(2, "19800101"), "KP-2",
                                      [(welder, 5, 4)])
    batch = create_special_batch(None, agency_id=filed_agency.id, special_item_id=item().id,
                                 assessed_on=date(2025, 5, 10), county_code="410221")
    oversight.assign_assessor(None, batch, own)  # no scope names an item: the agency's filing is the scope
    with pytest.raises(InvalidInput, match="钱考评 不在 .* 的考评员名单中"):
        oversight.assign_assessor(None, batch, stranger)


def test_the_qr_of_a_special_certificate_verifies_and_a_forged_item_does_not(client, filed_agency, make_person):
    from tests.certificates.test_verify_views import outcome_box, qr_path

    batch = special_batch(filed_agency, passed=1, failed=0, make_person=make_person)
    issue_jobs.start_issue(None, batch)
    db.session.commit()
    certificate = db.session.scalar(sa.select(Certificate).where(Certificate.batch_id == batch.id))
    genuine = qr_path(certificate)
    assert "l=-" in genuine and "o=KF-ZX-002" in genuine, "no level; the item code where the occupation's goes"
    assert "二维码签名有效" in outcome_box(client.get(genuine).get_data(as_text=True))
    forged = outcome_box(client.get(genuine.replace("o=KF-ZX-002", "o=KF-ZX-001")).get_data(as_text=True))
    assert "二维码签名无效，可能为伪造" in forged
