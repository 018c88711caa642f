"""Assessment batches (认定批次) and their results: created inside the agency's filed scope. The caller commits."""
from datetime import date
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from flask import current_app

from registry.core.roles import Role
from registry.assessment.awards import REPEAT_REASON, prior_awards
from registry.assessment.models import AssessmentBatch, AssessmentResult, BatchStatus
from registry.assessment.scopes import check_writable
from registry.core.audit import changes, record_event
from registry.core.changes import note_persons_changed
from registry.core.db import db, utcnow
from registry.core.errors import InvalidInput
from registry.organizations.models import Agency, AgencyStatus
from registry.people.models import Person
from registry.reference.checks import current_county
from registry.reference.models import LEVEL_LABELS, Occupation
from registry.training.models import TrainingClass
from registry.training.scopes import may_link

DEFAULT_PASS_MARK = 60
# 综合评审 is part of the assessment only for 二级/技师 and 一级/高级技师.
REVIEW_LEVELS = (1, 2)
EDITABLE = (BatchStatus.PLANNED, BatchStatus.RESULTS_ENTERED)


def batch_fields(batch: AssessmentBatch) -> dict:
    return {
        "agency_id": batch.agency_id, "occupation_id": batch.occupation_id, "work_type": batch.work_type,
        "level": batch.level, **({"special_item_id": batch.special_item_id} if batch.special_item_id else {}), "assessed_on": batch.assessed_on.isoformat(),
        "assessed_until": batch.assessed_until.isoformat() if batch.assessed_until else None,
        "county_code": batch.county_code, "training_class_id": batch.training_class_id,
        "status": batch.status.value,
    }


def result_fields(result: AssessmentResult) -> dict:
    return {
        "batch_id": result.batch_id, "person_id": result.person_id,
        "theory_score": _text(result.theory_score), "practical_score": _text(result.practical_score),
        "review_score": _text(result.review_score), "is_passed": result.is_passed, "remarks": result.remarks,
    }


def _text(score: Decimal | None) -> str | None:
    return None if score is None else f"{score:.2f}"


# --- batches ----------------------------------------------------------------------------------------------

def create_batch(actor, *, agency_id: int | None, occupation_id: int, work_type: str | None, level: int,
                 assessed_on: date, assessed_until: date | None = None, county_code: str,
                 training_class_id: int | None = None) -> AssessmentBatch:
    if getattr(actor, "role", None) is Role.AGENCY:
        agency_id = actor.agency_id  # an agency only ever plans its own batches
    values = _batch_values(actor, None, agency_id, occupation_id, work_type, level, assessed_on, assessed_until,
                           county_code, training_class_id)
    batch = AssessmentBatch(**values, status=BatchStatus.PLANNED)
    db.session.add(batch)
    db.session.flush()
    record_event(actor, "create", "assessment_batch", batch.id, after=batch_fields(batch))
    return batch


def update_batch(actor, batch: AssessmentBatch, *, occupation_id: int, work_type: str | None, level: int,
                 assessed_on: date, assessed_until: date | None, county_code: str,
                 training_class_id: int | None = None) -> None:
    check_writable(actor, batch)
    if batch.is_special:
        raise InvalidInput("status", "状态：专项职业能力考核批次不能改为职业等级批次")
    if batch.status is not BatchStatus.PLANNED or _result_count(batch):
        raise InvalidInput("status", "状态：已录入成绩的批次不能再修改职业、等级或日期")
    values = _batch_values(actor, batch, batch.agency_id, occupation_id, work_type, level, assessed_on, assessed_until,
                           county_code, training_class_id)
    before = batch_fields(batch)
    for key, value in values.items():
        setattr(batch, key, value)
    old, new = changes(before, batch_fields(batch))
    if new:
        record_event(actor, "update", "assessment_batch", batch.id, before=old, after=new)


def _batch_values(actor, batch, agency_id, occupation_id, work_type, level, assessed_on, assessed_until,
                  county_code, training_class_id) -> dict:
    """The checked columns of a new batch (batch None) or of an edited one."""
    agency = db.session.get(Agency, agency_id) if agency_id else None
    if agency is None:
        raise InvalidInput("agency_id", f"评价机构：机构 {agency_id or '（空）'} 不存在")
    if agency.status is not AgencyStatus.ACTIVE:
        raise InvalidInput("agency_id", f"评价机构：{agency.name} 备案状态为“{agency.status.label}”，不能安排认定")
    occupation = db.session.get(Occupation, occupation_id) if occupation_id else None
    if occupation is None:
        raise InvalidInput("occupation_id", f"职业：未知的职业 {occupation_id or '（空）'}")
    work_type = (work_type or "").strip() or None
    if level not in occupation.allowed_levels:
        raise InvalidInput("level", f"等级：职业 {occupation} 没有 {LEVEL_LABELS.get(level, level)}")
    if not isinstance(assessed_on, date):
        raise InvalidInput("assessed_on", "认定日期：不能为空")
    if assessed_until is not None and assessed_until < assessed_on:
        raise InvalidInput("assessed_until", "结束日期：不能早于认定日期")
    for day in filter(None, (assessed_on, assessed_until)):
        if not agency.covers(occupation.id, work_type, level, day):
            raise InvalidInput("level", f"等级：{occupation.name}{'（' + work_type + '）' if work_type else ''}"
                                        f" {LEVEL_LABELS[level]} 不在本机构 {day.isoformat()} 有效的备案范围内")
    county = current_county(county_code)
    if county is None:
        raise InvalidInput("county_code", f"认定地点：未知或已撤销的县区代码 {county_code or '（空）'}")
    training_class = db.session.get(TrainingClass, training_class_id) if training_class_id else None
    # A class outside what the actor may link answers as a missing one would: its id tells nothing.
    kept = batch is not None and training_class_id == batch.training_class_id
    if training_class_id and not kept and (training_class is None or not may_link(actor, training_class)):
        raise InvalidInput("training_class_id", f"关联培训班：培训班 {training_class_id} 不存在")
    return {"agency_id": agency.id, "occupation_id": occupation.id, "work_type": work_type, "level": level,
            "assessed_on": assessed_on, "assessed_until": assessed_until, "county_code": county.code,
            "training_class_id": training_class_id or None}


