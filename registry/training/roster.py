"""Roster and completion imports for a training class: two row schemas on the shared import flow."""
from typing import Any

import sqlalchemy as sa
from flask import url_for

from registry.accounts.models import User
from registry.core.audit import record_event
from registry.core.db import db
from registry.core.errors import InvalidInput
from registry.core.import_jobs import ImportJob, register_importer
from registry.core.imports import Importer, Outcome, RowError, RowOutcome
from registry.core.spreadsheets import Column, parse_date
from registry.people.identity import DocumentType
from registry.people.masking import mask_document, mask_name
from registry.people.models import Person
from registry.people.operations import protector
from registry.reference.models import County
from registry.training import operations
from registry.training.models import Enrollment, EnrollmentStatus, TrainingClass
from registry.training.roster_rows import (
    COUNTY, DOCUMENT_NUMBER, DOCUMENT_TYPE, ENROLLED_ON, GENDER, KEY_GROUPS, NAME, PHONE, identity_facts,
    parse_document, parse_gender, parse_key_groups, parse_name, parse_phone,
)

ROSTER_COLUMNS = [
    Column("document_type", DOCUMENT_TYPE, required=False),
    Column("document_number", DOCUMENT_NUMBER, aliases=("身份证号", "身份证号码", "证件号")),
    Column("name", NAME, aliases=("学员姓名",)),
    Column("gender", GENDER, required=False),
    Column("county", COUNTY, aliases=("县区", "户籍县区", "所在县区代码"), required=False),
    Column("phone", PHONE, aliases=("手机", "手机号", "联系电话"), required=False),
    Column("key_groups", KEY_GROUPS, aliases=("人员类别",), required=False),
    Column("enrolled_on", ENROLLED_ON, aliases=("报名日期",), required=False),
]
ROSTER_SAMPLE = [["居民身份证", "11010519491231002X", "张三", "女", "杞县", "13800000000", "农村劳动力、退役军人",
                  "2025-03-05"]]


def _counties_by_name_and_code() -> dict[str, str]:
    """'杞县' or '410221' → '410221'; retired codes and names resolve to their successor."""
    lookup = {}
    for county in db.session.scalars(sa.select(County).where(County.kind != "city")):
        code = county.successor_code or county.code
        lookup[county.code] = lookup[county.name] = code
    return lookup


