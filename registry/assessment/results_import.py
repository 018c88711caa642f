"""Results upload (认定成绩) for a batch: the roster's import flow with a score row schema."""
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import url_for

from registry.accounts.models import User
from registry.assessment import operations
from registry.assessment.models import AssessmentBatch, AssessmentResult, BatchStatus
from registry.core.audit import record_event
from registry.core.db import db
from registry.core.errors import InvalidInput
from registry.core.import_jobs import ImportJob, register_importer
from registry.core.imports import Importer, Outcome, RowError, RowOutcome
from registry.core.spreadsheets import Column
from registry.people.person_rows import (
    COUNTY, COUNTY_ALIASES, DOCUMENT_ALIASES, DOCUMENT_NUMBER, DOCUMENT_TYPE, NAME, PersonRows, parse_document,
    parse_name, parse_rows, subject,
)

THEORY, PRACTICAL, REVIEW, REMARKS = "理论知识成绩", "操作技能成绩", "综合评审成绩", "备注"
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
        digest = self.people.digest(document_type, number)
        self.people.claim(row, digest)
        return {"document_type": document_type, "number": number, "digest": digest, "name": name,
                "county_code": county_code, "scores": scores, "remarks": remarks,
                "is_passed": operations.is_passing(self.batch.level, *scores)}

    def check_chunk(self, rows):
        # Checked here rather than in __init__, which also serves the job page long after approval.
        if not self.is_checked:
            self._check_editable()
            self.is_checked = True
        parsed = parse_rows(rows, self._parse)
        persons = self.people.find([fields["digest"] for _row, fields in parsed if isinstance(fields, dict)])
        results = self._results([person.id for person in persons.values()])
        return [self._classify(row, fields, persons, results) for row, fields in parsed]

    def _results(self, person_ids: list[int]) -> dict[int, AssessmentResult]:
        found = db.session.scalars(sa.select(AssessmentResult).where(
            AssessmentResult.batch_id == self.batch.id, AssessmentResult.person_id.in_(person_ids)))
        return {result.person_id: result for result in found}

    def _classify(self, row, fields, persons, results) -> tuple[RowOutcome, Any]:
        if isinstance(fields, RowError):
            return RowOutcome(row, Outcome.ERROR, fields.message, fields.column), None
        who = subject(fields["document_type"], fields["number"], fields["name"])
        verdict = "合格" if fields["is_passed"] else "不合格"
        if refused := self.people.refusal(fields["digest"]):
            return RowOutcome(row, Outcome.ERROR, refused.message, refused.column, who), None
        known = self.people.answerable(persons.get(fields["digest"]), self.committing)
        if known is None:
            return RowOutcome(row, Outcome.NEW, f"新登记人员，录入成绩（{verdict}）{self.people.new_note}",
                              subject=who), fields
        if mismatch := self.people.name_mismatch(known, fields["name"]):
            return RowOutcome(row, Outcome.ERROR, mismatch.message, mismatch.column, who), None
        result = results.get(known.id)
        if result is None:
            return RowOutcome(row, Outcome.EXISTING, f"已登记人员，录入成绩（{verdict}）", subject=who), \
                fields | {"person_id": known.id}
        changed = _changes(result, fields)
        if not changed:
            return RowOutcome(row, Outcome.SKIPPED, "成绩与已录入的相同，无需更改", subject=who), None
        return RowOutcome(row, Outcome.UPDATED, f"{changed}（{verdict}）", subject=who), \
            fields | {"person_id": known.id, "result": result}

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
            } for fields in created])
            if self.batch.status is BatchStatus.PLANNED:
                self.batch.status = BatchStatus.RESULTS_ENTERED
        # A changed score is rarer and weightier than a new one: the audited operation records each change.
        for fields in payloads:
            if result := fields.get("result"):
                operations.record_result(self.actor, self.batch, result.person, *fields["scores"],
                                         remarks=fields["remarks"])
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