def _result_count(batch: AssessmentBatch) -> int:
    return db.session.scalar(sa.select(sa.func.count(AssessmentResult.id))
                             .where(AssessmentResult.batch_id == batch.id)) or 0


def approve_batch(actor, batch: AssessmentBatch) -> None:
    """审核: results are final from here on; issuing needs an approved batch."""
    check_writable(actor, batch)
    if batch.status is not BatchStatus.RESULTS_ENTERED:
        raise InvalidInput("status", f"状态：批次为“{batch.status.label}”，只有已录入成绩的批次可以审核")
    batch.status, batch.approved_at = BatchStatus.APPROVED, utcnow()
    record_event(actor, "approve", "assessment_batch", batch.id, before={"status": "results_entered"},
                 after={"status": "approved"})


# --- results ----------------------------------------------------------------------------------------------

def pass_mark() -> Decimal:
    return Decimal(str(current_app.config.get("ASSESSMENT_PASS_MARK", DEFAULT_PASS_MARK)))


def parse_score(value, field: str, label: str) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        score = Decimal(str(value).strip())
    except InvalidOperation:
        raise InvalidInput(field, f"{label}：应为0–100的数字，实为“{value}”") from None
    if not Decimal(0) <= score <= Decimal(100):
        raise InvalidInput(field, f"{label}：应在0–100之间，实为 {score}")
    return score.quantize(Decimal("0.01"))


def is_passing(level: int, theory: Decimal | None, practical: Decimal | None, review: Decimal | None) -> bool:
    mark = pass_mark()
    needed = [theory, practical] + ([review] if level in REVIEW_LEVELS else [])
    return all(score is not None and score >= mark for score in needed)


def check_accepts_results(actor, batch: AssessmentBatch) -> None:
    check_writable(actor, batch)
    if batch.status not in EDITABLE:
        raise InvalidInput("status", f"状态：批次为“{batch.status.label}”，成绩不能再修改")


def record_result(actor, batch: AssessmentBatch, person: Person, theory=None, practical=None, review=None,
                  remarks: str = "", repeat_reason: str | None = None) -> AssessmentResult:
    """Create or update the one result of this person in this batch; pass/fail follows the pass mark."""
    check_accepts_results(actor, batch)
    scores = score_values(batch.level, theory, practical, review)
    result = db.session.scalar(sa.select(AssessmentResult).where(
        AssessmentResult.batch_id == batch.id, AssessmentResult.person_id == person.id))
    before = result_fields(result) if result else None
    if result is None:
        result = AssessmentResult(batch_id=batch.id, person_id=person.id)
        db.session.add(result)
    result.theory_score, result.practical_score, result.review_score = scores
    result.is_passed = is_passing(batch.level, *scores)
    result.remarks = (remarks or "").strip()[:200]
    result.repeat_reason = _repeat_reason(batch, person, result.is_passed, repeat_reason)
    db.session.flush()
    note_persons_changed([person.id])  # the funnel's stages of the person's enrolments may move
    if result.repeat_reason:
        record_event(actor, "allow_repeat_award", "assessment_batch", batch.id, after={
            "person_id": person.id, "reason": result.repeat_reason,
            "prior": prior_awards(batch, [person.id]).get(person.id)})
    if before is None:
        record_event(actor, "create", "assessment_result", result.id, after=result_fields(result))
    else:
        old, new = changes(before, result_fields(result))
        if new:
            record_event(actor, "update", "assessment_result", result.id, before=old, after=new)
    if batch.status is BatchStatus.PLANNED:
        batch.status = BatchStatus.RESULTS_ENTERED
    return result


def _repeat_reason(batch: AssessmentBatch, person: Person, passed: bool, reason: str | None) -> str | None:
    """No double award: a pass for someone who holds or is due this award needs a reason (awards.py)."""
    award = prior_awards(batch, [person.id]).get(person.id) if passed else None
    if award is None:
        return None
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("repeat_reason", f"{REPEAT_REASON}：{award}，不能再次录入合格成绩（不得重复发证）；"
                                            f"补考、换证请另行办理，确需重复认定请填写原因")
    if len(reason) > 200:
        raise InvalidInput("repeat_reason", f"{REPEAT_REASON}：最多200个字符")
    return reason


def score_values(level: int, theory, practical, review) -> tuple[Decimal | None, ...]:
    theory = parse_score(theory, "theory_score", "理论知识成绩")
    practical = parse_score(practical, "practical_score", "操作技能成绩")
    review = parse_score(review, "review_score", "综合评审成绩")
    if theory is None and practical is None:
        raise InvalidInput("theory_score", "理论知识成绩：理论和操作成绩不能都为空")
    if review is not None and level not in REVIEW_LEVELS:
        raise InvalidInput("review_score", "综合评审成绩：仅二级/技师和一级/高级技师有综合评审")
    # A blank review used to make the candidate 不合格 without a word: at these levels it is a missing score.
    if review is None and level in REVIEW_LEVELS:
        raise InvalidInput("review_score", "综合评审成绩：二级、一级必须填写综合评审成绩")
    return theory, practical, review
