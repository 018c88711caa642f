"""Which persons a user may look up: the people-registry scope rule, composed of the areas' ties.

A person belongs to no organisation, so the rule follows the records that tie them to one: enrolments for
institutions, results and certificates for agencies, all of these plus the county of record for county staff.
Those records belong to areas above this one; each declares its tie here with person_tie(), beside its models
(training, assessment and certificates models.py), so the rule needs no upward import. EXISTS keeps each person
once however many records match. A tie that is not loaded narrows the rule, never widens it.
"""
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from flask import abort

from registry.core.db import db
from registry.core.roles import Role
from registry.people.models import Person

@dataclass(frozen=True)
class PersonTie:
    """How one area's records tie a person to a user: `records(condition)` is an EXISTS over those records of the
    person that meet `condition`, and `by_role[role](user)` the condition for that role's user."""

    module: str
    records: Callable[[sa.ColumnElement[bool]], sa.ColumnElement[bool]]
    by_role: dict[Role, Callable[[object], sa.ColumnElement[bool]]]

    def clause(self, user) -> sa.ColumnElement[bool] | None:
        condition = self.by_role.get(getattr(user, "role", None))
        return None if condition is None else self.records(condition(user))


TIES: list[PersonTie] = []


def person_tie(module: str, records, **by_role) -> PersonTie:
    """Declare an area's tie (by_role keyed by role value: county=…, institution=…, agency=…)."""
    tie = PersonTie(module, records, {Role(role): condition for role, condition in by_role.items()})
    TIES.append(tie)
    return tie


def readable_persons(user) -> sa.ColumnElement[bool]:
    """A WHERE clause on Person: the persons this user may find and open."""
    role = getattr(user, "role", None)
    if role is Role.ADMIN:
        return sa.true()
    if role not in (Role.COUNTY, Role.INSTITUTION, Role.AGENCY):
        return sa.false()
    clauses = [clause for tie in TIES if (clause := tie.clause(user)) is not None]
    if role is Role.COUNTY:
        clauses.insert(0, Person.county_code == user.county_code)
    return sa.or_(*clauses) if clauses else sa.false()


def get_person_or_404(user, person_id: int) -> Person:
    """Outside the scope is 404, exactly like a missing id, so a guessed id reveals nothing."""
    person = db.session.scalar(sa.select(Person).where(Person.id == person_id, readable_persons(user)))
    if person is None:
        abort(404)
    return person
