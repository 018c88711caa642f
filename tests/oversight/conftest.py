"""Factories for oversight tests: certificates issued through the agencies' own operations."""
from datetime import date

import pytest
import sqlalchemy as sa

from registry.core.db import db


@pytest.fixture
def certify(make_batch, make_person):
    """certify(agency, person=None, level=4, assessed_on=…, issued_on=…, passed=True, repeat_reason=None,
    county_code=…) → batch: one candidate assessed, approved and (when passed) issued, the way agencies do it.
    A second award of the same certificate needs its audited repeat reason, as at the results import."""
    from registry.assessment.operations import approve_batch, record_result
    from registry.certificates.operations import issue_batch

    def factory(agency, person=None, level: int = 4, assessed_on: date = date(2025, 5, 10),
                issued_on: date | None = None, passed: bool = True, repeat_reason: str | None = None, **values):
        batch = make_batch(agency=agency, level=level, assessed_on=assessed_on, **values)
        score = 90 if passed else 30
        record_result(None, batch, person or make_person(), theory=score, practical=score,
                      repeat_reason=repeat_reason)
        approve_batch(None, batch)
        if passed:
            issue_batch(None, batch, issued_on or assessed_on)
        db.session.commit()
        return batch

    return factory


@pytest.fixture
def welding_agency(make_agency):
    def factory(**values):
        return make_agency(scopes=[("6-18-02-04", None, 5, 1, "2020-01-01", None)], **values)

    return factory


def instances(signal: str):
    from registry.oversight.models import SignalInstance

    return list(db.session.scalars(sa.select(SignalInstance).where(SignalInstance.signal == signal)
                                   .order_by(SignalInstance.id)))
