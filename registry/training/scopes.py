"""Who may read and write which training classes: the one place the training scope rule lives."""
import sqlalchemy as sa
from flask import abort

from registry.core.roles import Role
from registry.core.db import db
from registry.core.errors import Forbidden
from registry.organizations.models import AgencyScope
from registry.training.models import Enrollment, TrainingClass


def readable_enrollments(user) -> sa.ColumnElement[bool]:
    """A WHERE clause on Enrollment: the enrolments in the classes this user may see; a county's read by the
    class's county stored on each enrolment (one index walk, #17)."""
    role = getattr(user, "role", None)
    if role is Role.ADMIN:
        return sa.true()
    if role is Role.COUNTY:
        return Enrollment.class_county_code == user.county_code
    return Enrollment.class_id.in_(sa.select(TrainingClass.id).where(readable_classes(user)))


def readable_classes(user) -> sa.ColumnElement[bool]:
    """A WHERE clause on TrainingClass: the classes this user may see."""
    role = getattr(user, "role", None)
    if role is Role.ADMIN:
        return sa.true()
    if role is Role.INSTITUTION:
        return TrainingClass.institution_id == user.institution_id
    if role is Role.COUNTY:
        return TrainingClass.county_code == user.county_code
    return sa.false()


def may_read(user, training_class: TrainingClass) -> bool:
    role = getattr(user, "role", None)
    return (role is Role.ADMIN
            or (role is Role.INSTITUTION and training_class.institution_id == user.institution_id)
            or (role is Role.COUNTY and training_class.county_code == user.county_code))


def linkable_classes(user) -> sa.ColumnElement[bool]:
    """A WHERE clause on TrainingClass: the classes this user may link an assessment batch to.

    An agency reads no class, yet assesses their trainees: it may name (never open) the classes of the
    occupations in its filed scope, which is all a batch of its own can be about. Others link what they read.
    """
    if getattr(user, "role", None) is Role.AGENCY:
        return TrainingClass.occupation_id.in_(
            sa.select(AgencyScope.occupation_id).where(AgencyScope.agency_id == user.agency_id))
    return readable_classes(user)


def may_link(user, training_class: TrainingClass) -> bool:
    """Whether the user may link a batch to this class; no user is the system itself (seeding, tests)."""
    return user is None or bool(db.session.scalar(
        sa.select(sa.func.count()).where(TrainingClass.id == training_class.id, linkable_classes(user))))


def may_write(user, training_class: TrainingClass) -> bool:
    """County staff supervise but never edit; an institution edits only its own classes."""
    role = getattr(user, "role", None)
    own = role is Role.INSTITUTION and training_class.institution_id == user.institution_id
    return role is Role.ADMIN or own


def may_create(user) -> bool:
    return getattr(user, "role", None) in (Role.ADMIN, Role.INSTITUTION)


def check_writable(actor, training_class: TrainingClass) -> None:
    """Operations call this too, so the CLI or an import cannot bypass what the views refuse.

    A missing actor is the system itself (seeding, tests) and may write.
    """
    if actor is not None and not may_write(actor, training_class):
        raise Forbidden("no write access to this training class")


def get_class_or_404(user, class_id: int, for_write: bool = False, loads: tuple = ()) -> TrainingClass:
    """Outside the read scope is 404, so a guessed id reveals nothing; readable but not writable is 403.
    `loads`: what the page shows of the class's relations, read with it."""
    training_class = db.session.get(TrainingClass, class_id, options=loads)
    if training_class is None or not may_read(user, training_class):
        abort(404)
    if for_write and not may_write(user, training_class):
        abort(403)
    return training_class


def get_enrollment_or_404(user, enrollment_id: int, for_write: bool = False) -> Enrollment:
    enrollment = db.session.get(Enrollment, enrollment_id)
    if enrollment is None:
        abort(404)
    get_class_or_404(user, enrollment.class_id, for_write)
    return enrollment
