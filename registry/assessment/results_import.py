"""Results upload (认定成绩) for a batch: the roster's import flow with a score row schema."""
import re
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import url_for

from registry.accounts.models import User
from registry.assessment import eligibility, operations
from registry.assessment.awards import REPEAT_REASON, prior_awards
from registry.assessment.models import AssessmentBatch, AssessmentResult, BatchStatus
from registry.core.audit import record_event
from registry.core.changes import note_persons_changed
from registry.core.db import db
from registry.core.errors import InvalidInput
from registry.core.import_jobs import ImportJob, register_importer
from registry.core.imports import Importer, Outcome, RowError, RowOutcome
from registry.core.spreadsheets import Column
from registry.reference.models import LEVEL_LABELS, LEVEL_SPELLINGS
from registry.people.person_rows import (
    COUNTY, COUNTY_ALIASES, DOCUMENT_ALIASES, DOCUMENT_NUMBER, DOCUMENT_TYPE, NAME, PersonRows, parse_document,
    parse_name, parse_rows, subject,
)

THEORY, PRACTICAL, REVIEW, REMARKS = "理论知识成绩", "操作技能成绩", "综合评审成绩", "备注"
# Optional columns a file exported from another system often carries: when present, each row must name the
# batch's own level, occupation and place, or it was meant for another batch (cross-checked, never stored).
LEVEL, OCCUPATION, SITE_COUNTY = "等级", "职业", "认定县区"
# Operation fields → the column a user sees, so a rule broken in an operation lands on the right cell.
COLUMN_OF_FIELD = {"theory_score": THEORY, "practical_score": PRACTICAL, "review_score": REVIEW}
SCORE_LABELS = {THEORY: "理论", PRACTICAL: "操作", REVIEW: "综合评审"}
MAX_REMARKS = 200


def result_columns(level: int | None = None) -> list[Column]:
    """综合评审 belongs to 二级 and 一级 only: for those batches a file without the column is refused."""
    return [
        Column("document_type", DOCUMENT_TYPE, required=False),
        Column("document_number", DOCUMENT_NUMBER, aliases=DOCUMENT_ALIASES),
        Column("name", NAME, aliases=("考生姓名",)),
        Column("county", COUNTY, aliases=COUNTY_ALIASES, required=False),
        Column("theory", THEORY, aliases=("理论成绩", "理论知识")),
        Column("practical", PRACTICAL, aliases=("操作成绩", "技能成绩", "操作技能")),
        Column("review", REVIEW, aliases=("综合评审",), required=level in operations.REVIEW_LEVELS),
        Column("remarks", REMARKS, aliases=("备注说明",), required=False),
        Column("level", LEVEL, aliases=("职业技能等级", "技能等级", "申报等级", "认定等级"), required=False),
        Column("occupation", OCCUPATION, aliases=("职业名称", "职业（工种）", "职业编码", "申报职业"), required=False),
        Column("site_county", SITE_COUNTY, aliases=("认定地点", "考核县区", "考点县区"), required=False),
        Column("repeat_reason", REPEAT_REASON, aliases=("重复发证原因",), required=False),
        Column("work_years", eligibility.WORK_YEARS, aliases=("从事本职业工作年限", "工作年限"), required=False),
        Column("education", eligibility.EDUCATION, aliases=("文化程度",), required=False),
        Column("exception", eligibility.EXCEPTION, aliases=("例外原因",), required=False),
    ]


RESULT_COLUMNS = result_columns()
RESULT_SAMPLE = [["居民身份证", "11010519491231002X", "张三", "杞县", "85", "78.5", "", ""]]


