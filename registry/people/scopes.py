"""Which persons a user may look up: the one place the people-registry scope rule lives.

A person belongs to no organisation, so the rule follows the records that tie them to one:
enrolments for institutions, results and certificates for agencies, and all of these plus the
county of record for county staff. EXISTS keeps each person once however many records match.
"""
import sqlalchemy as sa
from flask import abort

from registry.core.roles import Role
from registry.assessment.models import AssessmentBatch, AssessmentResult
from registry.certificates.models import Certificate
from registry.core.db import db
from registry.people.models import Person
from registry.training.models import Enrollment, TrainingClass


def _enrolled_in(*class_conditions) -> sa.Exists:
    return sa.exists().where(Enrollment.person_id == Person.id, Enrollment.class_id == TrainingClass.id,
                             *class_conditions)


def _assessed_in(*batch_conditions) -> sa.Exists:
    return sa.exists().where(AssessmentResult.person_id == Person.id,
                             AssessmentResult.batch_id == AssessmentBatch.id, *batch_conditions)


def _certified_in(*batch_conditions) -> sa.Exists:
    return sa.exists().where(Certificate.person_id == Person.id, Certificate.batch_id == AssessmentBatch.id,
                             *batch_conditions)


def readable_persons(user) -> sa.ColumnElement[bool]:
    """A WHERE clause on Person: the persons this user may find and open."""
    role = getattr(user, "role", None)
    if role is Role.ADMIN:
        return sa.true()
    if role is Role.COUNTY:
        county = user.county_code
        return sa.or_(
            Person.county_code == county,
            _enrolled_in(TrainingClass.county_code == county),
            _assessed_in(AssessmentBatch.county_code == county),
            _certified_in(AssessmentBatch.county_code == county),
        )
    if role is Role.INSTITUTION:
        return _enrolled_in(TrainingClass.institution_id == user.institution_id)
    if role is Role.AGENCY:
        # Imported certificates may have no batch, so the issuing agency is matched on the certificate itself.
        issued = sa.exists().where(Certificate.person_id == Person.id,
                                   Certificate.agency_id == user.agency_id)
        return sa.or_(_assessed_in(AssessmentBatch.agency_id == user.agency_id), issued)
    return sa.false()


def get_person_or_404(user, person_id: int) -> Person:
    """Outside the scope is 404, exactly like a missing id, so a guessed id reveals nothing."""
    person = db.session.scalar(sa.select(Person).where(Person.id == person_id, readable_persons(user)))
    if person is None:
        abort(404)
    return person
