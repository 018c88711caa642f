"""Certificates: issued by the registry or imported from before it existed."""
import enum
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.accounts.models import User
from registry.assessment.models import AssessmentBatch, AssessmentResult
from registry.core.db import db, enum_type, utcnow
from registry.organizations.models import Agency
from registry.people.models import Person
from registry.people.scopes import person_tie
from registry.reference.models import Occupation, SpecialItem


class CertificateKind(enum.StrEnum):
    SKILL_LEVEL = "skill_level"
    QUALIFICATION = "qualification"
    SPECIAL_PROFICIENCY = "special_proficiency"
    SPECIAL_OPERATION = "special_operation"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            "skill_level": "职业技能等级证书",
            "qualification": "职业资格证书",
            "special_proficiency": "专项职业能力证书",
            "special_operation": "特种作业操作证",
            "other": "其他证书",
        }[self.value]


class CertificateStatus(enum.StrEnum):
    VALID = "valid"
    REVOKED = "revoked"
    SUPERSEDED = "superseded"

    @property
    def label(self) -> str:
        return {"valid": "有效", "revoked": "已撤销", "superseded": "已被替代"}[self.value]


class Certificate(db.Model):
    """证书 — a certificate held by a person; its printed fields are frozen in `snapshot` at issue."""

    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(40))
    kind: Mapped[CertificateKind] = mapped_column(enum_type(CertificateKind), default=CertificateKind.SKILL_LEVEL)
    status: Mapped[CertificateStatus] = mapped_column(enum_type(CertificateStatus), default=CertificateStatus.VALID)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("persons.id"), index=True)
    # Imported history may name an issuer outside the registry: agency_id is then empty.
    agency_id: Mapped[int | None] = mapped_column(sa.ForeignKey("agencies.id"), index=True)
    batch_id: Mapped[int | None] = mapped_column(sa.ForeignKey("assessment_batches.id"), index=True)
    result_id: Mapped[int | None] = mapped_column(sa.ForeignKey("assessment_results.id"), unique=True)
    occupation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("occupations.id"))
    level: Mapped[int | None]
    # 专项职业能力证书: the catalogue item (no occupation, no level).
    special_item_id: Mapped[int | None] = mapped_column(sa.ForeignKey("special_items.id"))
    issued_on: Mapped[date]
    snapshot: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    pdf_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    is_imported: Mapped[bool] = mapped_column(default=False)
    revoked_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    revoked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    revocation_reason: Mapped[str | None] = mapped_column(sa.String(200))
    # indexed: a certificate's page names the one it replaced, found by this column (#17)
    superseded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("certificates.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    # The two counties that supervise a certificate, copied when it is written (a person's county and a
    # batch's are fixed by then), so a county's list reads one index per county instead of probing persons
    # and batches for every certificate (#17). No foreign key: a county code is never deleted, and adding one
    # would make SQLite copy the whole table.
    holder_county_code: Mapped[str | None] = mapped_column(sa.String(6))
    batch_county_code: Mapped[str | None] = mapped_column(sa.String(6))

    person: Mapped[Person] = relationship()
    agency: Mapped[Agency | None] = relationship()
    batch: Mapped[AssessmentBatch | None] = relationship()
    result: Mapped[AssessmentResult | None] = relationship()
    occupation: Mapped[Occupation | None] = relationship()
    special_item: Mapped[SpecialItem | None] = relationship()
    revoked_by: Mapped[User | None] = relationship()
    superseded_by: Mapped["Certificate | None"] = relationship(remote_side=[id])

    __table_args__ = (
        sa.UniqueConstraint("number", "kind"),
        sa.CheckConstraint("level IS NULL OR level BETWEEN 1 AND 5", name="level_digit"),
        sa.CheckConstraint(
            "(status = 'revoked') = (revocation_reason IS NOT NULL AND revoked_at IS NOT NULL)",
            name="revocation_complete",
        ),
        sa.CheckConstraint("(status = 'superseded') = (superseded_by_id IS NOT NULL)", name="supersession_complete"),
        # The list's orders, each ending on the id the pager breaks ties with (registry/core/listing.py).
        sa.Index("ix_certificates_issued_on", "issued_on", "id"),
        sa.Index("ix_certificates_number_id", "number", "id"),
        sa.Index("ix_certificates_status", "status", "id"),
        sa.Index("ix_certificates_level", "level", "id"),
        sa.Index("ix_certificates_holder_county", "holder_county_code", "issued_on", "id"),
        # The holder's county last: a county's second part (assessed there, holder from elsewhere) is read from
        # the index alone, in date order (registry/certificates/scopes.readable_certificate_parts).
        sa.Index("ix_certificates_batch_county", "batch_county_code", "issued_on", "id", "holder_county_code"),
        sa.Index("ix_certificates_agency_issued", "agency_id", "issued_on", "id"),
    )


class IssueJobStatus(enum.StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return {"running": "正在发证", "done": "发证完成", "failed": "发证中断"}[self.value]


class IssueJob(db.Model):
    """发证任务 — the issue of one batch's certificates, run by the task worker in short transactions.

    The serials are reserved when the job is started (first_serial … first_serial + total - 1): the k-th passed
    result of the batch, in result id order, gets first_serial + k whichever run writes it, so a run killed
    half-way and run again neither skips nor doubles a number (registry/certificates/issue_jobs.py).
    """

    __tablename__ = "certificate_issue_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("assessment_batches.id"), unique=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    issued_on: Mapped[date]
    first_serial: Mapped[int]
    total: Mapped[int]
    status: Mapped[IssueJobStatus] = mapped_column(enum_type(IssueJobStatus), default=IssueJobStatus.RUNNING)
    message: Mapped[str] = mapped_column(sa.String(300), default="")
    # Passed results refused at the start for a prior award (registry/assessment/awards.py): {result id: why}.
    # Fixed with the serials, so the ranks that number the others never move.
    refused: Mapped[dict[str, str]] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    batch: Mapped[AssessmentBatch] = relationship()


# The people scope rule (registry/people/scopes.py): persons holding a certificate of a batch held in the
# county, or issued by the agency (imported certificates may have no batch: the agency is on the certificate).
CERTIFIED = person_tie(
    __name__, lambda condition: sa.exists().where(Certificate.person_id == Person.id, condition),
    county=lambda user: sa.and_(Certificate.batch_id == AssessmentBatch.id,
                                AssessmentBatch.county_code == user.county_code),
    agency=lambda user: Certificate.agency_id == user.agency_id)


class ShareLink(db.Model):
    """分享链接 — a time-limited address that shows one certificate with the holder's full name, made by the
    issuing agency (or the administrator) at the holder's request (registry/certificates/share_links.py).

    Only the SHA-256 of the token is kept: the link is shown once, and a copy of the database opens nothing.
    """

    __tablename__ = "share_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(sa.ForeignKey("certificates.id"), index=True)
    token_sha256: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    revoked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    view_count: Mapped[int] = mapped_column(default=0)
    last_viewed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    certificate: Mapped[Certificate] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])
