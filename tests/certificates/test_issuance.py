"""Issuing: national-format numbers, gap-free serials even under concurrency, frozen snapshots, revoke, correct."""
import re
import threading
from datetime import date

import pytest
import sqlalchemy as sa

from registry.core.roles import Role
from registry.assessment.models import AssessmentBatch, BatchStatus
from registry.certificates.models import Certificate, CertificateStatus
from registry.certificates.numbering import normalize_number
from registry.certificates.models import CertificateKind
from registry.certificates.operations import correct_certificate, issue_batch, revoke_certificate
from registry.core.audit import AuditEvent
from registry.core.db import commit_with_retry, db
from registry.core.errors import Forbidden, InvalidInput
from registry.organizations.models import AgencyStatus, AgencyType
from registry.people.operations import protector
from registry.reference.models import Occupation

ISSUED_ON = date(2025, 6, 1)


def issue(batch, actor=None, issued_on=ISSUED_ON):
    certificates = issue_batch(actor, batch, issued_on)
    db.session.commit()
    return certificates


def serial(number: str) -> int:
    return int(number[-6:])


def test_numbers_follow_the_national_rule(make_agency, approved_batch):
    agency = make_agency(site_code="123456", agency_type=AgencyType.EMPLOYER,
                         scopes=[("6-18-02-04", None, 5, 3, "2024-01-01", None)])
    certificates = issue(approved_batch(agency=agency, passed=3, failed=2, level=3))
    assert [c.number for c in certificates] == ["Y000041123456253000001", "Y000041123456253000002",
                                                "Y000041123456253000003"]
    assert all(re.fullmatch(r"[YS]\d{21}", c.number) for c in certificates)


def test_serials_continue_per_agency_year_and_level(make_agency, approved_batch):
    agency = make_agency(scopes=[("6-18-02-04", None, 5, 3, "2024-01-01", None)])
    first = issue(approved_batch(agency=agency, passed=2, level=4))
    second = issue(approved_batch(agency=agency, passed=2, level=4))
    other_level = issue(approved_batch(agency=agency, passed=1, level=5))
    next_year = issue(approved_batch(agency=agency, passed=1, level=4), issued_on=date(2026, 1, 2))
    assert [serial(c.number) for c in first + second] == [1, 2, 3, 4]
    assert serial(other_level[0].number) == 1 and other_level[0].number[15] == "5"
    assert serial(next_year[0].number) == 1 and next_year[0].number[13:15] == "26"


def test_only_passed_results_get_certificates_and_only_once(approved_batch):
    batch = approved_batch(passed=3, failed=2)
    assert len(issue(batch)) == 3
    assert batch.status is BatchStatus.ISSUED
    with pytest.raises(InvalidInput, match="只有已审核的批次可以发证"):
        issue(batch)
    assert db.session.scalar(sa.select(sa.func.count(Certificate.id))) == 3
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "issue"))
    assert event.after["certificates"] == 3


def test_unapproved_batches_and_suspended_agencies_cannot_issue(make_batch, approved_batch, make_person):
    from registry.assessment.operations import record_result

    batch = make_batch()
    record_result(None, batch, make_person(), theory=90, practical=90)
    with pytest.raises(InvalidInput, match="只有已审核的批次可以发证"):
        issue(batch)
    db.session.rollback()
    approved = approved_batch()
    approved.agency.status = AgencyStatus.SUSPENDED
    with pytest.raises(InvalidInput, match="备案状态为“暂停”，不能发证"):
        issue(approved)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Certificate.id))) == 0


def test_the_snapshot_is_frozen_at_issue(approved_batch):
    batch = approved_batch(passed=1, failed=0)
    certificate = issue(batch)[0]
    printed = dict(certificate.snapshot)
    certificate.person.name = "改名后"
    batch.occupation.name = "改名职业"
    batch.agency.name = "改名机构"
    db.session.commit()
    db.session.expire_all()
    assert certificate.snapshot == printed
    assert printed["level_label"] == "四级/中级工" and printed["work_type"] == "--"
    assert printed["title"] == "职业技能等级证书" and printed["name"] != "改名后"
    assert protector().decrypt(printed["document_cipher"]).startswith("410221")
    assert "410221" not in printed["document_masked"][6:14]


def test_revocation_needs_a_reason_and_happens_once(approved_batch, make_user):
    certificate = issue(approved_batch(passed=1, failed=0))[0]
    with pytest.raises(InvalidInput, match="撤销原因：不能为空"):
        revoke_certificate(None, certificate, "  ")
    admin = make_user(Role.ADMIN)
    revoke_certificate(admin, certificate, "考试作弊")
    db.session.commit()
    assert certificate.status is CertificateStatus.REVOKED and certificate.revoked_by_id == admin.id
    with pytest.raises(InvalidInput, match="只能撤销有效证书"):
        revoke_certificate(admin, certificate, "再次撤销")


