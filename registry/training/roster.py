"""Roster and completion imports for a training class: two row schemas on the shared import flow."""
from typing import Any

import sqlalchemy as sa
from flask import url_for

from registry.accounts.models import User
from registry.core.audit import record_event
from registry.core.changes import note_classes_changed, note_persons_changed
from registry.core.db import db
from registry.core.errors import InvalidInput
from registry.core.import_jobs import ImportJob, register_importer
from registry.core.imports import Importer, Outcome, RowError, RowOutcome
from registry.core.spreadsheets import Column, parse_date
from registry.people.models import Person
from registry.people.person_rows import (
    COUNTY, COUNTY_ALIASES, DOCUMENT_ALIASES, DOCUMENT_NUMBER, DOCUMENT_TYPE, NAME, PersonRows, identity_facts,
    parse_document, parse_name, parse_rows, subject,
)
from registry.training import operations
from registry.training.models import Enrollment, EnrollmentStatus, TrainingClass
from registry.training.roster_rows import (
    ENROLLED_ON, GENDER, KEY_GROUPS, PHONE, parse_gender, parse_key_groups, parse_phone,
)

ROSTER_COLUMNS = [
    Column("document_type", DOCUMENT_TYPE, required=False),
    Column("document_number", DOCUMENT_NUMBER, aliases=DOCUMENT_ALIASES),
    Column("name", NAME, aliases=("学员姓名",)),
    Column("gender", GENDER, required=False),
    Column("county", COUNTY, aliases=COUNTY_ALIASES, required=False),
    Column("phone", PHONE, aliases=("手机", "手机号", "联系电话"), required=False),
    Column("key_groups", KEY_GROUPS, aliases=("人员类别",), required=False),
    Column("enrolled_on", ENROLLED_ON, aliases=("报名日期",), required=False),
]
ROSTER_SAMPLE = [["居民身份证", "11010519491231002X", "张三", "女", "杞县", "13800000000", "农村劳动力、退役军人",
                  "2025-03-05"]]


def _note_group_gains(groups: list[dict]) -> None:
    """A person newly flagged in a key group is counted there as a holder and in every class they were in
    before (the drill-down by key group, and the rural 人次)."""
    gaining = [row["person_id"] for row in groups]
    note_persons_changed(gaining)
    note_classes_changed(db.session.scalars(
        sa.select(Enrollment.class_id).where(Enrollment.person_id.in_(gaining)).distinct()))


def _warned(message: str, fields: dict) -> str:
    # A warning does not stop the row: it rides on the row's answer, which the report shows in full.
    return f"{message}；提醒：{fields['warning']}" if fields["warning"] else message


class ClassImporter(Importer):
    """What both schemas share: the class, its scope check, and the persons the rows name (PersonRows)."""

    def __init__(self, job: ImportJob):
        self.job = job
        self.actor = db.session.get(User, job.user_id)
        self.training_class = db.session.get(TrainingClass, job.target_id)
        if self.training_class is None:
            raise InvalidInput(None, "培训班不存在")
        self.people = PersonRows()

    @property
    def target_url(self) -> str:
        return url_for("training.class_detail", class_id=self.training_class.id)

    def _enrollments(self, person_ids: list[int]) -> dict[int, Enrollment]:
        found = db.session.scalars(sa.select(Enrollment).where(
            Enrollment.class_id == self.training_class.id, Enrollment.person_id.in_(person_ids)))
        return {enrollment.person_id: enrollment for enrollment in found}


