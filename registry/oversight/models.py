"""Oversight of the agencies (事中事后监管): signal instances and their handling, sampling audits (抽查),
supervision records (督导), assessors (考评员) and the thresholds an administrator sets for the signals."""
import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.accounts.models import User
from registry.assessment.models import AssessmentBatch
from registry.certificates.models import Certificate
from registry.core.db import db, enum_type, utcnow
from registry.organizations.models import Agency
from registry.reference.models import Occupation


class SignalStatus(enum.StrEnum):
    OPEN = "open"
    EXPLAINED = "explained"
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"

    @property
    def label(self) -> str:
        return {"open": "待处理", "explained": "已说明", "confirmed": "已确认问题", "dismissed": "已排除"}[self.value]


class SignalSetting(db.Model):
    """预警阈值 — one threshold an administrator changed from its default (registry/oversight/signals.py)."""

    __tablename__ = "signal_settings"

    key: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    value: Mapped[float]
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class SignalInstance(db.Model):
    """预警 — one finding of one signal about one subject (a person's certificates, a batch, an agency…).

    Found again by every recount through (signal, subject_key), so its handling survives the recount; a
    finding the data no longer shows keeps its row and history with is_current false.
    """

    __tablename__ = "signal_instances"

    id: Mapped[int] = mapped_column(primary_key=True)
    signal: Mapped[str] = mapped_column(sa.String(40))
    subject_key: Mapped[str] = mapped_column(sa.String(120))
    # The county that sees and acts on it (where the batch sat, or the holder's county).
    county_code: Mapped[str | None] = mapped_column(sa.ForeignKey("counties.code"), index=True)
    agency_id: Mapped[int | None] = mapped_column(sa.ForeignKey("agencies.id"), index=True)
    institution_id: Mapped[int | None] = mapped_column(sa.ForeignKey("training_institutions.id"))
    summary: Mapped[str] = mapped_column(sa.String(400))
    status: Mapped[SignalStatus] = mapped_column(enum_type(SignalStatus), default=SignalStatus.OPEN)
    owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    is_current: Mapped[bool] = mapped_column(default=True)
    first_found_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    last_found_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    owner: Mapped[User | None] = relationship()
    agency: Mapped[Agency | None] = relationship()
    changes: Mapped[list["SignalChange"]] = relationship(back_populates="instance", order_by="SignalChange.id")

    __table_args__ = (sa.UniqueConstraint("signal", "subject_key"),)


class SignalChange(db.Model):
    """处理记录 — one step in handling a signal instance: who, when, the status it left it in, and why."""

    __tablename__ = "signal_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(sa.ForeignKey("signal_instances.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    status: Mapped[SignalStatus] = mapped_column(enum_type(SignalStatus))
    owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(sa.String(1000))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    instance: Mapped[SignalInstance] = relationship(back_populates="changes")
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])


class AuditStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return {"open": "进行中", "closed": "已结束"}[self.value]


class FindingKind(enum.StrEnum):
    CONFORMING = "conforming"
    PROBLEM = "problem"

    @property
    def label(self) -> str:
        return {"conforming": "符合要求", "problem": "发现问题"}[self.value]


class SamplingAudit(db.Model):
    """抽查 — a reproducible random sample of one agency's certificates issued in a period."""

    __tablename__ = "sampling_audits"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id"), index=True)
    # A county official samples the certificates of batches held in the county; None: the whole city.
    county_code: Mapped[str | None] = mapped_column(sa.ForeignKey("counties.code"), index=True)
    period_from: Mapped[date]
    period_to: Mapped[date]
    sample_size: Mapped[int]
    # Recorded so anyone can draw the same sample again from the same candidates (random.Random(seed)).
    seed: Mapped[int] = mapped_column(sa.BigInteger)
    population: Mapped[int]
    status: Mapped[AuditStatus] = mapped_column(enum_type(AuditStatus), default=AuditStatus.OPEN)
    summary: Mapped[str | None] = mapped_column(sa.String(2000))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    agency: Mapped[Agency] = relationship()
    created_by: Mapped[User | None] = relationship()
    items: Mapped[list["AuditItem"]] = relationship(back_populates="audit", order_by="AuditItem.position")

    __table_args__ = (
        sa.CheckConstraint("period_to >= period_from", name="period_order"),
        sa.CheckConstraint("sample_size > 0", name="sample_size_positive"),
    )


