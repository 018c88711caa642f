"""Oversight writes: handling signals, sampling audits, supervision records and assessors. Never commits."""
import random
import secrets
from datetime import date

import sqlalchemy as sa

from registry.assessment.models import AssessmentBatch
from registry.certificates.models import Certificate
from registry.core.audit import record_event
from registry.core.db import db, utcnow
from registry.core.errors import InvalidInput
from registry.core.roles import Role
from registry.organizations.models import Agency, AgencyStatus
from registry.oversight import scopes
from registry.oversight.models import (
    Assessor, AssessorScope, AuditItem, AuditStatus, BatchAssessor, FindingKind, SamplingAudit, SignalChange,
    SignalInstance, SignalSetting, SignalStatus, SupervisionOutcome, SupervisionRecord,
)
from registry.oversight.signals import THRESHOLDS
from registry.people.identity import DocumentType, InvalidDocument, normalize_resident_id
from registry.people.masking import mask_document
from registry.people.operations import protector
from registry.reference.models import LEVEL_LABELS, Occupation

NOTE_LENGTH = 1000
# Where a signal may go from each status: a confirmed or dismissed finding is settled.
NEXT_STATUSES = {
    SignalStatus.OPEN: (SignalStatus.EXPLAINED, SignalStatus.CONFIRMED, SignalStatus.DISMISSED),
    SignalStatus.EXPLAINED: (SignalStatus.CONFIRMED, SignalStatus.DISMISSED, SignalStatus.OPEN),
    SignalStatus.CONFIRMED: (),
    SignalStatus.DISMISSED: (),
}


def _note(value: str | None, label: str = "说明") -> str:
    text = (value or "").strip()
    if not text:
        raise InvalidInput("note", f"{label}：不能为空")
    if len(text) > NOTE_LENGTH:
        raise InvalidInput("note", f"{label}：不能超过 {NOTE_LENGTH} 字")
    return text


# --- thresholds ---------------------------------------------------------------------------------------------

def set_threshold(actor, key: str, value: float) -> None:
    threshold = THRESHOLDS.get(key)
    if threshold is None:
        raise InvalidInput(key, f"阈值：未知的阈值 {key}")
    if value is None or not threshold.minimum <= value <= threshold.maximum:
        raise InvalidInput(key, f"{threshold.label}：应在 {threshold.minimum:g}–{threshold.maximum:g} 之间")
    if threshold.is_integer and value != int(value):
        raise InvalidInput(key, f"{threshold.label}：应为整数")
    setting = db.session.get(SignalSetting, key)
    before = setting.value if setting else threshold.default
    if before == value:
        return
    if setting is None:
        db.session.add(SignalSetting(key=key, value=value))
    else:
        setting.value = value
    record_event(actor, "update", "signal_setting", key, before={"value": before}, after={"value": value})


# --- signal workflow -----------------------------------------------------------------------------------------

def handle_signal(actor, instance: SignalInstance, status: SignalStatus | str, note: str,
                  owner_id: int | None = None) -> SignalChange:
    """Move a signal instance on (open → explained / confirmed / dismissed), with a note; audited."""
    scopes.check(actor is None or scopes.may_handle_signal(actor, instance))
    status = SignalStatus(status)
    if status is not instance.status and status not in NEXT_STATUSES[instance.status]:
        raise InvalidInput("status", f"状态：预警已是“{instance.status.label}”，不能改为“{status.label}”")
    note = _note(note)
    owner_id = owner_id or instance.owner_id or getattr(actor, "id", None)
    if owner_id is not None:
        _check_owner(instance, owner_id)
    before = {"status": instance.status.value, "owner_id": instance.owner_id}
    instance.status, instance.owner_id = status, owner_id
    change = SignalChange(instance_id=instance.id, actor_id=getattr(actor, "id", None), status=status,
                          owner_id=owner_id, note=note)
    db.session.add(change)
    record_event(actor, "handle", "signal_instance", instance.id, before=before,
                 after={"status": status.value, "owner_id": owner_id, "note": note})
    return change


