"""Assessment batches (认定批次), their results, and the per-prefix serial counters for certificate numbers."""
import enum
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.core.db import db, enum_type, utcnow
from registry.organizations.models import Agency
from registry.people.models import Person
from registry.people.scopes import person_tie
from registry.reference.models import LEVEL_LABELS, County, Occupation, SpecialItem
from registry.training.models import TrainingClass


class BatchStatus(enum.StrEnum):
    PLANNED = "planned"
    RESULTS_ENTERED = "results_entered"
    APPROVED = "approved"
    ISSUED = "issued"

    @property
    def label(self) -> str:
        return {"planned": "计划中", "results_entered": "已录入成绩", "approved": "已审核", "issued": "已发证"}[
            self.value
        ]


class AssessmentBatch(db.Model):
    """认定批次 — one recognition session of an agency: an occupation at a level, or (专项职业能力考核) one item of
    the 专项职业能力 catalogue, which has neither occupation nor level."""

    __tablename__ = "assessment_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id"), index=True)
    occupation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("occupations.id"))
    work_type: Mapped[str | None] = mapped_column(sa.String(60))
    level: Mapped[int | None]
    special_item_id: Mapped[int | None] = mapped_column(sa.ForeignKey("special_items.id"))
    assessed_on: Mapped[date]
    assessed_until: Mapped[date | None]
    county_code: Mapped[str] = mapped_column(sa.ForeignKey("counties.code"))
    training_class_id: Mapped[int | None] = mapped_column(sa.ForeignKey("training_classes.id"))
    status: Mapped[BatchStatus] = mapped_column(enum_type(BatchStatus), default=BatchStatus.PLANNED)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    approved_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    issued_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    agency: Mapped[Agency] = relationship()
    occupation: Mapped[Occupation | None] = relationship()
    special_item: Mapped[SpecialItem | None] = relationship()
    county: Mapped[County] = relationship()
    training_class: Mapped[TrainingClass | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint("level IS NULL OR level BETWEEN 1 AND 5", name="level_digit"),
        # Either an occupation at a level, or a 专项 item without either.
        sa.CheckConstraint("(special_item_id IS NULL AND occupation_id IS NOT NULL AND level IS NOT NULL)"
                           " OR (special_item_id IS NOT NULL AND occupation_id IS NULL AND level IS NULL)",
                           name="occupation_or_item"),
        sa.CheckConstraint("assessed_until IS NULL OR assessed_until >= assessed_on", name="date_order"),
        # The batch list's orders, each ending on the id the pager breaks ties with (core/listing.py).
        sa.Index("ix_assessment_batches_assessed_on", "assessed_on", "id"),
        sa.Index("ix_assessment_batches_level", "level", "id"),
        sa.Index("ix_assessment_batches_status", "status", "id"),
    )

    @property
    def is_special(self) -> bool:
        return self.special_item_id is not None

    @property
    def level_label(self) -> str:
        return LEVEL_LABELS[self.level] if self.level is not None else "不分等级"

    @property
    def subject(self) -> str:
        """What is assessed, as pages name it: the occupation (and 工种), or the 专项 item."""
        if self.special_item is not None:
            return f"专项职业能力：{self.special_item.name}"
        return self.occupation.name + (f"（{self.work_type}）" if self.work_type else "")


class AssessmentResult(db.Model):
    """认定成绩 — one candidate's scores in a batch; pass/fail follows the configured pass marks."""

    __tablename__ = "assessment_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("assessment_batches.id"))
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("persons.id"), index=True)
    theory_score: Mapped[Decimal | None] = mapped_column(sa.Numeric(5, 2))
    practical_score: Mapped[Decimal | None] = mapped_column(sa.Numeric(5, 2))
    # 综合评审 — only for 二级 and 一级.
    review_score: Mapped[Decimal | None] = mapped_column(sa.Numeric(5, 2))
    is_passed: Mapped[bool] = mapped_column(default=False)
    remarks: Mapped[str] = mapped_column(sa.String(200), default="")
    # 重复认定原因 — why a person already holding (or due) this occupation's certificate at this level may pass
    # again (registry/assessment/awards.py); empty for everyone else. Audited when given.
    repeat_reason: Mapped[str | None] = mapped_column(sa.String(200))
    # 申报条件例外原因 — why a candidate who meets no eligibility route (registry/assessment/eligibility.py) was
    # assessed anyway; recorded by the agency, audited, and listed to officials on the batch page.
    eligibility_exception: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    batch: Mapped[AssessmentBatch] = relationship()
    person: Mapped[Person] = relationship()
    # The certificate issued on this result, for the batch page. Named, not imported: certificates sit above
    # assessment (registry/certificates/models.py maps the class and writes the link, Certificate.result_id).
    certificate = relationship("Certificate", primaryjoin="Certificate.result_id == AssessmentResult.id",
                               foreign_keys="Certificate.result_id", viewonly=True, uselist=False)

    __table_args__ = (
        sa.UniqueConstraint("batch_id", "person_id"),
        sa.CheckConstraint(
            "(theory_score IS NULL OR theory_score BETWEEN 0 AND 100)"
            " AND (practical_score IS NULL OR practical_score BETWEEN 0 AND 100)"
            " AND (review_score IS NULL OR review_score BETWEEN 0 AND 100)",
            name="score_range",
        ),
    )


class EligibilityRule(db.Model):
    """申报条件 — who may be assessed at one level; meeting any one route suffices. No row: no rule is checked.

    The routes follow the general part of the national occupational standards (国家职业技能标准): the certificate
    one level below held for some years, years of work in the occupation, or a qualifying education (学历).
    The city sets them (`registry eligibility set`), since each occupation's standard may differ.
    """

    __tablename__ = "eligibility_rules"

    level: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    # Years since the certificate of the same occupation one level below (level + 1) was issued.
    previous_level_years: Mapped[int | None]
    work_years: Mapped[int | None]  # years of work in the occupation (从事本职业年限, a column of the results file)
    education: Mapped[str] = mapped_column(sa.String(200), default="")  # 学历 that qualify alone, "、"-separated
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    __table_args__ = (sa.CheckConstraint("level BETWEEN 1 AND 5", name="level_digit"),)

    @property
    def educations(self) -> list[str]:
        return [part for part in self.education.split("、") if part]


class CertificateSerial(db.Model):
    """证书流水号 — the last serial used per (agency, year, level); incremented under a row lock at issue.

    专项职业能力证书 have no level: their counter is the row of level 0 (numbering.SPECIAL_SERIAL_LEVEL).
    """

    __tablename__ = "certificate_serials"

    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id"), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    level: Mapped[int] = mapped_column(primary_key=True)
    last_serial: Mapped[int] = mapped_column(default=0)


# The people scope rule (registry/people/scopes.py): persons with a result in a batch of the county or agency.
ASSESSED = person_tie(
    __name__, lambda condition: sa.exists().where(AssessmentResult.person_id == Person.id,
                                                  AssessmentResult.batch_id == AssessmentBatch.id, condition),
    county=lambda user: AssessmentBatch.county_code == user.county_code,
    agency=lambda user: AssessmentBatch.agency_id == user.agency_id)