class AuditItem(db.Model):
    """抽查项 — one sampled certificate, the official's finding and the agency's answer."""

    __tablename__ = "audit_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    audit_id: Mapped[int] = mapped_column(sa.ForeignKey("sampling_audits.id"), index=True)
    position: Mapped[int]
    certificate_id: Mapped[int] = mapped_column(sa.ForeignKey("certificates.id"))
    finding: Mapped[FindingKind | None] = mapped_column(enum_type(FindingKind))
    finding_note: Mapped[str | None] = mapped_column(sa.String(1000))
    answer: Mapped[str | None] = mapped_column(sa.String(1000))
    answered_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    audit: Mapped[SamplingAudit] = relationship(back_populates="items")
    certificate: Mapped[Certificate] = relationship()

    __table_args__ = (sa.UniqueConstraint("audit_id", "certificate_id"),)


class SupervisionOutcome(enum.StrEnum):
    NORMAL = "normal"
    WARNED = "warned"
    SUSPENDED = "suspended"

    @property
    def label(self) -> str:
        return {"normal": "正常", "warned": "警告", "suspended": "暂停"}[self.value]


class SupervisionRecord(db.Model):
    """督导记录 — a visit to an agency: what was found, the deadline for correction, the status it left."""

    __tablename__ = "supervision_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id"), index=True)
    visited_on: Mapped[date]
    findings: Mapped[str] = mapped_column(sa.String(2000))
    correction_due_on: Mapped[date | None]
    outcome: Mapped[SupervisionOutcome] = mapped_column(enum_type(SupervisionOutcome))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    agency: Mapped[Agency] = relationship()
    created_by: Mapped[User | None] = relationship()


class Assessor(db.Model):
    """考评员 — a registered assessor on one agency's roster; the ID number is kept only masked and hashed."""

    __tablename__ = "assessors"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(60))
    document_masked: Mapped[str] = mapped_column(sa.String(40))
    # Keyed hash of the number: the same person twice on one roster is refused without storing the number.
    document_hash: Mapped[str] = mapped_column(sa.String(64))
    certificate_number: Mapped[str] = mapped_column(sa.String(40))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    agency: Mapped[Agency] = relationship()
    scopes: Mapped[list["AssessorScope"]] = relationship(back_populates="assessor", order_by="AssessorScope.id")

    __table_args__ = (sa.UniqueConstraint("agency_id", "document_hash"),)

    def covers(self, occupation_id: int, level: int) -> bool:
        return any(scope.occupation_id == occupation_id and scope.highest_level <= level <= scope.lowest_level
                   for scope in self.scopes)


class AssessorScope(db.Model):
    """考评范围 — an occupation and level range one assessor may assess."""

    __tablename__ = "assessor_scopes"

    id: Mapped[int] = mapped_column(primary_key=True)
    assessor_id: Mapped[int] = mapped_column(sa.ForeignKey("assessors.id"), index=True)
    occupation_id: Mapped[int] = mapped_column(sa.ForeignKey("occupations.id"))
    lowest_level: Mapped[int]
    highest_level: Mapped[int]

    assessor: Mapped[Assessor] = relationship(back_populates="scopes")
    occupation: Mapped[Occupation] = relationship()

    __table_args__ = (
        sa.CheckConstraint("highest_level BETWEEN 1 AND 5 AND lowest_level BETWEEN 1 AND 5", name="level_digits"),
        sa.CheckConstraint("highest_level <= lowest_level", name="level_order"),
    )


class BatchAssessor(db.Model):
    """批次考评员 — an assessor of the roster who assessed one batch."""

    __tablename__ = "batch_assessors"

    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("assessment_batches.id"), primary_key=True)
    assessor_id: Mapped[int] = mapped_column(sa.ForeignKey("assessors.id"), primary_key=True, index=True)

    batch: Mapped[AssessmentBatch] = relationship()
    assessor: Mapped[Assessor] = relationship()
