"""Tests for the people-registry scope rule: which persons each role may find and open."""
from datetime import date

import pytest
import sqlalchemy as sa
from werkzeug.exceptions import NotFound

from registry.core.roles import Role
from registry.assessment.models import AssessmentBatch, AssessmentResult
from registry.certificates.models import Certificate, CertificateKind
from registry.core.db import db
from registry.people.models import Person
from registry.people.scopes import get_person_or_404, readable_persons
from registry.reference.models import Occupation
from registry.training.operations import enroll_person

WELDER = "6-18-02-04"


# Assessment and certificate operations come with a later issue; until then these rows are built directly.
def add_batch(agency, county_code: str = "410221", level: int = 5) -> AssessmentBatch:
    welder = db.session.scalar(sa.select(Occupation.id).where(Occupation.code == WELDER))
    batch = AssessmentBatch(agency_id=agency.id, occupation_id=welder, level=level,
                            assessed_on=date(2025, 5, 10), county_code=county_code)
    db.session.add(batch)
    db.session.flush()
    return batch


def add_result(batch, person, passed: bool = True, theory: str = "78.5",
               practical: str = "66") -> AssessmentResult:
    result = AssessmentResult(batch_id=batch.id, person_id=person.id, theory_score=theory,
                              practical_score=practical, is_passed=passed, remarks="")
    db.session.add(result)
    db.session.flush()
    return result


def add_certificate(person, agency=None, batch=None, number: str = "S000041800001255000001",
                    kind: CertificateKind = CertificateKind.SKILL_LEVEL) -> Certificate:
    welder = db.session.scalar(sa.select(Occupation.id).where(Occupation.code == WELDER))
    certificate = Certificate(number=number, kind=kind, person_id=person.id,
                              agency_id=agency.id if agency else None, batch_id=batch.id if batch else None,
                              occupation_id=welder, level=5, issued_on=date(2025, 6, 1), snapshot={},
                              is_imported=batch is None)
    db.session.add(certificate)
    db.session.flush()
    return certificate


@pytest.fixture
def world(make_institution, make_class, make_person, make_agency, make_user):
    """Persons tied to 杞县 (410221) in each possible way, and some tied elsewhere."""
    first, second = make_institution(), make_institution()
    agency, other_agency, idle_agency = make_agency(), make_agency(), make_agency()
    qixian_class = make_class(first, county_code="410221")
    tongxu_class = make_class(second, county_code="410222")
    persons = {
        "lives_in_qixian": make_person(county_code="410221"),
        "trained_in_qixian": make_person(county_code="410222"),
        "trained_elsewhere": make_person(county_code="410222"),
        "assessed_in_qixian": make_person(county_code="410223"),
        "certified_in_qixian": make_person(county_code="410225"),
        "imported_certificate": make_person(county_code="410225"),
        "assessed_elsewhere": make_person(county_code="410223"),
    }
    enroll_person(None, qixian_class, persons["trained_in_qixian"])
    enroll_person(None, tongxu_class, persons["trained_elsewhere"])
    qixian_batch = add_batch(agency, county_code="410221")
    add_result(qixian_batch, persons["assessed_in_qixian"])
    # A certificate with no result of its own still ties its holder to the batch's county and agency.
    add_certificate(persons["certified_in_qixian"], agency, qixian_batch, number="S000041800001255000002")
    add_certificate(persons["imported_certificate"], agency, number="1541000000000001",
                    kind=CertificateKind.QUALIFICATION)
    add_result(add_batch(other_agency, county_code="410223"), persons["assessed_elsewhere"])
    db.session.commit()
    users = {
        "admin": make_user(Role.ADMIN),
        "qixian": make_user(Role.COUNTY, county_code="410221"),
        "tongxu": make_user(Role.COUNTY, county_code="410222"),
        "first": make_user(Role.INSTITUTION, organization_id=first.id),
        "second": make_user(Role.INSTITUTION, organization_id=second.id),
        "agency": make_user(Role.AGENCY, organization_id=agency.id),
        "other_agency": make_user(Role.AGENCY, organization_id=other_agency.id),
        "idle_agency": make_user(Role.AGENCY, organization_id=idle_agency.id),
    }
    return persons, users


def visible(user, persons) -> set[str]:
    ids = set(db.session.scalars(sa.select(Person.id).where(readable_persons(user))))
    return {name for name, person in persons.items() if person.id in ids}


@pytest.mark.parametrize(("user", "expected"), [
    ("admin", {"lives_in_qixian", "trained_in_qixian", "trained_elsewhere", "assessed_in_qixian",
               "certified_in_qixian", "imported_certificate", "assessed_elsewhere"}),
    ("qixian", {"lives_in_qixian", "trained_in_qixian", "assessed_in_qixian", "certified_in_qixian"}),
    ("tongxu", {"trained_in_qixian", "trained_elsewhere"}),
    ("first", {"trained_in_qixian"}),
    ("second", {"trained_elsewhere"}),
    ("agency", {"assessed_in_qixian", "certified_in_qixian", "imported_certificate"}),
    ("other_agency", {"assessed_elsewhere"}),
    ("idle_agency", set()),
])
def test_each_role_sees_its_persons(world, user, expected):
    persons, users = world
    assert visible(users[user], persons) == expected


def test_a_person_with_many_records_is_listed_once(world, make_class):
    persons, users = world
    person = persons["trained_in_qixian"]
    enroll_person(None, make_class(county_code="410221"), person)
    db.session.commit()
    rows = db.session.scalars(sa.select(Person.id).where(readable_persons(users["qixian"]))).all()
    assert rows.count(person.id) == 1


def test_loader_returns_a_person_in_scope(world):
    persons, users = world
    person = persons["trained_in_qixian"]
    assert get_person_or_404(users["first"], person.id) is person


@pytest.mark.parametrize(("user", "person"), [
    ("first", "trained_elsewhere"), ("qixian", "assessed_elsewhere"), ("idle_agency", "assessed_in_qixian"),
])
def test_loader_refuses_a_person_outside_the_scope_like_a_missing_one(world, user, person):
    persons, users = world
    with pytest.raises(NotFound):
        get_person_or_404(users[user], persons[person].id)
    with pytest.raises(NotFound):
        get_person_or_404(users["admin"], 999_999)


def test_an_anonymous_caller_sees_nobody(world):
    persons, _ = world
    assert visible(None, persons) == set()


def test_every_area_that_ties_a_person_to_an_organisation_declares_its_tie(app):
    """The scope rule is composed of the ties of training, assessment and certificates (registry/people/scopes.py):
    a tie left unloaded would silently narrow what county, institution and agency users can find."""
    from registry.people.scopes import TIES

    assert {tie.module for tie in TIES} == {
        "registry.training.models", "registry.assessment.models", "registry.certificates.models"}