def _check_owner(instance: SignalInstance, owner_id: int) -> None:
    from registry.accounts.models import User

    owner = db.session.get(User, owner_id)
    allowed = owner is not None and owner.is_active and (
        owner.role is Role.ADMIN or (owner.role is Role.COUNTY and owner.county_code == instance.county_code))
    if not allowed:
        raise InvalidInput("owner_id", "负责人：只能是管理员或该县区的人社部门用户")


# --- sampling audits (抽查) ------------------------------------------------------------------------------------

def audit_population(agency_id: int, county_code: str | None, period_from: date, period_to: date) -> list[int]:
    """The ids of the certificates an audit draws from, in a fixed order (the seed then fixes the sample)."""
    statement = (sa.select(Certificate.id).where(Certificate.agency_id == agency_id,
                                                  Certificate.issued_on.between(period_from, period_to))
                 .order_by(Certificate.id))
    if county_code:
        statement = statement.join(AssessmentBatch, AssessmentBatch.id == Certificate.batch_id).where(
            AssessmentBatch.county_code == county_code)
    return list(db.session.scalars(statement))


def draw_sample(population: list[int], size: int, seed: int) -> list[int]:
    return random.Random(seed).sample(population, size)


def start_audit(actor, agency: Agency, period_from: date | None, period_to: date | None, size: int | None,
                seed: int | None = None) -> SamplingAudit:
    """Draw `size` certificates of the agency issued in the period (a county official: those assessed in the
    county); the seed is recorded so the same sample can be drawn again."""
    county_code = actor.county_code if getattr(actor, "role", None) is Role.COUNTY else None
    if county_code:
        in_county = db.session.scalar(sa.select(Agency.id).where(Agency.id == agency.id,
                                                                 scopes.agencies_in_county(county_code)))
        scopes.check(in_county is not None)
    if not isinstance(period_from, date) or not isinstance(period_to, date):
        raise InvalidInput("period_from", "抽查期间：起止日期都不能为空")
    if period_to < period_from:
        raise InvalidInput("period_to", "抽查期间：结束日期不能早于开始日期")
    if not isinstance(size, int) or size < 1:
        raise InvalidInput("sample_size", "抽查数量：应为正整数")
    population = audit_population(agency.id, county_code, period_from, period_to)
    where = f"{agency.name} 在 {period_from.isoformat()} 至 {period_to.isoformat()}"
    if not population:
        raise InvalidInput("period_from", f"抽查期间：{where}没有发放证书，无可抽查")
    if size > len(population):
        raise InvalidInput("sample_size", f"抽查数量：{where}只发放了 {len(population)} 本证书，不能抽查 {size} 本")
    seed = secrets.randbelow(2**31) if seed is None else seed
    audit = SamplingAudit(agency_id=agency.id, county_code=county_code, period_from=period_from,
                          period_to=period_to, sample_size=size, seed=seed, population=len(population),
                          created_by_id=getattr(actor, "id", None))
    db.session.add(audit)
    db.session.flush()
    for position, certificate_id in enumerate(draw_sample(population, size, seed), start=1):
        db.session.add(AuditItem(audit_id=audit.id, position=position, certificate_id=certificate_id))
    record_event(actor, "create", "sampling_audit", audit.id, after={
        "agency_id": agency.id, "county_code": county_code, "period": f"{period_from}/{period_to}",
        "sample_size": size, "seed": seed, "population": len(population)})
    return audit


def _check_open(audit: SamplingAudit) -> None:
    if audit.status is AuditStatus.CLOSED:
        raise InvalidInput("status", f"状态：抽查 #{audit.id} 已结束，不能再修改")


def record_finding(actor, item: AuditItem, finding: FindingKind | str, note: str | None) -> None:
    scopes.check(actor is None or scopes.may_conduct_audit(actor, item.audit))
    _check_open(item.audit)
    try:
        finding = FindingKind(finding)
    except ValueError:
        raise InvalidInput("finding", "抽查结论：请选择“符合要求”或“发现问题”") from None
    note = (note or "").strip()
    if finding is FindingKind.PROBLEM and not note:
        raise InvalidInput("finding_note", f"问题说明：第 {item.position} 项发现问题时必须写明问题")
    item.finding, item.finding_note = finding, note[:NOTE_LENGTH] or None
    record_event(actor, "finding", "audit_item", item.id, after={"finding": finding.value, "note": note})


