"""Read-only queries of assessment shared by the pages and the API: the batch list's filters."""
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from registry.assessment.models import AssessmentBatch


@dataclass(frozen=True)
class BatchFilters:
    """The batch list's filters; None leaves a filter out (the page's filter bar and the API's query string)."""

    status: str | None = None
    occupation_id: int | None = None
    level: int | None = None
    county_code: str | None = None
    agency_id: int | None = None
    assessed_from: date | None = None
    assessed_to: date | None = None


def filtered_batches(scope: sa.ColumnElement[bool], filters: BatchFilters) -> sa.Select:
    conditions = [
        (filters.status, lambda value: AssessmentBatch.status == value),
        (filters.occupation_id, lambda value: AssessmentBatch.occupation_id == value),
        (filters.level, lambda value: AssessmentBatch.level == value),
        (filters.county_code, lambda value: AssessmentBatch.county_code == value),
        (filters.agency_id, lambda value: AssessmentBatch.agency_id == value),
        (filters.assessed_from, lambda value: AssessmentBatch.assessed_on >= value),
        (filters.assessed_to, lambda value: AssessmentBatch.assessed_on <= value),
    ]
    return sa.select(AssessmentBatch).where(scope, *[condition(value) for value, condition in conditions
                                                     if value is not None])