class ClassImporter(Importer):
    """What both schemas share: the class, its scope check, and finding persons by keyed hash."""

    def __init__(self, job: ImportJob):
        self.job = job
        self.actor = db.session.get(User, job.user_id)
        self.training_class = db.session.get(TrainingClass, job.target_id)
        if self.training_class is None:
            raise InvalidInput(None, "培训班不存在")
        self.protector = protector()
        self.first_row_of: dict[str, int] = {}

    @property
    def target_url(self) -> str:
        return url_for("training.class_detail", class_id=self.training_class.id)

    def _hash(self, document_type: DocumentType, number: str) -> str:
        return self.protector.lookup_hash(document_type.value, number)

    def _claim(self, row: int, digest: str) -> None:
        """The same person twice in one file is an error on the later row, naming the first."""
        first = self.first_row_of.setdefault(digest, row)
        if first != row:
            raise RowError(DOCUMENT_NUMBER, f"与第 {first} 行是同一人（证件号码重复）")

    def _persons(self, digests: list[str]) -> dict[str, tuple[int, str, int]]:
        rows = db.session.execute(sa.select(Person.document_hash, Person.id, Person.name, Person.key_groups)
                                  .where(Person.document_hash.in_(digests)))
        return {digest: (person_id, name, groups) for digest, person_id, name, groups in rows}

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
        operations.check_accepts_enrolment(self.actor, self.training_class)
        self.counties = _counties_by_name_and_code()
        self.written = {"new_persons": 0, "enrolments": 0}

    def _parse(self, row: int, values: dict[str, Any]) -> dict[str, Any]:
        document_type, number = parse_document(values)
        name = parse_name(values["name"])
        gender, birth_on = identity_facts(document_type, number)
        entered_gender = parse_gender(values["gender"])
        if gender and entered_gender and entered_gender is not gender:
            raise RowError(GENDER, f"与身份证号码不符（号码为{gender.label}性）")
        county_text = str(values["county"] or "").strip()
        county_code = self.counties.get(county_text) if county_text else self.training_class.county_code
        if county_code is None:
            raise RowError(COUNTY, f"未知的县区：{county_text}（填写县区名称或6位代码，如 杞县 或 410221）")
        enrolled_on = operations.default_enrolment_date(self.training_class)
        if values["enrolled_on"] is not None:
            try:
                enrolled_on = parse_date(values["enrolled_on"])
            except ValueError as error:
                raise RowError(ENROLLED_ON, str(error)) from None
        start, end = self.training_class.starts_on, self.training_class.ends_on
        if not start <= enrolled_on <= end:
            raise RowError(ENROLLED_ON, f"{enrolled_on.isoformat()} 不在培训班起止日期 {start.isoformat()} 至 "
                                        f"{end.isoformat()} 之内")
        digest = self._hash(document_type, number)
        self._claim(row, digest)
        return {"document_type": document_type, "number": number, "digest": digest, "name": name,
                "gender": gender or entered_gender, "birth_on": birth_on, "county_code": county_code, "phone": parse_phone(values["phone"]),
                "key_groups": parse_key_groups(values["key_groups"]), "enrolled_on": enrolled_on}

    def check_chunk(self, rows):
        parsed: list[tuple[int, dict | RowError]] = []
        for row, values in rows:
            try:
                parsed.append((row, self._parse(row, values)))
            except RowError as error:
                parsed.append((row, error))
        clean = [fields for _row, fields in parsed if isinstance(fields, dict)]
        persons = self._persons([fields["digest"] for fields in clean])
        enrolled = self._enrollments([persons[f["digest"]][0] for f in clean if f["digest"] in persons])
        return [self._classify(row, fields, persons, enrolled) for row, fields in parsed]

    def _classify(self, row, fields, persons, enrolled) -> tuple[RowOutcome, Any]:
        if isinstance(fields, RowError):
            return RowOutcome(row, Outcome.ERROR, fields.message, fields.column), None
        subject = f"{mask_name(fields['name'])} {mask_document(fields['document_type'], fields['number'])}"
        known = persons.get(fields["digest"])
        if known is None:
            return RowOutcome(row, Outcome.NEW, "新登记人员并报名", subject=subject), fields
        person_id, registered_name, groups = known
        if registered_name != fields["name"]:
            return RowOutcome(row, Outcome.ERROR, f"与该证件号码已登记的姓名（{mask_name(registered_name)}）不符",
                              NAME, subject), None
        if person_id in enrolled:
            return RowOutcome(row, Outcome.SKIPPED, "已在本班，不重复报名", subject=subject), None
        extra_groups = fields["key_groups"] & ~groups
        return RowOutcome(row, Outcome.EXISTING, "已登记人员报名", subject=subject), \
            fields | {"person_id": person_id, "extra_groups": extra_groups}

    def write_chunk(self, payloads: list[dict]) -> None:
        new = [fields for fields in payloads if "person_id" not in fields]
        ids = self._insert_persons(new) if new else {}
        groups = [{"person_id": f["person_id"], "groups": f["extra_groups"]} for f in payloads
                  if f.get("extra_groups")]
        if groups:
            persons = Person.__table__
            db.session.execute(persons.update().where(persons.c.id == sa.bindparam("person_id"))
                               .values(key_groups=persons.c.key_groups.op("|")(sa.bindparam("groups"))), groups)
        db.session.execute(sa.insert(Enrollment.__table__), [
            {"class_id": self.training_class.id, "person_id": fields.get("person_id") or ids[fields["digest"]],
             "enrolled_on": fields["enrolled_on"], "status": EnrollmentStatus.ENROLLED}
            for fields in payloads
        ])
        self.written["new_persons"] += len(new)
        self.written["enrolments"] += len(payloads)

    def _insert_persons(self, rows: list[dict]) -> dict[str, int]:
        """Core executemany, not one ORM object per row: 6–7× faster (design/MEASURED.md)."""
        encrypt = self.protector.encrypt
        values = [{
            "document_type": f["document_type"], "document_cipher": encrypt(f["number"]),
            "document_hash": f["digest"], "document_masked": mask_document(f["document_type"], f["number"]),
            "name": f["name"], "gender": f["gender"], "birth_on": f["birth_on"], "county_code": f["county_code"],
            "phone": f["phone"],
            "key_groups": f["key_groups"],
        } for f in rows]
        table = Person.__table__
        result = db.session.execute(table.insert().returning(table.c.document_hash, table.c.id), values)
        return dict(result.all())

    def finish(self, counts: dict[str, int]) -> None:
        record_event(self.actor, "import_roster", "training_class", self.training_class.id, after={
            "file": self.job.filename, "sha256": self.job.file_sha256, **self.written,
            "skipped": counts.get("skipped", 0), "errors_skipped": counts.get("error", 0),
        })


register_importer(RosterImporter.kind, RosterImporter)