def test_correction_supersedes_and_keeps_the_old_certificate(approved_batch):
    original = issue(approved_batch(passed=2, failed=0))[0]
    replacement = correct_certificate(None, original, "姓名录入错误", name="张更正", issued_on=date(2025, 7, 1))
    db.session.commit()
    assert original.status is CertificateStatus.SUPERSEDED and original.superseded_by_id == replacement.id
    assert replacement.status is CertificateStatus.VALID and replacement.snapshot["name"] == "张更正"
    assert serial(replacement.number) == 3 and replacement.snapshot["number"] == replacement.number
    with pytest.raises(InvalidInput, match="只能撤销有效证书"):
        revoke_certificate(None, original, "不应允许")
    assert db.session.scalar(sa.select(sa.func.count(Certificate.id))) == 3


def test_another_agency_can_neither_revoke_nor_correct(approved_batch, make_agency, make_user):
    certificate = issue(approved_batch(passed=1, failed=0))[0]
    stranger = make_user(Role.AGENCY, organization_id=make_agency().id)
    with pytest.raises(Forbidden):
        revoke_certificate(stranger, certificate, "越权")
    with pytest.raises(Forbidden):
        correct_certificate(stranger, certificate, "越权")


@pytest.mark.parametrize(("kind", "raw", "expected"), [
    (CertificateKind.SKILL_LEVEL, " s000041900001254000001 ", "S000041900001254000001"),
    (CertificateKind.QUALIFICATION, "1234567890123456", "1234567890123456"),
    (CertificateKind.SPECIAL_OPERATION, "T410221199001010011", "T410221199001010011"),
])
def test_numbers_are_validated_per_kind(kind, raw, expected):
    assert normalize_number(kind, raw) == expected


@pytest.mark.parametrize(("kind", "raw"), [
    (CertificateKind.SKILL_LEVEL, "S00004190000125400000"),
    (CertificateKind.SKILL_LEVEL, "X000041900001254000001"),
    (CertificateKind.QUALIFICATION, "123456789012345"),
    (CertificateKind.OTHER, "证书"),
])
def test_malformed_numbers_are_refused(kind, raw):
    with pytest.raises(InvalidInput, match="证书编号"):
        normalize_number(kind, raw)


def test_concurrent_issuers_get_no_duplicate_and_no_gap(app, make_agency, approved_batch):
    """Six batches of one agency, level and year issued at once from six threads, each its own session."""
    agency = make_agency(scopes=[("6-18-02-04", None, 5, 3, "2024-01-01", None)])
    batch_ids = [approved_batch(agency=agency, passed=5, failed=0).id for _ in range(6)]
    start, errors = threading.Barrier(len(batch_ids)), []

    def issue_in_own_session(batch_id: int) -> None:
        with app.app_context():
            try:
                start.wait()
                commit_with_retry(lambda: issue_batch(None, db.session.get(AssessmentBatch, batch_id), ISSUED_ON))
            except Exception as error:  # reported below; a thread's exception is otherwise lost
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=issue_in_own_session, args=(batch_id,)) for batch_id in batch_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    db.session.expire_all()
    numbers = db.session.scalars(sa.select(Certificate.number)).all()
    assert len(numbers) == len(set(numbers)) == 30
    assert sorted(serial(number) for number in numbers) == list(range(1, 31))


def test_issuing_renders_no_pdf_inside_its_write_transaction(approved_batch, monkeypatch):
    """Rendering inside the issue held SQLite's write lock for seconds: every PDF is rendered after the commit,
    when another connection already sees the certificate."""
    from registry.certificates import issued_hash, operations, rendering

    batch = approved_batch(passed=3, failed=0)
    committed_when_rendered = []
    render = rendering.issued_sha256

    def watched(snapshot):
        with db.engine.connect() as other:  # sees only what has been committed
            committed_when_rendered.append(other.scalar(
                sa.select(sa.func.count()).select_from(Certificate).where(Certificate.number == snapshot["number"])))
        return render(snapshot)

    monkeypatch.setattr(rendering, "issued_sha256", watched)
    monkeypatch.setattr(operations, "issued_sha256", watched, raising=False)
    certificates = issue(batch)
    assert committed_when_rendered == [1, 1, 1]
    assert all(len(certificate.pdf_sha256) == 64 for certificate in certificates), "taken after the commit"
    assert issued_hash.fill_batch_hashes.name


def test_a_rolled_back_issue_leaves_no_work_behind(approved_batch, task_queue):
    batch = approved_batch(passed=2, failed=0)
    issue_batch(None, batch, ISSUED_ON)
    db.session.rollback()
    assert task_queue() == 0
    issue(batch)
    assert task_queue() == 1
