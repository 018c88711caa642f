"""持证口径 chosen by the administrator on a page: audited, the kept totals recounted by the task worker, and the
cockpit stating which kinds are counted."""
from datetime import date

import sqlalchemy as sa

from registry.assessment.operations import approve_batch, record_result
from registry.assessment.special_batches import create_special_batch
from registry.certificates.models import Certificate, CertificateKind
from registry.certificates.operations import issue_batch
from registry.core.audit import AuditEvent
from registry.core.db import db
from registry.core.roles import Role
from registry.organizations.special_filing import file_special_item
from registry.reference.models import SpecialItem
from registry.stats import rebuild
from registry.stats.coverage import coverage
from registry.stats.tally import counted_kinds
from tests.helpers import count


def holders() -> int:
    return coverage(date.today())[0].holders


def test_the_admin_narrows_the_counted_kinds_and_the_totals_follow(client, login, make_user, make_agency,
                                                                    approved_batch, make_person, task_queue):
    # One holder of a skills-level certificate, one of a 专项职业能力 certificate only.
    issue_batch(None, approved_batch(passed=1, failed=0), issued_on=date(2025, 6, 1))
    agency = make_agency()
    item = db.session.scalar(sa.select(SpecialItem).where(SpecialItem.code == "KF-ZX-001"))
    file_special_item(None, agency, item.id, date(2024, 1, 1))
    batch = create_special_batch(None, agency_id=agency.id, special_item_id=item.id, assessed_on=date(2025, 5, 1),
                                 county_code="410221")
    record_result(None, batch, make_person(), theory=80, practical=80)
    approve_batch(None, batch)
    issue_batch(None, batch, issued_on=date(2025, 6, 1))
    db.session.commit()
    assert count(Certificate, Certificate.kind == CertificateKind.SPECIAL_PROFICIENCY) == 1
    assert counted_kinds() == frozenset(CertificateKind), "default: every kind (the plan's total names none)"
    assert holders() == 2

    login(make_user())
    page = client.get("/stats").get_data(as_text=True)
    assert "持证口径：计入职业技能等级证书、职业资格证书、专项职业能力证书、特种作业操作证、其他证书" in page
    response = client.post("/stats/counted-kinds", data={"kinds": ["skill_level", "qualification"]})
    assert response.status_code == 302
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "set_counted_kinds"))
    assert event.after == {"计入持证的证书种类": "职业技能等级证书、职业资格证书"}
    assert "专项职业能力证书" in event.before["计入持证的证书种类"]
    assert "正在按此口径重新统计" in client.get("/stats").get_data(as_text=True)
    assert holders() == 2, "the kept totals change only when the recount has run"

    assert task_queue() >= 1  # with the two batches' certificate hashes
    db.session.expire_all()
    assert holders() == 1
    assert rebuild.differences() == [], "the kept totals equal a recount under the new choice"
    page = client.get("/stats").get_data(as_text=True)
    assert "持证口径：计入职业技能等级证书、职业资格证书。" in page.replace(' <a href="/stats/counted-kinds">调整口径</a>', "")
    assert "正在按此口径重新统计" not in page


def test_no_kind_at_all_is_refused_in_chinese_and_nothing_changes(client, login, make_user, task_queue):
    login(make_user())
    response = client.post("/stats/counted-kinds", data={})
    assert response.status_code == 400
    assert "至少选择一种" in response.get_data(as_text=True)
    assert client.post("/stats/counted-kinds", data={"kinds": ["nonsense"]}).status_code == 400
    assert count(AuditEvent, AuditEvent.action == "set_counted_kinds") == 0
    assert task_queue() == 0


def test_only_the_admin_chooses(client, login, make_user):
    login(make_user(Role.COUNTY, county_code="410221"))
    assert client.get("/stats/counted-kinds").status_code == 403
    assert client.post("/stats/counted-kinds", data={"kinds": ["skill_level"]}).status_code == 403
    assert counted_kinds() == frozenset(CertificateKind)
