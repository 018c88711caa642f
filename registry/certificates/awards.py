"""The certificates' part of the no-double-award rule (registry/assessment/awards.py): valid skills-level
certificates of the batch's occupation, 工种 and level — issued here, corrected, or imported history; and of
the eligibility rule (registry/assessment/eligibility.py): when the certificate one level below was issued."""
from datetime import date

import sqlalchemy as sa

from registry.assessment.awards import prior_awards, register_award_finder
from registry.assessment.eligibility import register_certificate_dates
from registry.assessment.models import AssessmentBatch, AssessmentResult
from registry.certificates.models import Certificate, CertificateKind, CertificateStatus
from registry.core.db import db
from registry.reference.models import LEVEL_LABELS


@register_award_finder
def valid_certificates(batch: AssessmentBatch, person_ids: list[int]) -> dict[int, str]:
    if batch.is_special:
        return _valid_special_certificates(batch, person_ids)
    rows = db.session.execute(sa.select(Certificate.person_id, Certificate.number, Certificate.snapshot).where(
        Certificate.person_id.in_(person_ids), Certificate.status == CertificateStatus.VALID,
        Certificate.kind == CertificateKind.SKILL_LEVEL, Certificate.occupation_id == batch.occupation_id,
        Certificate.level == batch.level,
        sa.or_(Certificate.batch_id.is_(None), Certificate.batch_id != batch.id)))
    work_type = batch.work_type or "--"
    what = f"{batch.occupation.name}{LEVEL_LABELS[batch.level]}"
    return {person_id: f"已持有{what}有效证书 {number}" for person_id, number, snapshot in rows
            if (snapshot or {}).get("work_type", "--") == work_type}


def _valid_special_certificates(batch: AssessmentBatch, person_ids: list[int]) -> dict[int, str]:
    rows = db.session.execute(sa.select(Certificate.person_id, Certificate.number).where(
        Certificate.person_id.in_(person_ids), Certificate.status == CertificateStatus.VALID,
        Certificate.kind == CertificateKind.SPECIAL_PROFICIENCY, Certificate.special_item_id == batch.special_item_id,
        sa.or_(Certificate.batch_id.is_(None), Certificate.batch_id != batch.id)))
    return {person_id: f"已持有专项职业能力“{batch.special_item.name}”有效证书 {number}" for person_id, number in rows}


def refused_results(batch: AssessmentBatch) -> dict[int, str]:
    """{result id: why} for the batch's passed results that issuing refuses: the person already holds (or an
    earlier batch is due to give them) this certificate, and no repeat reason was recorded with the result."""
    rows = db.session.execute(sa.select(AssessmentResult.id, AssessmentResult.person_id).where(
        AssessmentResult.batch_id == batch.id, AssessmentResult.is_passed,
        AssessmentResult.repeat_reason.is_(None), ~AssessmentResult.certificate.has())).all()
    awards = prior_awards(batch, [person_id for _id, person_id in rows], earlier_only=True)
    return {result_id: awards[person_id] for result_id, person_id in rows if person_id in awards}


@register_certificate_dates
def certificate_dates(occupation_id: int, level: int, person_ids: list[int]) -> dict[int, date]:
    """The earliest valid certificate of the occupation at `level` per person: a skills-level certificate or a
    former 职业资格证书 of that level."""
    rows = db.session.execute(
        sa.select(Certificate.person_id, sa.func.min(Certificate.issued_on)).where(
            Certificate.person_id.in_(person_ids), Certificate.status == CertificateStatus.VALID,
            Certificate.kind.in_([CertificateKind.SKILL_LEVEL, CertificateKind.QUALIFICATION]),
            Certificate.occupation_id == occupation_id, Certificate.level == level)
        .group_by(Certificate.person_id))
    return dict(rows.all())
