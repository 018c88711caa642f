"""Issuing, revoking and correcting certificates. Nothing is ever deleted; the caller commits."""
from datetime import date

import sqlalchemy as sa

from registry.assessment.models import AssessmentBatch, AssessmentResult, BatchStatus
from registry.assessment.scopes import check_writable
from registry.assessment.special_batches import check_filed
from registry.certificates.models import Certificate, CertificateStatus, IssueJob
from registry.certificates.awards import refused_results
from registry.certificates.issued_hash import fill_batch_hashes
from registry.certificates.numbering import allocate_serials, format_number
from registry.certificates.rendering import issued_sha256
from registry.certificates.scopes import check_certificate_writable
from registry.certificates.snapshot import batch_certificate_columns, batch_snapshot
from registry.core import settings
from registry.core.audit import record_event
from registry.core.changes import note_persons_changed
from registry.core.db import db, utcnow
from registry.core.errors import InvalidInput
from registry.core.tasks import enqueue_after_commit
from registry.organizations.models import AgencyStatus
from registry.people.models import PersonPhoto
from registry.people.photos import current_photo


def certificate_fields(certificate: Certificate) -> dict:
    return {"number": certificate.number, "kind": certificate.kind.value, "status": certificate.status.value,
            "person_id": certificate.person_id, "issued_on": certificate.issued_on.isoformat()}


def issuable_results(batch: AssessmentBatch, refused: dict[int, str] | None = None) -> list[AssessmentResult]:
    """Passed results that have no certificate yet and are not refused as a repeat award (awards.py): what the
    issue button will turn into certificates."""
    refused = refused_results(batch) if refused is None else refused
    return [result for result in db.session.scalars(
        sa.select(AssessmentResult)
        .where(AssessmentResult.batch_id == batch.id, AssessmentResult.is_passed)
        .where(~sa.exists().where(Certificate.result_id == AssessmentResult.id))
        .order_by(AssessmentResult.id)
    ) if result.id not in refused]


def without_photo(results: list[AssessmentResult]) -> list[AssessmentResult]:
    """The holders-to-be who have no photo: listed before issuing, refused when the setting says so."""
    with_photo = set(db.session.scalars(sa.select(PersonPhoto.person_id).where(
        PersonPhoto.person_id.in_([result.person_id for result in results]))))
    return [result for result in results if result.person_id not in with_photo]


def check_photos(results: list[AssessmentResult]) -> None:
    if settings.flag(settings.ISSUE_WITHOUT_PHOTO):
        return
    if missing := without_photo(results):
        names = "、".join(f"{result.person.name}（{result.person.document_masked}）" for result in missing[:20])
        more = f"等 {len(missing)} 人" if len(missing) > 20 else ""
        raise InvalidInput("photo", f"照片：系统设置不允许为未采集照片的人员发证，请先上传照片：{names}{more}")


def issue_batch(actor, batch: AssessmentBatch, issued_on: date | None = None) -> list[Certificate]:
    """One numbered certificate per passed result without one; the batch becomes 已发证."""
    check_writable(actor, batch)
    # Lock the batch row (PostgreSQL) so two issuers of the same batch cannot both pass the checks.
    batch = db.session.scalars(sa.select(AssessmentBatch).where(AssessmentBatch.id == batch.id)
                               .with_for_update().execution_options(populate_existing=True)).one()
    if batch.status is not BatchStatus.APPROVED:
        raise InvalidInput("status", f"状态：批次为“{batch.status.label}”，只有已审核的批次可以发证")
    agency = batch.agency
    if agency.status is not AgencyStatus.ACTIVE:
        raise InvalidInput("status", f"状态：{agency.name} 备案状态为“{agency.status.label}”，不能发证")
    if batch.special_item is not None:
        check_filed(agency, batch.special_item)
    if db.session.scalar(sa.select(IssueJob.id).where(IssueJob.batch_id == batch.id)) is not None:
        raise InvalidInput("status", "状态：本批次已有发证任务，请在发证页面查看进度或继续发证")
    issued_on = issued_on or date.today()
    refused = refused_results(batch)
    results = issuable_results(batch, refused)
    check_photos(results)
    serials = allocate_serials(agency.id, issued_on.year, batch.level, len(results)) if results else range(0)
    certificates = []
    for result, serial in zip(results, serials):
        number = format_number(agency, issued_on.year, batch.level, serial)
        photo = current_photo(result.person_id)
        snapshot = batch_snapshot(result.person, batch, issued_on, number, photo.sha256 if photo else None)
        certificate = Certificate(
            number=number, **batch_certificate_columns(batch), status=CertificateStatus.VALID,
            person_id=result.person_id, holder_county_code=result.person.county_code, agency_id=agency.id,
            batch_id=batch.id, result_id=result.id, issued_on=issued_on, snapshot=snapshot,
        )
        db.session.add(certificate)
        certificates.append(certificate)
    batch.status, batch.issued_at = BatchStatus.ISSUED, utcnow()
    db.session.flush()
    # Rendered once committed, by the task worker: rendering in here would hold the write lock for seconds.
    enqueue_after_commit(fill_batch_hashes, batch.id)
    note_persons_changed(certificate.person_id for certificate in certificates)
    record_event(actor, "issue", "assessment_batch", batch.id, after={
        "certificates": len(certificates), "first": certificates[0].number if certificates else None,
        "last": certificates[-1].number if certificates else None} | (
        {"refused": {str(key): why for key, why in refused.items()}} if refused else {}))
    return certificates


