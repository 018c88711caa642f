"""Who may read and act on which assessment batches: the one place the assessment scope rule lives."""
import sqlalchemy as sa
from flask import abort

from registry.core.roles import Role
from registry.assessment.models import AssessmentBatch
from registry.core.db import db
from registry.core.errors import Forbidden


def readable_batches(user) -> sa.ColumnElement[bool]:
    """A WHERE clause on AssessmentBatch: admin all, an agency its own, a county those held in it."""
    role = getattr(user, "role", None)
    if role is Role.ADMIN:
        return sa.true()
    if role is Role.AGENCY:
        return AssessmentBatch.agency_id == user.agency_id
    if role is Role.COUNTY:
        return AssessmentBatch.county_code == user.county_code
    return sa.false()


def may_read(user, batch: AssessmentBatch) -> bool:
    role = getattr(user, "role", None)
    return (role is Role.ADMIN
            or (role is Role.AGENCY and batch.agency_id == user.agency_id)
            or (role is Role.COUNTY and batch.county_code == user.county_code))


def may_write(user, batch: AssessmentBatch) -> bool:
    """Only the agency that runs the batch (and the administrator) records, approves and issues."""
    role = getattr(user, "role", None)
    return role is Role.ADMIN or (role is Role.AGENCY and batch.agency_id == user.agency_id)


def check_writable(actor, batch: AssessmentBatch) -> None:
    """Operations call this too, so the CLI, the API or an import cannot bypass the views' rule."""
    if actor is not None and not may_write(actor, batch):
        raise Forbidden("no write access to this assessment batch")


def get_batch_or_404(user, batch_id: int, for_write: bool = False, loads: tuple = ()) -> AssessmentBatch:
    """As get_class_or_404; `loads`: what the page shows of the batch's relations, read with it."""
    batch = db.session.get(AssessmentBatch, batch_id, options=loads)
    if batch is None or not may_read(user, batch):
        abort(404)
    if for_write and not may_write(user, batch):
        abort(403)
    return batch
