"""Bulk issue (the demo generator's): issue_batch's numbers and snapshots, no PDF at issue, its hash taken
on first rendering — by the download, which stores it, and by verification, which only compares."""
import hashlib
import io
from datetime import date

import pytest
import sqlalchemy as sa
from PIL import Image

from registry.core.roles import Role
from registry.assessment.models import AssessmentResult, BatchStatus
from registry.certificates import rendering
from registry.certificates.bulk_issue import issue_batch_in_bulk
from registry.certificates.issued_hash import fill_issued_sha256, issued_sha256_of
from registry.certificates.models import Certificate, CertificateStatus
from registry.certificates.operations import correct_certificate, issue_batch, revoke_certificate
from registry.certificates.snapshot import snapshot_for
from registry.certificates.pdf_signature import unsigned_prefix
from registry.certificates.verification import verify_upload
from registry.core.audit import AuditEvent
from registry.core.db import db
from registry.core.errors import InvalidInput
from registry.people.photos import upload_photo
from registry.stats.rebuild import differences

ISSUED_ON = date(2025, 6, 1)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def bulk(batch, issued_on=ISSUED_ON) -> list[Certificate]:
    person_ids = issue_batch_in_bulk(None, batch, issued_on)
    db.session.commit()
    certificates = db.session.scalars(sa.select(Certificate).where(Certificate.batch_id == batch.id)
                                      .order_by(Certificate.id)).all()
    assert [certificate.person_id for certificate in certificates] == person_ids
    return certificates


def png(colour: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (240, 320), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def test_numbers_continue_issue_batchs_serials_and_snapshots_are_issue_batchs(agency, approved_batch):
    before = issue_batch(None, approved_batch(agency=agency, passed=2, failed=0), ISSUED_ON)
    db.session.commit()
    batch = approved_batch(agency=agency, passed=3, failed=2)
    results = db.session.scalars(sa.select(AssessmentResult).where(AssessmentResult.batch_id == batch.id)
                                 .order_by(AssessmentResult.id)).all()
    # One holder has two photos: the newer is the one frozen, as issue_batch would choose.
    upload_photo(None, results[0].person, png("navy"))
    newer = upload_photo(None, results[0].person, png("darkred"))
    db.session.commit()
    certificates = bulk(batch)
    assert [int(c.number[-6:]) for c in before + certificates] == [1, 2, 3, 4, 5]
    assert [c.result_id for c in certificates] == [result.id for result in results if result.is_passed]
    for certificate in certificates:
        expected = snapshot_for(certificate.person, batch.occupation, batch.work_type, batch.level, agency,
                                ISSUED_ON, certificate.number)
        assert certificate.snapshot == expected
        assert (certificate.status, certificate.level, certificate.issued_on) == (
            CertificateStatus.VALID, batch.level, ISSUED_ON)
        assert certificate.pdf_sha256 is None and not certificate.is_imported
    assert certificates[0].snapshot["photo_sha256"] == newer.sha256
    assert certificates[1].snapshot["photo_sha256"] is None


def test_the_batch_is_issued_once_audited_and_the_totals_follow(approved_batch):
    batch = approved_batch(passed=3, failed=1)
    assert len(bulk(batch)) == 3
    assert batch.status is BatchStatus.ISSUED and batch.issued_at is not None
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "issue")).one()
    assert (event.entity_type, event.entity_id) == ("assessment_batch", str(batch.id))
    assert event.after["certificates"] == 3 and event.after["pdf_sha256"] == "on first rendering"
    assert differences() == []
    with pytest.raises(InvalidInput, match="只有已审核的批次可以发证"):
        issue_batch_in_bulk(None, batch, ISSUED_ON)


def test_an_agency_that_may_not_issue_is_refused(approved_batch, make_agency, make_user):
    from registry.core.errors import Forbidden

    batch = approved_batch()
    other = make_agency(scopes=[("6-18-02-04", None, 5, 3, "2024-01-01", None)])
    with pytest.raises(Forbidden):
        issue_batch_in_bulk(make_user(Role.AGENCY, organization_id=other.id), batch, ISSUED_ON)
    assert db.session.scalar(sa.select(sa.func.count(Certificate.id))) == 0


