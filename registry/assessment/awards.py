"""No double award (不得重复发证): who already holds, or is due, a certificate for what a batch assesses.

The same passing results uploaded into a second batch of the same occupation and level came back as
"录入成绩（合格）", and issuing would have given the same people a second certificate for the same exam.
A person counts as awarded when another batch of the same occupation, 工种 and level passed them (a certificate
still to come), or when they hold a valid certificate of it. Certificates sit above assessment: their area
registers its finder here (registry/certificates/awards.py), as importers register with core.
A repeat is allowed only with an explicit reason (`AssessmentResult.repeat_reason`, audited); 补考 (a failed
candidate sitting again) is no repeat, and 换证/更正 is the certificate's own action.
"""
from collections.abc import Callable

import sqlalchemy as sa

from registry.assessment.models import AssessmentBatch, AssessmentResult
from registry.core.db import db

AwardFinder = Callable[[AssessmentBatch, list[int]], dict[int, str]]
FINDERS: list[AwardFinder] = []
REPEAT_REASON = "重复认定原因"


def register_award_finder(finder: AwardFinder) -> AwardFinder:
    if finder not in FINDERS:
        FINDERS.append(finder)
    return finder


def prior_awards(batch: AssessmentBatch, person_ids: list[int], earlier_only: bool = False) -> dict[int, str]:
    """{person id: what they already hold or are due, in words} for those of `person_ids` awarded before.

    `earlier_only` (issuing): a pass still waiting for its certificate counts only in an earlier batch, so that
    of two batches passing the same person without a reason the first issues and the second refuses.
    """
    if not person_ids:
        return {}
    found = _passed_elsewhere(batch, person_ids, earlier_only)
    for finder in FINDERS:
        found |= finder(batch, person_ids)  # a certificate in hand says more than a pending pass
    return found


def same_award(batch: AssessmentBatch) -> list[sa.ColumnElement[bool]]:
    """Batches assessing the same occupation, 工种 and level as `batch` (other than itself), or the same
    专项职业能力 item."""
    if batch.is_special:
        return [AssessmentBatch.id != batch.id, AssessmentBatch.special_item_id == batch.special_item_id]
    work_type = (AssessmentBatch.work_type.is_(None) if batch.work_type is None
                 else AssessmentBatch.work_type == batch.work_type)
    return [AssessmentBatch.id != batch.id, AssessmentBatch.occupation_id == batch.occupation_id,
            AssessmentBatch.level == batch.level, work_type]


def _passed_elsewhere(batch: AssessmentBatch, person_ids: list[int], earlier_only: bool) -> dict[int, str]:
    rows = (sa.select(AssessmentResult.person_id, sa.func.min(AssessmentBatch.id))
            .join(AssessmentBatch, AssessmentBatch.id == AssessmentResult.batch_id)
            .where(AssessmentResult.person_id.in_(person_ids), AssessmentResult.is_passed,
                   ~AssessmentResult.certificate.has(), *same_award(batch))
            .where(AssessmentBatch.id < batch.id if earlier_only else sa.true())
            .group_by(AssessmentResult.person_id))
    what = "同一专项职业能力项目考核" if batch.is_special else "同职业同等级认定"
    return {person_id: f"已在第 {batch_id} 批{what}合格（待发证）"
            for person_id, batch_id in db.session.execute(rows)}
