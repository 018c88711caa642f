"""Organisations that do the work: recognition agencies with their filed scope, and training institutions."""
import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.core.db import db, enum_type, utcnow
from registry.reference.models import County, Occupation, SpecialItem


class AgencyType(enum.StrEnum):
    EMPLOYER = "Y"
    SOCIAL = "S"

    @property
    def label(self) -> str:
        return {"Y": "用人单位", "S": "社会培训评价组织"}[self.value]


class AgencyStatus(enum.StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return {"active": "正常", "suspended": "暂停", "withdrawn": "已撤销备案"}[self.value]


class Agency(db.Model):
    """评价机构 — a filed skills-recognition agency (职业技能等级认定备案机构)."""

    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Printed on certificates exactly as filed: never normalise it.
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    agency_type: Mapped[AgencyType] = mapped_column(enum_type(AgencyType))
    # 人社部 agency code; "0000" for agencies filed with the province.
    ministry_code: Mapped[str] = mapped_column(sa.String(4), default="0000")
    # The provincial site sequence code (6 digits) that appears in every certificate number.
    site_code: Mapped[str] = mapped_column(sa.String(6), unique=True)
    filing_number: Mapped[str] = mapped_column(sa.String(60))
    # 统一社会信用代码 (GB 32100), printed on certificates; agencies filed before it was asked for have none.
    credit_code: Mapped[str | None] = mapped_column(sa.String(18))
    filed_on: Mapped[date]
    county_code: Mapped[str] = mapped_column(sa.ForeignKey("counties.code"))
    status: Mapped[AgencyStatus] = mapped_column(enum_type(AgencyStatus), default=AgencyStatus.ACTIVE)
    # 警告: supervision (督导, registry/oversight/) found problems to correct; the agency still works meanwhile.
    is_warned: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    county: Mapped[County] = relationship()
    scopes: Mapped[list["AgencyScope"]] = relationship(
        back_populates="agency", cascade="all, delete-orphan", order_by="AgencyScope.id"
    )
    special_filings: Mapped[list["AgencySpecialItem"]] = relationship(
        back_populates="agency", cascade="all, delete-orphan", order_by="AgencySpecialItem.special_item_id"
    )

    __table_args__ = (
        sa.CheckConstraint("length(ministry_code) = 4", name="ministry_code_length"),
        sa.CheckConstraint("length(site_code) = 6", name="site_code_length"),
    )

    @property
    def standing_label(self) -> str:
        """正常 / 警告 / 暂停 / 已撤销备案: the status with the supervision warning folded in, as published."""
        return "警告" if self.status is AgencyStatus.ACTIVE and self.is_warned else self.status.label

    @property
    def number_prefix(self) -> str:
        """The first 13 characters of every certificate number this agency issues (人社鉴发〔2019〕2号)."""
        return f"{self.agency_type.value}{self.ministry_code}41{self.site_code}"

    def covers(self, occupation_id: int, work_type: str | None, level: int, on: date) -> bool:
        return any(scope.covers(occupation_id, work_type, level, on) for scope in self.scopes)

    def files_special_item(self, special_item_id: int) -> bool:
        """Whether the agency is filed for this 专项职业能力 item (it may assess and issue nothing else of them)."""
        return any(filing.special_item_id == special_item_id for filing in self.special_filings)


class AgencyScope(db.Model):
    """备案范围 — one line of an agency's filed scope: an occupation (and 工种), a level range, a validity period."""

    __tablename__ = "agency_scopes"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id"), index=True)
    occupation_id: Mapped[int] = mapped_column(sa.ForeignKey("occupations.id"))
    # None: every 工种 of the occupation.
    work_type: Mapped[str | None] = mapped_column(sa.String(60))
    # Level digits run backwards (5 = 初级工, 1 = 高级技师): lowest_level >= highest_level.
    lowest_level: Mapped[int]
    highest_level: Mapped[int]
    valid_from: Mapped[date]
    valid_to: Mapped[date | None]

    agency: Mapped[Agency] = relationship(back_populates="scopes")
    occupation: Mapped[Occupation] = relationship()

    __table_args__ = (
        sa.CheckConstraint("highest_level BETWEEN 1 AND 5 AND lowest_level BETWEEN 1 AND 5", name="level_digits"),
        sa.CheckConstraint("highest_level <= lowest_level", name="level_order"),
        sa.CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="validity_order"),
    )

    def covers(self, occupation_id: int, work_type: str | None, level: int, on: date) -> bool:
        return (
            self.occupation_id == occupation_id
            and (self.work_type is None or self.work_type == work_type)
            and self.highest_level <= level <= self.lowest_level
            and self.valid_from <= on
            and (self.valid_to is None or on <= self.valid_to)
        )


class AgencySpecialItem(db.Model):
    """专项职业能力备案 — an agency filed for one 专项职业能力 item: it may assess and issue that item only."""

    __tablename__ = "agency_special_items"

    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id"), primary_key=True)
    special_item_id: Mapped[int] = mapped_column(sa.ForeignKey("special_items.id"), primary_key=True)
    filed_on: Mapped[date]

    agency: Mapped[Agency] = relationship(back_populates="special_filings")
    special_item: Mapped[SpecialItem] = relationship()


class InstitutionKind(enum.StrEnum):
    TECHNICIAN_COLLEGE = "technician_college"
    VOCATIONAL_COLLEGE = "vocational_college"
    PRIVATE_SCHOOL = "private_school"
    ENTERPRISE_CENTRE = "enterprise_centre"
    OTHER = "other"

    @property
    def label(self) -> str:
        return INSTITUTION_KIND_LABELS[self]


INSTITUTION_KIND_LABELS = {
    "technician_college": "技工院校",
    "vocational_college": "职业院校",
    "private_school": "民办培训机构",
    "enterprise_centre": "企业培训中心",
    "other": "其他",
}


class TrainingInstitution(db.Model):
    """培训机构 — an institution that runs training classes."""

    __tablename__ = "training_institutions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    # 统一社会信用代码 (GB 32100), check character validated on entry.
    credit_code: Mapped[str] = mapped_column(sa.String(18), unique=True)
    kind: Mapped[InstitutionKind] = mapped_column(enum_type(InstitutionKind))
    county_code: Mapped[str] = mapped_column(sa.ForeignKey("counties.code"))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    county: Mapped[County] = relationship()
