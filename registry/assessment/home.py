"""The recognition agency's dashboard panel (首页): its batches that wait for the next step — results to enter,
approval, issuing — oldest assessment first, each a link to act on.

Registered on the dashboard of registry/people (below this area) by init_agency_home, which the app factory calls.
"""
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from registry.accounts.models import User
from registry.assessment.models import AssessmentBatch, BatchStatus
from registry.core.db import db
from registry.core.roles import Role
from registry.people.landing import Panel, register_panel

SHOWN = 10  # the rest is one click away on the batch list
NEXT_STEP = {BatchStatus.PLANNED: "录入成绩", BatchStatus.RESULTS_ENTERED: "审核", BatchStatus.APPROVED: "发证"}


def agency_home(user: User) -> dict[str, Any]:
    waiting = (AssessmentBatch.agency_id == user.agency_id, AssessmentBatch.status.in_(NEXT_STEP))
    counts = dict(db.session.execute(sa.select(AssessmentBatch.status, sa.func.count())
                                     .where(*waiting).group_by(AssessmentBatch.status)).all())
    batches = db.session.scalars(
        sa.select(AssessmentBatch).where(*waiting).options(selectinload(AssessmentBatch.occupation))
        .order_by(AssessmentBatch.assessed_on, AssessmentBatch.id).limit(SHOWN)).all()
    return {"counts": [(step, counts.get(status, 0)) for status, step in NEXT_STEP.items()],
            "batches": [(batch, NEXT_STEP[batch.status]) for batch in batches]}


def init_agency_home() -> None:
    register_panel(Role.AGENCY, Panel("assessment/home_panel.html", agency_home))