class ResultsImporter(Importer):
    kind = "results"
    title = "导入认定成绩"
    columns = RESULT_COLUMNS

    def __init__(self, job: ImportJob):
        self.job = job
        self.actor = db.session.get(User, job.user_id)
        self.batch = db.session.get(AssessmentBatch, job.target_id)
        if self.batch is None:
            raise InvalidInput(None, "认定批次不存在")
        self.columns = result_columns(self.batch.level)
        self.people = PersonRows(self.actor)
        self.is_checked = self.is_locked = False
        self.awards: dict[int, str] = {}
        self.held_since: dict = {}
        self.rule = eligibility.rule_for(self.batch.level)
        self.written = {"new_persons": 0, "created": 0, "updated": 0}

    @property
    def target_url(self) -> str:
        return url_for("assessment.batch_detail", batch_id=self.batch.id)

    def _check_editable(self) -> None:
        """An approved or issued batch is refused as a whole: not one of its results may change."""
        try:
            operations.check_accepts_results(self.actor, self.batch)
        except InvalidInput:
            raise InvalidInput("status", f"批次{self.batch.status.label}，成绩不能修改") from None

    def _parse(self, row: int, values: dict[str, Any]) -> dict[str, Any]:
        self._check_against_batch(values)
        document_type, number = parse_document(values)
        name = parse_name(values["name"])
        county_code = self.people.county(values["county"], default=self.batch.county_code)
        try:
            scores = operations.score_values(self.batch.level, values["theory"], values["practical"],
                                             values["review"])
        except InvalidInput as error:
            raise RowError(COLUMN_OF_FIELD[error.field], error.message.split("：", 1)[-1]) from None
        remarks = str(values["remarks"] or "").strip()
        if len(remarks) > MAX_REMARKS:
            raise RowError(REMARKS, f"最多{MAX_REMARKS}个字符")
        repeat_reason = str(values.get("repeat_reason") or "").strip()
        if len(repeat_reason) > MAX_REMARKS:
            raise RowError(REPEAT_REASON, f"最多{MAX_REMARKS}个字符")
        exception = str(values.get("exception") or "").strip()
        if len(exception) > MAX_REMARKS:
            raise RowError(eligibility.EXCEPTION, f"最多{MAX_REMARKS}个字符")
        try:
            work_years = eligibility.parse_work_years(values.get("work_years"))
        except InvalidInput as error:
            raise RowError(eligibility.WORK_YEARS, error.message.split("：", 1)[-1]) from None
        digest = self.people.digest(document_type, number)
        self.people.claim(row, digest)
        return {"document_type": document_type, "number": number, "digest": digest, "name": name,
                "county_code": county_code, "scores": scores, "remarks": remarks,
                "repeat_reason": repeat_reason or None, "exception": exception or None, "work_years": work_years,
                "education": str(values.get("education") or "").strip(),
                "is_passed": operations.is_passing(self.batch.level, *scores)}

    def _check_against_batch(self, values: dict[str, Any]) -> None:
        """A level, occupation or place column that names another batch's: the row is an error naming both."""
        batch = self.batch
        if batch.is_special:
            return self._check_against_special_batch(values)
        if (text := _text_of(values.get("level"))) and LEVEL_SPELLINGS.get(text) != batch.level:
            raise RowError(LEVEL, f"文件中为“{text}”，与本批次的等级“{LEVEL_LABELS[batch.level]}”不一致")
        occupation = batch.occupation
        if (text := _text_of(values.get("occupation"))) and not _names_occupation(text, occupation, batch.work_type):
            named = f"{occupation.name}（{occupation.code}）" + (f"，工种 {batch.work_type}" if batch.work_type else "")
            raise RowError(OCCUPATION, f"文件中为“{text}”，与本批次的职业“{named}”不一致")
        if (text := _text_of(values.get("site_county"))) and text not in (batch.county_code, batch.county.name):
            raise RowError(SITE_COUNTY, f"文件中为“{text}”，与本批次的认定县区“{batch.county.name}”不一致")

    def _check_against_special_batch(self, values: dict[str, Any]) -> None:
        """专项职业能力 has no level: a filled level column means the file is for a skills-level batch."""
        batch, item = self.batch, self.batch.special_item
        if text := _text_of(values.get("level")):
            raise RowError(LEVEL, f"文件中为“{text}”，本批次为专项职业能力考核（{item.name}），没有等级，应留空")
        if (text := _text_of(values.get("occupation"))) and text not in (item.name, item.code):
            raise RowError(OCCUPATION, f"文件中为“{text}”，与本批次的专项职业能力项目“{item.name}（{item.code}）”不一致")
        if (text := _text_of(values.get("site_county"))) and text not in (batch.county_code, batch.county.name):
            raise RowError(SITE_COUNTY, f"文件中为“{text}”，与本批次的认定县区“{batch.county.name}”不一致")

    def check_chunk(self, rows):
        # Checked here rather than in __init__, which also serves the job page long after approval.
        if not self.is_checked:
            self._check_editable()
            self.is_checked = True
        parsed = parse_rows(rows, self._parse)
        persons = self.people.find([fields["digest"] for _row, fields in parsed if isinstance(fields, dict)])
        results = self._results([person.id for person in persons.values()])
        self.awards = prior_awards(self.batch, [person.id for person in persons.values()])
        self.held_since = eligibility.held_since(self.batch, [person.id for person in persons.values()])
        return [self._classify(row, fields, persons, results) for row, fields in parsed]

    def _results(self, person_ids: list[int]) -> dict[int, AssessmentResult]:
        found = db.session.scalars(sa.select(AssessmentResult).where(
            AssessmentResult.batch_id == self.batch.id, AssessmentResult.person_id.in_(person_ids)))
        return {result.person_id: result for result in found}

    def _classify(self, row, fields, persons, results) -> tuple[RowOutcome, Any]:
        if isinstance(fields, RowError):
            return fields.outcome(row), None
        who = subject(fields["document_type"], fields["number"], fields["name"])
        verdict = "合格" if fields["is_passed"] else "不合格"
        if refused := self.people.refusal(fields["digest"]):
            return RowOutcome(row, Outcome.ERROR, refused.message, refused.column, who), None
        known = self.people.answerable(persons.get(fields["digest"]), self.committing)
        fields = fields | {"eligibility_exception": None}
        if self.rule is not None and (why := eligibility.refusal(
                self.rule, self.batch, self.held_since.get(known.id) if known else None, fields["work_years"],
                fields["education"])):
            if not fields["exception"]:
                return RowOutcome(row, Outcome.ERROR, f"{why}；如确属例外，请在“{eligibility.EXCEPTION}”列填写原因",
                                  eligibility.WORK_YEARS, who), None
            fields |= {"eligibility_exception": fields["exception"], "eligibility_refusal": why}
            verdict += f"；申报条件例外：{fields['exception']}"
        if known is None:
            return RowOutcome(row, Outcome.NEW, f"新登记人员，录入成绩（{verdict}）{self.people.new_note}",
                              subject=who), fields
        if mismatch := self.people.name_mismatch(known, fields["name"]):
            return RowOutcome(row, Outcome.ERROR, mismatch.message, mismatch.column, who), None
        reason, fields = fields["repeat_reason"], fields | {"person_id": known.id, "repeat_reason": None}
        if fields["is_passed"] and (award := self.awards.get(known.id)):
            if not reason:
                return RowOutcome(row, Outcome.ERROR, f"{award}，不能再次录入合格成绩（不得重复发证）；补考、换证请另行办理，"
                                  f"确需重复认定请在“{REPEAT_REASON}”列填写原因", REPEAT_REASON, who), None
            fields |= {"repeat_reason": reason, "prior_award": award}
            verdict += f"；重复认定：{reason}（{award}）"
        result = results.get(known.id)
        if result is None:
            return RowOutcome(row, Outcome.EXISTING, f"已登记人员，录入成绩（{verdict}）", subject=who), fields
        changed = _changes(result, fields)
        if not changed:
            return RowOutcome(row, Outcome.SKIPPED, "成绩与已录入的相同，无需更改", subject=who), None
        return RowOutcome(row, Outcome.UPDATED, f"{changed}（{verdict}）", subject=who), fields | {"result": result}

    def write_chunk(self, payloads: list[dict]) -> None:
        self._lock_batch()
        new = [fields for fields in payloads if "person_id" not in fields]
        ids = self.people.insert(new)
        created = [fields for fields in payloads if "result" not in fields]
        if created:
            db.session.execute(sa.insert(AssessmentResult.__table__), [{
                "batch_id": self.batch.id, "person_id": fields.get("person_id") or ids[fields["digest"]],
                "theory_score": fields["scores"][0], "practical_score": fields["scores"][1],
                "review_score": fields["scores"][2], "is_passed": fields["is_passed"], "remarks": fields["remarks"],
                "repeat_reason": fields.get("repeat_reason"),
                "eligibility_exception": fields.get("eligibility_exception"),
            } for fields in created])
            note_persons_changed(fields.get("person_id") or ids[fields["digest"]] for fields in created)
            if self.batch.status is BatchStatus.PLANNED:
                self.batch.status = BatchStatus.RESULTS_ENTERED
        # A changed score is rarer and weightier than a new one: the audited operation records each change.
        for fields in payloads:
            if result := fields.get("result"):
                operations.record_result(self.actor, self.batch, result.person, *fields["scores"],
                                         remarks=fields["remarks"], repeat_reason=fields.get("repeat_reason"))
                result.eligibility_exception = fields.get("eligibility_exception")
            if fields.get("eligibility_exception"):
                record_event(self.actor, "eligibility_exception", "assessment_batch", self.batch.id, after={
                    "person_id": fields.get("person_id") or ids[fields["digest"]],
                    "reason": fields["eligibility_exception"], "refusal": fields["eligibility_refusal"]})
            if not fields.get("result") and fields.get("repeat_reason"):  # created above, in bulk: audited here
                record_event(self.actor, "allow_repeat_award", "assessment_batch", self.batch.id, after={
                    "person_id": fields["person_id"], "reason": fields["repeat_reason"],
                    "prior": fields["prior_award"]})
        self.written["new_persons"] += len(new)
        self.written["created"] += len(created)
        self.written["updated"] += len(payloads) - len(created)

    def _lock_batch(self) -> None:
        """Re-read the batch under a row lock before the first write, so an approval cannot slip in between."""
        if self.is_locked:
            return
        self.batch = db.session.scalars(sa.select(AssessmentBatch).where(AssessmentBatch.id == self.batch.id)
                                        .with_for_update().execution_options(populate_existing=True)).one()
        self._check_editable()
        self.is_locked = True

    def finish(self, counts: dict[str, int]) -> None:
        record_event(self.actor, "import_results", "assessment_batch", self.batch.id, after={
            "file": self.job.filename, "sha256": self.job.file_sha256, **self.written,
            "skipped": counts.get("skipped", 0), "errors_skipped": counts.get("error", 0),
            **self.people.lookup_facts(),
        })

    def checked(self, counts: dict[str, int]) -> None:
        # As for rosters (registry/training/roster.py): a dry run answers about persons, so it is audited.
        record_event(self.actor, "check_import", "assessment_batch", self.batch.id, after={
            "kind": self.kind, "file": self.job.filename, "rows": sum(counts.values()),
            **self.people.lookup_facts(),
        })


def _text_of(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return re.sub(r"\s+", "", str(value if value is not None else ""))


def _names_occupation(text: str, occupation, work_type: str | None) -> bool:
    """The code, the name, or the name with the batch's 工种 in brackets."""
    text = text.replace("(", "（").replace(")", "）")
    accepted = {occupation.code, occupation.name}
    if work_type:
        accepted |= {f"{occupation.name}（{work_type}）", work_type}
    return text in accepted


def _changes(result: AssessmentResult, fields: dict) -> str:
    """What a re-upload would change, e.g. "理论 55.00 → 65.00"; empty when nothing would."""
    stored = (result.theory_score, result.practical_score, result.review_score)
    parts = [f"{SCORE_LABELS[column]} {_text(old)} → {_text(new)}"
             for column, old, new in zip((THEORY, PRACTICAL, REVIEW), stored, fields["scores"]) if old != new]
    if result.remarks != fields["remarks"]:
        parts.append("备注")
    return "更新：" + "，".join(parts) if parts else ""


def _text(score: Decimal | None) -> str:
    return "空" if score is None else f"{score:.2f}"


register_importer(ResultsImporter.kind, ResultsImporter)