def revoke_certificate(actor, certificate: Certificate, reason: str) -> None:
    check_certificate_writable(actor, certificate)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("reason", "撤销原因：不能为空")
    if len(reason) > 200:
        raise InvalidInput("reason", "撤销原因：最多200个字符")
    if certificate.status is not CertificateStatus.VALID:
        raise InvalidInput("reason", f"撤销原因：证书状态为“{certificate.status.label}”，只能撤销有效证书")
    before = certificate_fields(certificate)
    certificate.status, certificate.revoked_at = CertificateStatus.REVOKED, utcnow()
    certificate.revoked_by_id, certificate.revocation_reason = getattr(actor, "id", None), reason
    note_persons_changed([certificate.person_id])
    record_event(actor, "revoke", "certificate", certificate.id, before=before,
                 after=certificate_fields(certificate) | {"reason": reason})


def correct_certificate(actor, certificate: Certificate, reason: str, name: str | None = None,
                        work_type: str | None = None, issued_on: date | None = None) -> Certificate:
    """更正: a new certificate with a new number supersedes the old one, which stays, pointing to it."""
    check_certificate_writable(actor, certificate)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("reason", "更正原因：不能为空")
    if certificate.status is not CertificateStatus.VALID or certificate.agency is None:
        raise InvalidInput("reason", f"更正原因：证书状态为“{certificate.status.label}”，只能更正本系统签发的有效证书")
    agency = certificate.agency
    if agency.status is not AgencyStatus.ACTIVE:
        raise InvalidInput("reason", f"更正原因：{agency.name} 备案状态为“{agency.status.label}”，不能发证")
    issued_on = issued_on or date.today()
    serial = allocate_serials(agency.id, issued_on.year, certificate.level, 1)[0]
    number = format_number(agency, issued_on.year, certificate.level, serial)
    snapshot = dict(certificate.snapshot) | {"number": number, "issued_on": issued_on.isoformat()}
    if name is not None and name.strip():
        snapshot["name"] = name.strip()
    if work_type is not None:
        snapshot["work_type"] = work_type.strip() or "--"
    replacement = Certificate(
        number=number, kind=certificate.kind, status=CertificateStatus.VALID, person_id=certificate.person_id,
        holder_county_code=certificate.holder_county_code, batch_county_code=certificate.batch_county_code,
        agency_id=agency.id, batch_id=certificate.batch_id, occupation_id=certificate.occupation_id,
        level=certificate.level, special_item_id=certificate.special_item_id, issued_on=issued_on, snapshot=snapshot, pdf_sha256=issued_sha256(snapshot),
    )
    db.session.add(replacement)
    db.session.flush()
    before = certificate_fields(certificate)
    certificate.status, certificate.superseded_by_id = CertificateStatus.SUPERSEDED, replacement.id
    note_persons_changed([certificate.person_id])
    record_event(actor, "correct", "certificate", certificate.id, before=before,
                 after=certificate_fields(certificate) | {"reason": reason, "replacement": number})
    record_event(actor, "create", "certificate", replacement.id, after=certificate_fields(replacement))
    return replacement
