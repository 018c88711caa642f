"""Registering persons and reading their document numbers: the only code that touches plain numbers."""
from datetime import date

import sqlalchemy as sa
from flask import current_app

from registry.core.audit import record_event
from registry.core.db import db
from registry.core.errors import InvalidInput
from registry.people.identity import (
    DocumentType, Gender, InvalidDocument, birth_date_from_resident_id, gender_from_resident_id, normalize_document,
)
from registry.people.masking import mask_document
from registry.people.models import Person
from registry.people.protection import DocumentProtector
from registry.reference.queries import resolve_county

STRUCTURED_TYPES = (DocumentType.RESIDENT_ID, DocumentType.HMT_RESIDENCE_PERMIT)


def protector() -> DocumentProtector:
    return current_app.extensions["document_protector"]


def checked_document(document_type: DocumentType, raw_number: str) -> str:
    try:
        return normalize_document(document_type, raw_number)
    except InvalidDocument as error:
        raise InvalidInput("document_number", f"证件号码：{error.message}") from None


def document_hash(document_type: DocumentType, number: str) -> str:
    return protector().lookup_hash(document_type.value, number)


def find_person(document_type: DocumentType, raw_number: str) -> Person | None:
    """Exact look-up through the keyed hash; the number is never compared in plain text."""
    number = checked_document(document_type, raw_number)
    return db.session.scalar(sa.select(Person).where(Person.document_hash == document_hash(document_type, number)))


def person_fields(person: Person) -> dict:
    """What the audit log may show of a person: the number masked, never plain."""
    return {
        "document_type": person.document_type.value,
        "document": person.document_masked,
        "name": person.name,
        "county_code": person.county_code,
        "key_groups": person.key_groups,
    }


def register_person(
    actor,
    document_type: DocumentType,
    document_number: str,
    name: str,
    county_code: str,
    gender: Gender | None = None,
    birth_on: date | None = None,
    phone: str | None = None,
    key_groups: int = 0,
) -> Person:
    number = checked_document(document_type, document_number)
    digest = document_hash(document_type, number)
    if db.session.scalar(sa.select(Person.id).where(Person.document_hash == digest)):
        raise InvalidInput("document_number", "证件号码：该人员已登记")
    name = (name or "").strip()
    if not name:
        raise InvalidInput("name", "姓名：不能为空")
    county = resolve_county(county_code or "")
    if county is None or county.kind == "city":
        raise InvalidInput("county_code", f"所在县区：未知的县区代码 {county_code or '（空）'}")
    if document_type is DocumentType.RESIDENT_ID:
        gender, birth_on = _consistent_with_number(number, gender, birth_on)
    person = Person(
        document_type=document_type, document_cipher=protector().encrypt(number), document_hash=digest,
        document_masked=mask_document(document_type, number), name=name, gender=gender, birth_on=birth_on,
        county_code=county.code, phone=(phone or "").strip() or None, key_groups=key_groups,
    )
    db.session.add(person)
    db.session.flush()
    record_event(actor, "create", "person", person.id, after=person_fields(person))
    return person


def _consistent_with_number(number: str, gender: Gender | None, birth_on: date | None):
    """A resident ID states sex and birth date; entered values must agree with it."""
    derived_gender, derived_birth = gender_from_resident_id(number), birth_date_from_resident_id(number)
    if gender is not None and gender is not derived_gender:
        raise InvalidInput("gender", f"性别：与身份证号码不符（号码为{derived_gender.label}性）")
    if birth_on is not None and birth_on != derived_birth:
        raise InvalidInput("birth_on", f"出生日期：与身份证号码不符（号码为 {derived_birth:%Y-%m-%d}）")
    return derived_gender, derived_birth


def reveal_document(actor, person: Person) -> str:
    """The full number, for a role that needs it; every reveal is logged (PIPL)."""
    record_event(actor, "reveal_document", "person", person.id, after={"document": person.document_masked})
    return protector().decrypt(person.document_cipher)
