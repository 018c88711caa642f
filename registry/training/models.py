"""Training classes and the persons enrolled in them."""
import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.core.db import db, enum_type, utcnow
from registry.organizations.models import TrainingInstitution
from registry.people.models import Person
from registry.people.scopes import person_tie
from registry.reference.models import County, Occupation, Program


class TrainingType(enum.StrEnum):
    EMPLOYMENT = "employment"
    UPSKILLING = "upskilling"
    ENTREPRENEURSHIP = "entrepreneurship"
    APPRENTICESHIP = "apprenticeship"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            "employment": "就业技能培训",
            "upskilling": "岗位技能提升培训",
            "entrepreneurship": "创业培训",
            "apprenticeship": "企业新型学徒制",
            "other": "其他",
        }[self.value]


class ClassStatus(enum.StrEnum):
    PLANNED = "planned"
    RUNNING = "running"
    FINISHED = "finished"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return {"planned": "计划中", "running": "进行中", "finished": "已结束", "closed": "已关闭"}[self.value]


class TrainingClass(db.Model):
    """培训班 — a class an institution runs for one occupation."""

    __tablename__ = "training_classes"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(sa.ForeignKey("training_institutions.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    occupation_id: Mapped[int] = mapped_column(sa.ForeignKey("occupations.id"))
    work_type: Mapped[str | None] = mapped_column(sa.String(60))
    target_level: Mapped[int | None]
    training_type: Mapped[TrainingType] = mapped_column(enum_type(TrainingType))
    program_key: Mapped[str | None] = mapped_column(sa.ForeignKey("programs.key"))
    is_subsidised: Mapped[bool] = mapped_column(default=False)
    planned_hours: Mapped[int]
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    # Where the class takes place: training statistics count per class county.
    county_code: Mapped[str] = mapped_column(sa.ForeignKey("counties.code"), index=True)
    status: Mapped[ClassStatus] = mapped_column(enum_type(ClassStatus), default=ClassStatus.PLANNED)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    institution: Mapped[TrainingInstitution] = relationship()
    occupation: Mapped[Occupation] = relationship()
    program: Mapped[Program | None] = relationship()
    county: Mapped[County] = relationship()

    __table_args__ = (
        sa.CheckConstraint("ends_on >= starts_on", name="date_order"),
        sa.CheckConstraint("planned_hours > 0", name="planned_hours_positive"),
        sa.CheckConstraint("target_level IS NULL OR target_level BETWEEN 1 AND 5", name="target_level_digit"),
        # The class list's orders, each ending on the id the pager breaks ties with (core/listing.py).
        sa.Index("ix_training_classes_starts_on", "starts_on", "id"),
        sa.Index("ix_training_classes_name", "name", "id"),
        sa.Index("ix_training_classes_status", "status", "id"),
    )


class EnrollmentStatus(enum.StrEnum):
    ENROLLED = "enrolled"
    COMPLETED = "completed"
    DROPPED = "dropped"

    @property
    def label(self) -> str:
        return {"enrolled": "在训", "completed": "已结业", "dropped": "已退出"}[self.value]


class Enrollment(db.Model):
    """参训记录 — one person in one class (a person in two classes is two 人次)."""

    __tablename__ = "enrollments"

    id: Mapped[int] = mapped_column(primary_key=True)
    class_id: Mapped[int] = mapped_column(sa.ForeignKey("training_classes.id"))
    # The class's county, stored with each enrolment so that a county's trainee list and its count walk one
    # index (#17); every writer fills it and update_class moves it with the class.
    class_county_code: Mapped[str | None] = mapped_column(sa.String(6))
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("persons.id"), index=True)
    enrolled_on: Mapped[date]
    status: Mapped[EnrollmentStatus] = mapped_column(enum_type(EnrollmentStatus), default=EnrollmentStatus.ENROLLED)
    completed_on: Mapped[date | None]
    attended_hours: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    training_class: Mapped[TrainingClass] = relationship()
    person: Mapped[Person] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("class_id", "person_id"),
        # The trainee list's orders, each ending on the id the pager breaks ties with (core/listing.py);
        # (class_id, id) lets the list sorted by class walk classes by name and each class's trainees in turn.
        sa.Index("ix_enrollments_enrolled_on", "enrolled_on", "id"),
        sa.Index("ix_enrollments_status", "status", "id"),
        sa.Index("ix_enrollments_class_id", "class_id", "id"),
        sa.Index("ix_enrollments_class_county", "class_county_code", "enrolled_on", "id"),
    )


# The people scope rule (registry/people/scopes.py): persons enrolled in a class of the county or institution.
ENROLLED = person_tie(
    __name__, lambda condition: sa.exists().where(Enrollment.person_id == Person.id,
                                                  Enrollment.class_id == TrainingClass.id, condition),
    county=lambda user: TrainingClass.county_code == user.county_code,
    institution=lambda user: TrainingClass.institution_id == user.institution_id)
