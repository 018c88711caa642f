"""Persons known to the registry: trainees, candidates and certificate holders."""
import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.core.db import db, enum_type, utcnow
from registry.people.identity import DocumentType, Gender
from registry.reference.models import County


class KeyGroup(enum.IntFlag):
    """重点群体 — stored as bits of one integer so a roster row sets them in the same insert as the person."""

    RURAL_LABOUR = 1
    POVERTY_ALLEVIATED = 2
    VETERAN = 4
    GRADUATE = 8
    MIGRANT_WORKER = 16
    UNEMPLOYED = 32
    EMPLOYEE = 64
    STUDENT = 128
    DISABLED = 256

    @property
    def label(self) -> str:
        return KEY_GROUP_LABELS[self]


KEY_GROUP_LABELS = {
    KeyGroup.RURAL_LABOUR: "农村劳动力",
    KeyGroup.POVERTY_ALLEVIATED: "脱贫劳动力",
    KeyGroup.VETERAN: "退役军人",
    KeyGroup.GRADUATE: "高校毕业生",
    KeyGroup.MIGRANT_WORKER: "农民工",
    KeyGroup.UNEMPLOYED: "失业人员",
    KeyGroup.EMPLOYEE: "企业职工",
    KeyGroup.STUDENT: "在校生",
    KeyGroup.DISABLED: "残疾人",
}


class Person(db.Model):
    """人员 — one natural person, identified by an encrypted document number and its keyed hash."""

    __tablename__ = "persons"
    __table_args__ = (
        # Name search pages in name order: the page and its count read this index alone, never the rows.
        sa.Index("ix_persons_name_id", "name", "id"),
        # A county's people in name order, and a county's head count, from the index alone.
        sa.Index("ix_persons_county_name", "county_code", "name", "id"),
        # A search for part of a name (三字以上) finds its rows by trigram instead of reading every name.
        sa.Index(
            "ix_persons_name_trigrams",
            "name",
            postgresql_using="gin",
            postgresql_ops={"name": "gin_trgm_ops"},
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_type: Mapped[DocumentType] = mapped_column(enum_type(DocumentType))
    # Fernet token of the normalised number; the plain number is never stored (PIPL art. 51).
    document_cipher: Mapped[str] = mapped_column(sa.Text)
    # HMAC of type and number: exact look-up and de-duplication without decrypting.
    document_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    document_masked: Mapped[str] = mapped_column(sa.String(40))
    name: Mapped[str] = mapped_column(sa.String(60))
    gender: Mapped[Gender | None] = mapped_column(enum_type(Gender))
    birth_on: Mapped[date | None]
    # 户籍/工作所在县区 — the county statistics count this person in.
    county_code: Mapped[str] = mapped_column(sa.ForeignKey("counties.code"))
    phone: Mapped[str | None] = mapped_column(sa.String(20))
    key_groups: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    county: Mapped[County] = relationship()

    @property
    def groups(self) -> KeyGroup:
        return KeyGroup(self.key_groups)

    @property
    def group_labels(self) -> list[str]:
        return [group.label for group in KeyGroup if group in self.groups]


class PersonPhoto(db.Model):
    """持证人照片 — one uploaded photo; the newest is the person's current one.

    Rows are never changed or removed: an issued certificate names its photo by SHA-256, and a reprint must
    find the same bytes again.
    """

    __tablename__ = "person_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("persons.id"), index=True)
    sha256: Mapped[str] = mapped_column(sa.String(64), unique=True)
    content_type: Mapped[str] = mapped_column(sa.String(20))
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)
    width: Mapped[int]
    height: Mapped[int]
    uploaded_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
