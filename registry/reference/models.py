"""Reference data: counties, occupations, the plan's programs, labour brands, indicators and targets."""
import enum
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.core.db import db, enum_type

CITY_CODE = "410200"


class SkillLevel(enum.IntEnum):
    """职业技能等级 — the digit is the one printed in a certificate number (5 lowest, 1 highest)."""

    LEVEL_5 = 5
    LEVEL_4 = 4
    LEVEL_3 = 3
    LEVEL_2 = 2
    LEVEL_1 = 1

    @property
    def label(self) -> str:
        return LEVEL_LABELS[self]


LEVEL_LABELS = {5: "五级/初级工", 4: "四级/中级工", 3: "三级/高级工", 2: "二级/技师", 1: "一级/高级技师"}


def _level_spellings() -> dict[str, int]:
    """'3', '3级', '三级', '高级工', '高级' and '三级/高级工' all mean level 3."""
    spellings = {}
    for level, label in LEVEL_LABELS.items():
        grade, title = label.split("/")
        for spelling in (str(level), f"{level}级", label, grade, title, title.removesuffix("工")):
            spellings[spelling] = level
    return spellings


LEVEL_SPELLINGS = _level_spellings()


class DivisionKind(enum.StrEnum):
    CITY = "city"
    DISTRICT = "district"
    COUNTY = "county"


class County(db.Model):
    """县区 — an administrative division of Kaifeng by its GB/T 2260 code; retired codes point to their successor."""

    __tablename__ = "counties"

    code: Mapped[str] = mapped_column(sa.String(6), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(40))
    kind: Mapped[DivisionKind] = mapped_column(enum_type(DivisionKind))
    is_current: Mapped[bool] = mapped_column(default=True)
    successor_code: Mapped[str | None] = mapped_column(sa.ForeignKey("counties.code"))
    # 从业人员 — the denominator of coverage rates; no public per-county figure exists, so it is configured.
    employed_persons: Mapped[int | None]
    note: Mapped[str] = mapped_column(sa.String(200), default="")

    successor: Mapped["County | None"] = relationship(remote_side=[code])

    @property
    def current_code(self) -> str:
        return self.successor_code or self.code


class Occupation(db.Model):
    """职业 — an occupation of the 职业分类大典 (code d-dd-dd-dd, stored with the edition it comes from)."""

    __tablename__ = "occupations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(10))
    name: Mapped[str] = mapped_column(sa.String(60))
    edition: Mapped[int] = mapped_column(default=2022)
    # 工种/职业方向; empty means the occupation has none.
    work_types: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    # Levels that exist for this occupation, e.g. [5, 4, 3, 2, 1]; empty means not yet known (all accepted).
    levels: Mapped[list[int]] = mapped_column(sa.JSON, default=list)
    is_active: Mapped[bool] = mapped_column(default=True)
    confidence: Mapped[str] = mapped_column(sa.String(120), default="")
    source: Mapped[str] = mapped_column(sa.Text, default="")

    __table_args__ = (sa.UniqueConstraint("code", "edition"),)

    @property
    def allowed_levels(self) -> list[int]:
        return sorted(self.levels or [level.value for level in SkillLevel], reverse=True)

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class SpecialItem(db.Model):
    """专项职业能力项目 — an item of the 专项职业能力 catalogue: no 大典 code and no level (seed_data/special_items.csv)."""

    __tablename__ = "special_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    name: Mapped[str] = mapped_column(sa.String(60))
    source: Mapped[str] = mapped_column(sa.String(300), default="")
    is_active: Mapped[bool] = mapped_column(default=True)

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"


class Program(db.Model):
    """专项工程 — one of the plan's named skills programmes (开封制造, 宋都巧匠…)."""

    __tablename__ = "programs"

    key: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(40))
    focus: Mapped[str] = mapped_column(sa.String(80), default="")
    example_fields: Mapped[str] = mapped_column(sa.Text, default="")
    source: Mapped[str] = mapped_column(sa.String(200), default="")


class LabourBrand(db.Model):
    """劳务品牌 — a labour brand the plan promotes (开封数控, 汴梁大厨…)."""

    __tablename__ = "labour_brands"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(40), unique=True)
    county_code: Mapped[str] = mapped_column(sa.ForeignKey("counties.code"))
    source: Mapped[str] = mapped_column(sa.String(200), default="")

    county: Mapped[County] = relationship()


class Indicator(db.Model):
    """规划指标 — a figure the plan sets, with its unit and 2020 baseline as printed."""

    __tablename__ = "indicators"

    key: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    unit: Mapped[str] = mapped_column(sa.String(10))
    # "[ ]" in the plan: a sum over 2021–2025 rather than a level reached in 2025.
    is_cumulative: Mapped[bool] = mapped_column(default=False)
    baseline_2020: Mapped[str] = mapped_column(sa.String(60), default="")
    source: Mapped[str] = mapped_column(sa.String(200), default="")


class Target(db.Model):
    """目标 — the value an indicator should reach in a year, for the city (code 410200) or one county."""

    __tablename__ = "targets"

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_key: Mapped[str] = mapped_column(sa.ForeignKey("indicators.key"))
    county_code: Mapped[str] = mapped_column(sa.ForeignKey("counties.code"))
    year: Mapped[int]
    value: Mapped[Decimal] = mapped_column(sa.Numeric(14, 4))
    # The plan writes some targets as bounds (">60", ">=30").
    comparator: Mapped[str] = mapped_column(sa.String(2), default="=")

    indicator: Mapped[Indicator] = relationship()
    county: Mapped[County] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("indicator_key", "county_code", "year"),
        sa.CheckConstraint("comparator IN ('=', '>', '>=')", name="comparator"),
    )


class CountyEmployment(db.Model):
    """从业人员数（按年） — a county's (or the city's) employed persons in a year, with where the figure comes
    from: the denominator of 持证率 and 技能人才占比. No public per-county series exists, so the admin enters it."""

    __tablename__ = "county_employment"

    id: Mapped[int] = mapped_column(primary_key=True)
    county_code: Mapped[str] = mapped_column(sa.ForeignKey("counties.code"))
    year: Mapped[int]
    employed_persons: Mapped[int]
    source: Mapped[str] = mapped_column(sa.String(200))

    county: Mapped[County] = relationship()

    __table_args__ = (sa.UniqueConstraint("county_code", "year"),)