def answer_item(actor, item: AuditItem, answer: str) -> None:
    """The agency's answer to a finding, in the app."""
    scopes.check(actor is None or (actor.role is Role.AGENCY and actor.agency_id == item.audit.agency_id))
    _check_open(item.audit)
    if item.finding is not FindingKind.PROBLEM:
        raise InvalidInput("answer", f"机构答复：第 {item.position} 项没有发现问题，无需答复")
    item.answer, item.answered_at = _note(answer, "机构答复"), utcnow()
    record_event(actor, "answer", "audit_item", item.id, after={"answer": item.answer})


def unfinished_items(audit: SamplingAudit) -> tuple[list[int], list[int]]:
    """(positions without a finding, positions whose problem the agency has not answered)."""
    unchecked = [item.position for item in audit.items if item.finding is None]
    unanswered = [item.position for item in audit.items if item.finding is FindingKind.PROBLEM and not item.answer]
    return unchecked, unanswered


def close_audit(actor, audit: SamplingAudit, summary: str) -> None:
    scopes.check(actor is None or scopes.may_conduct_audit(actor, audit))
    _check_open(audit)
    unchecked, unanswered = unfinished_items(audit)
    if unchecked:
        raise InvalidInput("summary", f"结束抽查：第 {_positions(unchecked)} 项尚未记录抽查结论")
    if unanswered:
        raise InvalidInput("summary", f"结束抽查：第 {_positions(unanswered)} 项发现的问题机构尚未答复")
    audit.summary, audit.status, audit.closed_at = _note(summary, "抽查小结"), AuditStatus.CLOSED, utcnow()
    problems = sum(item.finding is FindingKind.PROBLEM for item in audit.items)
    record_event(actor, "close", "sampling_audit", audit.id,
                 after={"summary": audit.summary, "problems": problems, "sampled": len(audit.items)})


def _positions(positions: list[int]) -> str:
    return "、".join(str(position) for position in positions)


# --- supervision (督导) ---------------------------------------------------------------------------------------

def record_supervision(actor, agency: Agency, visited_on: date | None, findings: str,
                       correction_due_on: date | None, outcome: SupervisionOutcome | str) -> SupervisionRecord:
    """A visit and what it found; the outcome sets the agency's status (暂停 stops batches and issuing)."""
    scopes.check(actor is None or actor.role is Role.ADMIN)
    if not isinstance(visited_on, date):
        raise InvalidInput("visited_on", "督导日期：不能为空")
    if visited_on > date.today():
        raise InvalidInput("visited_on", "督导日期：不能晚于今天")
    outcome = SupervisionOutcome(outcome)
    if correction_due_on is not None and correction_due_on < visited_on:
        raise InvalidInput("correction_due_on", "整改期限：不能早于督导日期")
    if outcome is not SupervisionOutcome.NORMAL and correction_due_on is None:
        raise InvalidInput("correction_due_on", f"整改期限：结论为“{outcome.label}”时必须给出整改期限")
    if agency.status is AgencyStatus.WITHDRAWN:
        raise InvalidInput("agency_id", f"评价机构：{agency.name} 已撤销备案，不能再督导")
    record = SupervisionRecord(agency_id=agency.id, visited_on=visited_on, findings=_note(findings, "督导发现"),
                               correction_due_on=correction_due_on, outcome=outcome,
                               created_by_id=getattr(actor, "id", None))
    db.session.add(record)
    before = {"status": agency.status.value, "is_warned": agency.is_warned}
    agency.status = AgencyStatus.SUSPENDED if outcome is SupervisionOutcome.SUSPENDED else AgencyStatus.ACTIVE
    agency.is_warned = outcome is SupervisionOutcome.WARNED
    db.session.flush()
    record_event(actor, "create", "supervision_record", record.id, before=before, after={
        "agency_id": agency.id, "visited_on": visited_on, "outcome": outcome.value,
        "correction_due_on": correction_due_on, "status": agency.status.value, "is_warned": agency.is_warned})
    return record