class RosterImporter(ClassImporter):
    kind = "roster"
    title = "导入学员名单（参训报名）"
    columns = ROSTER_COLUMNS

    def __init__(self, job: ImportJob):
        super().__init__(job)
        # A roster names anyone, so its answers are kept to what the uploader may know (person_rows.py);
        # completions only ever answer about this class's own trainees.
        self.people = PersonRows(self.actor)
        self.is_checked = False
        self.written = {"new_persons": 0, "enrolments": 0}

    def _parse(self, row: int, values: dict[str, Any]) -> dict[str, Any]:
        document_type, number = parse_document(values)
        name = parse_name(values["name"])
        gender, birth_on = identity_facts(document_type, number)
        entered_gender = parse_gender(values["gender"])
        if gender and entered_gender and entered_gender is not gender:
            raise RowError(GENDER, f"与身份证号码不符（号码为{gender.label}性）")
        county_code = self.people.county(values["county"], default=self.training_class.county_code)
        if values["enrolled_on"] is None:
            enrolled_on = operations.default_enrolment_date(self.training_class)
        else:
            try:
                enrolled_on = parse_date(values["enrolled_on"])
            except ValueError as error:
                raise RowError(ENROLLED_ON, str(error)) from None
        problem, why = operations.enrolment_date_problem(self.training_class, enrolled_on)
        if problem == "error":
            raise RowError(ENROLLED_ON, why)
        digest = self.people.digest(document_type, number)
        self.people.claim(row, digest)
        return {"document_type": document_type, "number": number, "digest": digest, "name": name,
                "gender": gender or entered_gender, "birth_on": birth_on, "county_code": county_code,
                "phone": parse_phone(values["phone"]), "key_groups": parse_key_groups(values["key_groups"]),
                "enrolled_on": enrolled_on, "warning": why}

    def check_chunk(self, rows):
        # Checked here rather than in __init__, which also serves the job page long after the class finished.
        if not self.is_checked:
            operations.check_accepts_enrolment(self.actor, self.training_class)
            self.is_checked = True
        parsed = parse_rows(rows, self._parse)
        clean = [fields for _row, fields in parsed if isinstance(fields, dict)]
        persons = self.people.find([fields["digest"] for fields in clean])
        enrolled = self._enrollments([persons[f["digest"]].id for f in clean if f["digest"] in persons])
        return [self._classify(row, fields, persons, enrolled) for row, fields in parsed]

    def _classify(self, row, fields, persons, enrolled) -> tuple[RowOutcome, Any]:
        if isinstance(fields, RowError):
            return fields.outcome(row), None
        who = subject(fields["document_type"], fields["number"], fields["name"])
        if refused := self.people.refusal(fields["digest"]):
            return RowOutcome(row, Outcome.ERROR, refused.message, refused.column, who), None
        known = self.people.answerable(persons.get(fields["digest"]), self.committing)
        if known is None:
            return RowOutcome(row, Outcome.NEW, _warned("新登记人员并报名" + self.people.new_note, fields),
                              subject=who), fields
        if mismatch := self.people.name_mismatch(known, fields["name"]):
            return RowOutcome(row, Outcome.ERROR, mismatch.message, mismatch.column, who), None
        if known.id in enrolled:
            return RowOutcome(row, Outcome.SKIPPED, "已在本班，不重复报名", subject=who), None
        extra_groups = fields["key_groups"] & ~known.key_groups
        return RowOutcome(row, Outcome.EXISTING, _warned("已登记人员报名", fields), subject=who), \
            fields | {"person_id": known.id, "extra_groups": extra_groups}

    def write_chunk(self, payloads: list[dict]) -> None:
        new = [fields for fields in payloads if "person_id" not in fields]
        ids = self.people.insert(new)
        groups = [{"person_id": f["person_id"], "groups": f["extra_groups"]} for f in payloads
                  if f.get("extra_groups")]
        if groups:
            persons = Person.__table__
            db.session.execute(persons.update().where(persons.c.id == sa.bindparam("person_id"))
                               .values(key_groups=persons.c.key_groups.op("|")(sa.bindparam("groups"))), groups)
            _note_group_gains(groups)
        # ORM attribute reads cost more than locals, 1,000 times a chunk.
        class_id, county_code = self.training_class.id, self.training_class.county_code
        note_classes_changed([class_id])
        db.session.execute(sa.insert(Enrollment.__table__), [
            {"class_id": class_id, "class_county_code": county_code,
             "person_id": fields.get("person_id") or ids[fields["digest"]],
             "enrolled_on": fields["enrolled_on"], "status": EnrollmentStatus.ENROLLED}
            for fields in payloads
        ])
        self.written["new_persons"] += len(new)
        self.written["enrolments"] += len(payloads)

    def finish(self, counts: dict[str, int]) -> None:
        record_event(self.actor, "import_roster", "training_class", self.training_class.id, after={
            "file": self.job.filename, "sha256": self.job.file_sha256, **self.written,
            "skipped": counts.get("skipped", 0), "errors_skipped": counts.get("error", 0),
            **self.people.lookup_facts(),
        })

    def checked(self, counts: dict[str, int]) -> None:
        # A dry run writes nothing, but it answers about persons: who looked up how many numbers outside
        # their records is what shows an institution probing the registry.
        record_event(self.actor, "check_import", "training_class", self.training_class.id, after={
            "kind": self.kind, "file": self.job.filename, "rows": sum(counts.values()),
            **self.people.lookup_facts(),
        })


register_importer(RosterImporter.kind, RosterImporter)