@pytest.fixture
def bulk_certificate(approved_batch) -> Certificate:
    return bulk(approved_batch(passed=1, failed=0))[0]


@pytest.fixture
def agency_client(bulk_certificate, make_user, login):
    return login(make_user(Role.AGENCY, organization_id=bulk_certificate.agency_id))


def test_the_first_download_stores_the_hash_of_the_file_it_sends(bulk_certificate, agency_client):
    # The download is the issued file with the registry's PDF signature appended (registry/certificates/
    # pdf_signature.py): its unsigned part is byte for byte the rendering whose hash is stored.
    issued = rendering.render_snapshot(bulk_certificate.snapshot)
    response = agency_client.get(f"/certificates/{bulk_certificate.id}/pdf")
    assert response.status_code == 200 and unsigned_prefix(response.data) == issued != response.data
    db.session.expire_all()  # read back what the request committed
    assert bulk_certificate.pdf_sha256 == sha256(issued)
    assert unsigned_prefix(agency_client.get(f"/certificates/{bulk_certificate.id}/pdf").data) == issued


def test_revoked_before_its_first_download_it_keeps_the_hash_of_the_unmarked_file(bulk_certificate,
                                                                                    agency_client):
    issued = rendering.render_snapshot(bulk_certificate.snapshot)
    revoke_certificate(None, bulk_certificate, "考试作弊")
    db.session.commit()
    marked = unsigned_prefix(agency_client.get(f"/certificates/{bulk_certificate.id}/pdf").data)
    db.session.expire_all()
    assert marked != issued and bulk_certificate.pdf_sha256 == sha256(issued)


def test_verification_compares_with_the_file_as_issued_without_storing_it(bulk_certificate):
    issued = rendering.render_snapshot(bulk_certificate.snapshot)
    verdict = verify_upload(issued)
    assert verdict.is_exact and verdict.certificate.id == bulk_certificate.id
    edited = issued.replace(b"/Title", b"/Titel", 1)
    assert edited != issued
    different = verify_upload(edited)
    assert not different.is_exact and different.certificate.id == bulk_certificate.id
    db.session.expire_all()
    assert bulk_certificate.pdf_sha256 is None  # the public check writes nothing


def test_verification_by_upload_is_exact_after_a_download_too(bulk_certificate, agency_client):
    data = agency_client.get(f"/certificates/{bulk_certificate.id}/pdf").data
    db.session.expire_all()
    assert bulk_certificate.pdf_sha256 is not None
    assert verify_upload(data).is_exact


def test_a_correction_of_a_bulk_issued_certificate_renders_its_replacement(bulk_certificate):
    replacement = correct_certificate(None, bulk_certificate, "姓名录入错误", name="王五")
    db.session.commit()
    assert replacement.pdf_sha256 == sha256(rendering.render(replacement))
    assert issued_sha256_of(bulk_certificate) == sha256(rendering.render_snapshot(bulk_certificate.snapshot))


def test_imported_history_has_no_file_and_no_hash(bulk_certificate):
    bulk_certificate.is_imported = True
    assert issued_sha256_of(bulk_certificate) is None
    fill_issued_sha256(bulk_certificate, b"%PDF-anything")
    assert bulk_certificate.pdf_sha256 is None


def test_a_file_whose_photo_is_gone_cannot_match(bulk_certificate):
    bulk_certificate.snapshot = dict(bulk_certificate.snapshot) | {"photo_sha256": "0" * 64}
    assert issued_sha256_of(bulk_certificate) is None


def test_one_upload_renders_at_most_a_few_unrendered_certificates(approved_batch, monkeypatch):
    from registry.certificates import issued_hash, verification

    numbers = [certificate.number for certificate in bulk(approved_batch(passed=5, failed=0))]
    monkeypatch.setattr(verification, "claimed_numbers", lambda data: numbers)
    rendered = []
    monkeypatch.setattr(issued_hash.rendering, "issued_sha256", lambda snapshot: rendered.append(1) or "0" * 64)
    verdict = verify_upload(b"%PDF-1.4 a file naming five certificates")
    assert not verdict.is_exact and verdict.certificate.number == numbers[0]
    assert len(rendered) == verification.RENDERED_AT_MOST == 2