# --- assessors (考评员) ----------------------------------------------------------------------------------------

def _check_roster_writer(actor, agency: Agency) -> None:
    scopes.check(actor is None or actor.role is Role.ADMIN
                 or (actor.role is Role.AGENCY and actor.agency_id == agency.id))


def add_assessor(actor, agency: Agency, name: str, document_number: str, certificate_number: str,
                 scope_lines: list[tuple[int, int, int]]) -> Assessor:
    """Put an assessor on the agency's roster with the occupations and levels they may assess."""
    _check_roster_writer(actor, agency)
    name, certificate_number = (name or "").strip(), (certificate_number or "").strip()
    if not name:
        raise InvalidInput("name", "姓名：不能为空")
    try:
        number = normalize_resident_id(document_number)
    except InvalidDocument as error:
        raise InvalidInput("document_number", f"身份证号码：{error.message}") from None
    if not certificate_number:
        raise InvalidInput("certificate_number", "考评员证书编号：不能为空")
    if not scope_lines:
        raise InvalidInput("occupation_id", "考评范围：至少填写一个职业及等级")
    document_hash = protector().lookup_hash(DocumentType.RESIDENT_ID.value, number)
    if db.session.scalar(sa.select(Assessor.id).where(Assessor.agency_id == agency.id,
                                                      Assessor.document_hash == document_hash)):
        raise InvalidInput("document_number", "身份证号码：该考评员已在本机构名单中")
    assessor = Assessor(agency_id=agency.id, name=name[:60], document_masked=mask_document("resident_id", number),
                        document_hash=document_hash, certificate_number=certificate_number[:40])
    db.session.add(assessor)
    for occupation_id, lowest, highest in scope_lines:
        occupation = db.session.get(Occupation, occupation_id)
        if occupation is None:
            raise InvalidInput("occupation_id", f"考评范围：未知的职业 {occupation_id}")
        if not (1 <= highest <= lowest <= 5):
            raise InvalidInput("lowest_level", "考评范围：等级范围无效（最低等级应不高于最高等级）")
        assessor.scopes.append(AssessorScope(occupation_id=occupation_id, lowest_level=lowest, highest_level=highest))
    db.session.flush()
    record_event(actor, "create", "assessor", assessor.id, after={
        "agency_id": agency.id, "name": assessor.name, "document": assessor.document_masked,
        "certificate_number": assessor.certificate_number,
        "scopes": [f"{line[0]}:{line[1]}-{line[2]}" for line in scope_lines]})
    return assessor


def assign_assessor(actor, batch: AssessmentBatch, assessor: Assessor) -> None:
    """Record an assessor of the batch: only from the agency's own roster and within the assessor's scope."""
    _check_roster_writer(actor, batch.agency)
    if assessor.agency_id != batch.agency_id or not assessor.is_active:
        raise InvalidInput("assessor_id", f"考评员：{assessor.name} 不在 {batch.agency.name} 的考评员名单中")
    # Assessor scopes name occupations and levels; a 专项职业能力 batch has neither, and its agency's filing for
    # the item is what makes it assess: any assessor on the agency's roster may sit.
    if not batch.is_special and not assessor.covers(batch.occupation_id, batch.level):
        raise InvalidInput("assessor_id", f"考评员：{assessor.name} 的考评范围不含 {batch.occupation.name} "
                                          f"{LEVEL_LABELS[batch.level]}")
    if db.session.get(BatchAssessor, (batch.id, assessor.id)) is not None:
        raise InvalidInput("assessor_id", f"考评员：{assessor.name} 已是本批次考评员")
    db.session.add(BatchAssessor(batch_id=batch.id, assessor_id=assessor.id))
    record_event(actor, "assign", "batch_assessor", batch.id, after={"assessor_id": assessor.id})
