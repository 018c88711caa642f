"""The training institution's dashboard panel (首页): its classes in progress, the classes waiting for their
completions (结业) to be recorded, and its latest roster and completion uploads, each a link to act on.

Registered on the dashboard of registry/people (below this area) by init_institution_home, which the app
factory calls.
"""
from datetime import date
from typing import Any

import sqlalchemy as sa

from registry.accounts.models import User
from registry.core.db import db
from registry.core.models import ImportJob
from registry.core.roles import Role
from registry.people.landing import Panel, register_panel
from registry.training.models import ClassStatus, Enrollment, EnrollmentStatus, TrainingClass

SHOWN = 8  # rows per list: the rest is one click away on the class list
IMPORT_KINDS = ("roster", "completions")  # RosterImporter.kind, CompletionImporter.kind
IMPORT_KIND_LABELS = {"roster": "学员名单", "completions": "结业名单"}


def _trainees(status: EnrollmentStatus | None = None) -> sa.ScalarSelect:
    condition = [Enrollment.class_id == TrainingClass.id]
    if status is not None:
        condition.append(Enrollment.status == status)
    return sa.select(sa.func.count(Enrollment.id)).where(*condition).correlate(TrainingClass).scalar_subquery()


def institution_home(user: User, today: date | None = None) -> dict[str, Any]:
    today = today or date.today()
    own = TrainingClass.institution_id == user.institution_id
    running = db.session.execute(
        sa.select(TrainingClass, _trainees().label("trainees"))
        .where(own, TrainingClass.status == ClassStatus.RUNNING)
        .order_by(TrainingClass.ends_on, TrainingClass.id).limit(SHOWN)).all()
    # Over (ended by date, or marked finished) with trainees neither 结业 nor 退出: completions to record.
    waiting = _trainees(EnrollmentStatus.ENROLLED).label("waiting")
    pending = db.session.execute(
        sa.select(TrainingClass, waiting)
        .where(own, TrainingClass.status != ClassStatus.CLOSED,
               sa.or_(TrainingClass.ends_on < today, TrainingClass.status == ClassStatus.FINISHED), waiting > 0)
        .order_by(TrainingClass.ends_on.desc(), TrainingClass.id.desc()).limit(SHOWN)).all()
    jobs = db.session.scalars(
        sa.select(ImportJob).where(ImportJob.user_id == user.id, ImportJob.kind.in_(IMPORT_KINDS))
        .order_by(ImportJob.id.desc()).limit(SHOWN)).all()
    class_names = dict(db.session.execute(sa.select(TrainingClass.id, TrainingClass.name).where(
        TrainingClass.id.in_({job.target_id for job in jobs if job.target_id is not None}))).all())
    return {"running": running, "pending": pending, "jobs": jobs, "class_names": class_names,
            "kind_labels": IMPORT_KIND_LABELS}


def init_institution_home() -> None:
    register_panel(Role.INSTITUTION, Panel("training/home_panel.html", institution_home))
