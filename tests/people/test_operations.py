"""Registering persons: encryption at rest, keyed look-up, masking, consistency with the ID number."""
from datetime import date

import pytest
import sqlalchemy as sa

from registry.core.audit import AuditEvent
from registry.core.db import db
from registry.core.errors import InvalidInput
from registry.people.identity import DocumentType, Gender
from registry.people.models import KeyGroup, Person
from registry.people.operations import find_person, register_person, reveal_document

ID_NUMBER = "11010519491231002X"


def register(number=ID_NUMBER, **overrides):
    values = {"document_type": DocumentType.RESIDENT_ID, "document_number": number, "name": "张三明",
              "county_code": "410221"} | overrides
    person = register_person(None, **values)
    db.session.commit()
    return person


def test_registered_person_is_found_by_any_spelling_of_the_number(app):
    person = register(key_groups=KeyGroup.RURAL_LABOUR | KeyGroup.VETERAN)
    assert find_person(DocumentType.RESIDENT_ID, " １１０１０５１９４９１２３１００２x ").id == person.id
    assert person.gender is Gender.FEMALE and person.birth_on == date(1949, 12, 31)
    assert person.document_masked == "110105********002X"
    assert person.group_labels == ["农村劳动力", "退役军人"]


def test_database_never_holds_the_plain_number(app):
    register()
    register(number="440524188001010014", name="李四")
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(sa.select(table)).mappings():
            flat = " ".join(str(value) for value in row.values())
            assert ID_NUMBER not in flat and "440524188001010014" not in flat, table.name


def test_reveal_decrypts_and_is_audited(app):
    person = register()
    assert reveal_document(None, person) == ID_NUMBER
    db.session.commit()
    actions = db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.entity_id == str(person.id))).all()
    assert actions == ["create", "reveal_document"]


def test_audit_row_masks_the_number(app):
    person = register()
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.entity_type == "person"))
    assert event.after["document"] == person.document_masked and ID_NUMBER not in str(event.after)


def test_retired_county_code_counts_in_its_successor(app):
    assert register(county_code="410224").county_code == "410212"


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"number": "110105194912310021"}, "document_number", "校验码"),
    ({"name": "  "}, "name", "姓名：不能为空"),
    ({"county_code": "999999"}, "county_code", "未知的县区代码 999999"),
    ({"gender": Gender.MALE}, "gender", "性别：与身份证号码不符"),
    ({"birth_on": date(1950, 1, 1)}, "birth_on", "出生日期：与身份证号码不符"),
])
def test_bad_input_names_field_and_writes_nothing(app, overrides, field, message):
    with pytest.raises(InvalidInput) as caught:
        register(**overrides)
    db.session.rollback()
    assert caught.value.field == field and message in caught.value.message
    assert db.session.scalar(sa.select(sa.func.count(Person.id))) == 0


def test_same_person_cannot_register_twice(app):
    register()
    with pytest.raises(InvalidInput, match="该人员已登记"):
        register(number="110105194912310 02x")


def test_passport_numbers_are_opaque_but_protected(app):
    person = register(document_type=DocumentType.PASSPORT, number="e1234 5678")
    assert person.document_masked == "E1*****78" and person.gender is None
    assert find_person(DocumentType.PASSPORT, "E12345678").id == person.id
    assert find_person(DocumentType.OTHER, "E12345678") is None
