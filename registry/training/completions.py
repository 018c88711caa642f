"""Completion import: mark trainees of a class completed (结业) or dropped (退出) from a spreadsheet."""
from datetime import date
from typing import Any

from registry.core.audit import record_event
from registry.core.errors import InvalidInput
from registry.core.import_jobs import ImportJob, register_importer
from registry.core.imports import Outcome, RowError, RowOutcome
from registry.core.spreadsheets import Column, parse_date
from registry.people.masking import mask_document, mask_name
from registry.people.person_rows import (
    DOCUMENT_ALIASES, DOCUMENT_NUMBER, DOCUMENT_TYPE, NAME, parse_document, parse_rows,
    subject as row_subject,
)
from registry.training import operations
from registry.training.models import EnrollmentStatus
from registry.training.roster import ClassImporter

STATUS, COMPLETED_ON, HOURS = "结业状态", "结业日期", "参训学时"
STATUSES = {"结业": EnrollmentStatus.COMPLETED, "已结业": EnrollmentStatus.COMPLETED,
            "退出": EnrollmentStatus.DROPPED, "已退出": EnrollmentStatus.DROPPED}
# Operation fields → the column a user sees, so a rule broken in an operation lands on the right cell.
COLUMN_OF_FIELD = {"completed_on": COMPLETED_ON, "attended_hours": HOURS, "status": STATUS}

COMPLETION_COLUMNS = [
    Column("document_type", DOCUMENT_TYPE, required=False),
    Column("document_number", DOCUMENT_NUMBER, aliases=DOCUMENT_ALIASES),
    Column("name", NAME, aliases=("学员姓名",), required=False),
    Column("status", STATUS, aliases=("状态",), required=False),
    Column("completed_on", COMPLETED_ON, required=False),
    Column("attended_hours", HOURS, aliases=("实际学时", "学时"), required=False),
]
COMPLETION_SAMPLE = [["居民身份证", "11010519491231002X", "张三", "结业", "2025-04-30", "80"]]


def _hours(value: Any) -> int:
    try:
        hours = float(str(value).strip())
    except ValueError:
        raise RowError(HOURS, f"应为整数学时，实为“{value}”") from None
    if not hours.is_integer():
        raise RowError(HOURS, f"应为整数学时，实为“{value}”")
    return int(hours)


class CompletionImporter(ClassImporter):
    kind = "completions"
    title = "导入结业名单"
    columns = COMPLETION_COLUMNS

    def __init__(self, job: ImportJob):
        super().__init__(job)
        self.written = {"completed": 0, "dropped": 0}

    def _parse(self, row: int, values: dict[str, Any]) -> dict[str, Any]:
        document_type, number = parse_document(values)
        status_text = str(values["status"] or "结业").strip()
        if status_text not in STATUSES:
            raise RowError(STATUS, f"应为“结业”或“退出”，实为“{status_text}”")
        fields = {"document_type": document_type, "number": number, "status": STATUSES[status_text],
                  "name": str(values["name"] or "").strip(), "completed_on": None, "attended_hours": None}
        if fields["status"] is EnrollmentStatus.COMPLETED:
            fields["completed_on"] = self._date(values["completed_on"])
            if values["attended_hours"] is None:
                raise RowError(HOURS, "结业时不能为空")
            fields["attended_hours"] = _hours(values["attended_hours"])
            self._check_rules(fields["completed_on"], fields["attended_hours"])
        fields["digest"] = self.people.digest(document_type, number)
        self.people.claim(row, fields["digest"])
        return fields

    @staticmethod
    def _date(value: Any) -> date:
        if value is None:
            raise RowError(COMPLETED_ON, "结业时不能为空")
        try:
            return parse_date(value)
        except ValueError as error:
            raise RowError(COMPLETED_ON, str(error)) from None

    def _check_rules(self, completed_on: date, attended_hours: int) -> None:
        try:
            operations.check_completion(self.actor, self.training_class, completed_on, attended_hours)
        except InvalidInput as error:
            raise RowError(COLUMN_OF_FIELD.get(error.field, STATUS), error.message.split("：", 1)[-1]) from None

    def check_chunk(self, rows):
        parsed = parse_rows(rows, self._parse)
        persons = self.people.find([fields["digest"] for _row, fields in parsed if isinstance(fields, dict)])
        enrolled = self._enrollments([person.id for person in persons.values()])
        return [self._classify(row, fields, persons, enrolled) for row, fields in parsed]

    def _classify(self, row, fields, persons, enrolled) -> tuple[RowOutcome, Any]:
        if isinstance(fields, RowError):
            return fields.outcome(row), None
        subject = mask_document(fields["document_type"], fields["number"])
        person = persons.get(fields["digest"])
        enrollment = enrolled.get(person.id) if person else None
        if enrollment is None:
            # Named as the row names them: the registered name is no business of a class they are not in.
            return RowOutcome(row, Outcome.ERROR, "该人员不在本班名单中", DOCUMENT_NUMBER,
                              row_subject(fields["document_type"], fields["number"], fields["name"])), None
        subject = f"{mask_name(person.name)} {subject}"
        if fields["name"] and fields["name"] != person.name:
            return RowOutcome(row, Outcome.ERROR, "与该证件号码登记的姓名不符", NAME, subject), None
        if fields["completed_on"] and fields["completed_on"] < enrollment.enrolled_on:
            return RowOutcome(row, Outcome.ERROR, f"早于报名日期 {enrollment.enrolled_on.isoformat()}",
                              COMPLETED_ON, subject), None
        wanted = (fields["status"], fields["completed_on"], fields["attended_hours"])
        if (enrollment.status, enrollment.completed_on, enrollment.attended_hours) == wanted:
            return RowOutcome(row, Outcome.SKIPPED, "已是该状态，无需更改", subject=subject), None
        return RowOutcome(row, Outcome.UPDATED, fields["status"].label, subject=subject), (enrollment, fields)

    def write_chunk(self, payloads) -> None:
        # Completions touch rows that exist already, a class at a time: the audited operation per row is fine.
        for enrollment, fields in payloads:
            operations.set_enrollment_outcome(self.actor, enrollment, fields["status"], fields["completed_on"],
                                              fields["attended_hours"])
            self.written["completed" if fields["status"] is EnrollmentStatus.COMPLETED else "dropped"] += 1

    def finish(self, counts: dict[str, int]) -> None:
        record_event(self.actor, "import_completions", "training_class", self.training_class.id, after={
            "file": self.job.filename, "sha256": self.job.file_sha256, **self.written,
            "skipped": counts.get("skipped", 0), "errors_skipped": counts.get("error", 0),
        })


register_importer(CompletionImporter.kind, CompletionImporter)
