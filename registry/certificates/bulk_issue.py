"""Issuing a batch's certificates in bulk: what `registry demo` uses to certify a city of fictional persons.

Checks, numbers and snapshots are those of `operations.issue_batch` (same `allocate_serials`, `format_number`
and `frozen_snapshot`), but the rows go in with one Core executemany, the holders' photos are looked up in
one query, and no PDF is rendered: `pdf_sha256` stays empty until the certificate is first rendered
(registry.certificates.issued_hash says why that keeps its meaning). Profiled on 5,000 demo persons, the
rendering at issue was 86% of the generator's time. The stats totals are kept as by every other write:
the persons are noted as changed and the commit-time refresh recounts them.
"""
from datetime import date

import sqlalchemy as sa

from registry.assessment.models import AssessmentBatch, AssessmentResult, BatchStatus
from registry.assessment.scopes import check_writable
from registry.assessment.special_batches import check_filed
from registry.certificates.models import Certificate, CertificateStatus
from registry.certificates.numbering import allocate_serials, format_number
from registry.certificates.snapshot import batch_certificate_columns, batch_snapshot
from registry.core.audit import record_event
from registry.core.changes import note_persons_changed
from registry.core.db import db, utcnow
from registry.core.errors import InvalidInput
from registry.organizations.models import AgencyStatus
from registry.people.models import Person
from registry.people.photos import PersonPhoto


def issue_batch_in_bulk(actor, batch: AssessmentBatch, issued_on: date) -> list[int]:
    """One numbered certificate per passed result without one, the batch 已发证; the holders' person ids."""
    batch = locked_for_issue(actor, batch)
    agency = batch.agency
    holders = db.session.execute(holder_rows(batch.id).where(
        ~sa.exists().where(Certificate.result_id == AssessmentResult.id))).all()
    serials = allocate_serials(agency.id, issued_on.year, batch.level, len(holders)) if holders else range(0)
    now = utcnow()
    rows = certificate_rows(batch, list(zip(holders, serials)), issued_on, now)
    if rows:
        db.session.execute(sa.insert(Certificate.__table__), rows)
    batch.status, batch.issued_at = BatchStatus.ISSUED, now
    note_persons_changed(row["person_id"] for row in rows)
    record_event(actor, "issue", "assessment_batch", batch.id, after={
        "certificates": len(rows), "first": rows[0]["number"] if rows else None,
        "last": rows[-1]["number"] if rows else None, "pdf_sha256": "on first rendering"})
    return [row["person_id"] for row in rows]


def holder_rows(batch_id: int) -> sa.Select:
    """The batch's passed results with the holder's printed fields, in result id order (the serials' order)."""
    return (sa.select(AssessmentResult.id.label("result_id"), Person.id.label("person_id"), Person.name,
                      Person.document_type, Person.document_masked, Person.document_cipher, Person.gender,
                      Person.county_code)
            .join(Person, Person.id == AssessmentResult.person_id)
            .where(AssessmentResult.batch_id == batch_id, AssessmentResult.is_passed)
            .order_by(AssessmentResult.id))


def certificate_rows(batch: AssessmentBatch, numbered: list[tuple], issued_on: date, now) -> list[dict]:
    """One certificate row per (holder row, serial), ready for one executemany."""
    agency, columns = batch.agency, batch_certificate_columns(batch)
    photos = current_photo_hashes([holder.person_id for holder, _serial in numbered])
    rows = []
    for holder, serial in numbered:
        number = format_number(agency, issued_on.year, batch.level, serial)
        rows.append({
            "number": number, **columns, "status": CertificateStatus.VALID,
            "person_id": holder.person_id, "holder_county_code": holder.county_code, "agency_id": agency.id,
            "batch_id": batch.id,
            "result_id": holder.result_id, "issued_on": issued_on,
            "snapshot": batch_snapshot(holder, batch, issued_on, number, photos.get(holder.person_id)),
            "pdf_sha256": None, "is_imported": False, "created_at": now,
        })
    return rows


def locked_for_issue(actor, batch: AssessmentBatch) -> AssessmentBatch:
    """The checks of `issue_batch`, on the batch re-read under a row lock (PostgreSQL)."""
    check_writable(actor, batch)
    batch = db.session.scalars(sa.select(AssessmentBatch).where(AssessmentBatch.id == batch.id)
                               .with_for_update().execution_options(populate_existing=True)).one()
    if batch.status is not BatchStatus.APPROVED:
        raise InvalidInput("status", f"状态：批次为“{batch.status.label}”，只有已审核的批次可以发证")
    if batch.agency.status is not AgencyStatus.ACTIVE:
        raise InvalidInput("status", f"状态：{batch.agency.name} 备案状态为“{batch.agency.status.label}”，不能发证")
    if batch.special_item is not None:
        check_filed(batch.agency, batch.special_item)  # the filing may have been withdrawn since planning
    return batch


def current_photo_hashes(person_ids: list[int]) -> dict[int, str]:
    """Each person's current photo (the newest upload, as `current_photo` picks it), in one query."""
    if not person_ids:
        return {}
    rows = db.session.execute(
        sa.select(PersonPhoto.person_id, PersonPhoto.sha256).where(PersonPhoto.person_id.in_(person_ids))
        .order_by(PersonPhoto.person_id, PersonPhoto.uploaded_at, PersonPhoto.id))
    return dict(rows.all())  # the last row of each person wins: the newest
