"""`registry demo`: a living, clearly fictional registry, written through the operations users call.

Classes, batches, approvals, revocations and corrections go through the audited operations, one at a time.
The rows there are many of — persons, enrolments, results, certificates — go in through the bulk paths the
imports use (Core executemany: PersonRows.insert, the roster's and results import's inserts, and
registry.certificates.bulk_issue, which leaves each PDF's hash to its first rendering). That is what lets
`--persons 1350000` finish on a small machine; the CLI commits every CHUNK_PERSONS persons.
"""
import math
import random
from collections import Counter, deque
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from itertools import chain, islice

import sqlalchemy as sa

from registry.assessment.models import AssessmentResult, BatchStatus
from registry.assessment.operations import (
    REVIEW_LEVELS, approve_batch, check_accepts_results, create_batch, is_passing, pass_mark, score_values,
)
from registry.certificates.bulk_issue import issue_batch_in_bulk
from registry.certificates.models import Certificate, CertificateStatus
from registry.certificates.operations import correct_certificate, revoke_certificate
from registry.core.audit import AuditEvent, record_event
from registry.core.changes import note_classes_changed, note_persons_changed
from registry.core.db import db
from registry.core.errors import InvalidInput
from registry.demo import (
    COUNTY_WEIGHTS, MAX_PERSONS, MAX_SEED, Identity, World, load_world, missing_identities,
    seed_generated_organisations,
)
from registry.organizations.models import Agency, AgencyStatus
from registry.people.identity import DocumentType
from registry.people.models import KeyGroup
from registry.people.person_rows import PersonRows
from registry.reference.models import LEVEL_LABELS
from registry.training.models import ClassStatus, Enrollment, EnrollmentStatus, TrainingType
from registry.training.operations import change_class_status, check_accepts_enrolment, create_class

GENERATE_ACTION = "generate_demo"
# Persons between commits when the caller asks for them: memory stays flat and an interrupted run keeps what
# it committed (running the command again adds only the persons still missing).
CHUNK_PERSONS = 50_000


def demo_data_present() -> bool:
    """Whether `registry demo` ever wrote anything here: its audit event says so."""
    found = sa.select(AuditEvent.id).where(AuditEvent.action == GENERATE_ACTION).limit(1)
    return db.session.scalar(found) is not None


# --- how the classes run ---------------------------------------------------------------------------------
FIRST_DAY, LAST_DAY = date(2021, 1, 4), date(2025, 12, 31)
YEAR_WEIGHTS = {2021: 10, 2022: 13, 2023: 17, 2024: 22, 2025: 26}  # the campaign gathers pace
MONTH_WEIGHTS = (4, 3, 11, 13, 12, 10, 8, 7, 12, 13, 12, 9)  # quiet at the Spring Festival and in summer
LEVEL_WEIGHTS = {5: 40, 4: 30, 3: 18, 2: 8, 1: 4}
TRAINING_TYPES = {TrainingType.EMPLOYMENT: 40, TrainingType.UPSKILLING: 35,
                  TrainingType.APPRENTICESHIP: 10, TrainingType.ENTREPRENEURSHIP: 8, TrainingType.OTHER: 7}
HOURS = {5: (40, 80), 4: (64, 120), 3: (80, 160), 2: (120, 200), 1: (160, 240)}
REVOCATION_REASONS = ("经核查，考生冒名顶替参加认定", "考生提供的学历证明材料不实",
                      "认定过程违规，经复核撤销", "重复发证，撤销其中一本")
CORRECTION_REASONS = ("姓名录入错误，重新发证", "证件号码录入错误，重新发证", "发证日期有误，重新发证")
# Chance in 1024 of each key group for a person living in a district, and in a rural county.
GROUP_ODDS = ((KeyGroup.RURAL_LABOUR, 200, 480), (KeyGroup.POVERTY_ALLEVIATED, 15, 70),
              (KeyGroup.VETERAN, 30, 30), (KeyGroup.GRADUATE, 110, 50), (KeyGroup.MIGRANT_WORKER, 140, 230),
              (KeyGroup.UNEMPLOYED, 110, 80), (KeyGroup.EMPLOYEE, 330, 170), (KeyGroup.STUDENT, 70, 50),
              (KeyGroup.DISABLED, 10, 12))
# Flushed objects are dropped from the session past this size, so memory stays flat at a million persons.
IDENTITY_MAP_LIMIT = 20_000


def key_groups(traits: int, rural: bool) -> int:
    flags = 0
    for position, (group, district_odds, rural_odds) in enumerate(GROUP_ODDS):
        if (traits >> (10 * position)) & 1023 < (rural_odds if rural else district_odds):
            flags |= group
    return flags


def _weighted(rng: random.Random, weights: dict):
    keys = list(weights)
    return rng.choices(keys, [weights[key] for key in keys])[0]


def certificate_statuses(after_id: int) -> dict[str, int]:
    rows = db.session.execute(sa.select(Certificate.status, sa.func.count()).where(Certificate.id > after_id)
                              .group_by(Certificate.status))
    return {f"certificates_{status.value}": count for status, count in rows}


# --- the generator ---------------------------------------------------------------------------------------
class DemoGenerator:
    """Classes of new persons, one after another; each class runs its course as far as its dates allow."""

    def __init__(self, persons: int, seed: int, progress: Callable[[int], None],
                 commit: Callable[[], None] | None = None, chunk_persons: int = CHUNK_PERSONS):
        self.persons, self.seed, self.progress = persons, seed, progress
        self.commit, self.chunk_persons = commit, chunk_persons
        self.people = PersonRows()
        self.until = min(date.today(), LAST_DAY)
        self.counts: Counter[str] = Counter()
        # Certified persons who may come back for another class (a person in two classes is two 人次).
        self.certified: deque[tuple[int, date]] = deque(maxlen=5000)
        self.rng = random.Random()
        self.world: World | None = None

    def run(self) -> Counter[str]:
        stream = missing_identities(self.seed, self.persons, self.people)
        first = next(stream, None)
        if first is None:
            return self.counts
        self.counts["organisations"] = seed_generated_organisations()
        self.world = load_world()
        if not self.world.institutions or not self.world.scopes:
            raise InvalidInput(None, "没有在用的演示培训机构或备案有效的演示评价机构")
        first_certificate = self._last_certificate()
        while first is not None:
            first = self._run_chunk(first, stream)
        self.counts.update(certificate_statuses(first_certificate))
        record_event(None, GENERATE_ACTION, "demo_data", None,
                     after={"seed": self.seed, "persons_requested": self.persons, **self.counts})
        return self.counts

    def _run_chunk(self, first: Identity, stream) -> Identity | None:
        """Classes of new persons until `chunk_persons` of them are committed, or the seed's persons end;
        returns the first person of the next chunk.

        Each chunk draws from a random stream of its own, seeded by its first person, and knows nothing of
        the chunks before it: a run interrupted after a commit and run again makes exactly what an
        uninterrupted run makes. (A larger --persons starts mid-chunk, so it continues with other classes.)
        """
        self.rng = random.Random(f"registry-demo:{self.seed}:{first.index}")
        self.certified.clear()
        chunk_certificate = self._last_certificate()
        stream = chain([first], stream)
        chunk_persons = 0
        while newcomers := list(islice(stream, self.rng.randint(18, 60))):
            self._run_class(newcomers)
            self.progress(newcomers[-1].index + 1)
            chunk_persons += len(newcomers)
            if len(db.session.identity_map) > IDENTITY_MAP_LIMIT:
                db.session.flush()
                db.session.expunge_all()
            if self.commit and chunk_persons >= self.chunk_persons:
                self._revoke_and_correct(chunk_certificate)
                self.commit()
                return next(stream, None)
        self._revoke_and_correct(chunk_certificate)
        return None

    @staticmethod
    def _last_certificate() -> int:
        return db.session.scalar(sa.select(sa.func.max(Certificate.id))) or 0

    def _run_class(self, newcomers: list[Identity]) -> None:
        values = self._plan_class()
        training_class = create_class(None, **values)
        change_class_status(None, training_class, ClassStatus.RUNNING)
        check_accepts_enrolment(None, training_class)
        ids = self.people.insert([self._person(one, values["county_code"]) for one in newcomers])
        members = [ids[one.digest] for one in newcomers]
        members += self._returning(values["starts_on"], len(newcomers))
        # A class that ended in the last week still runs: its institution has not recorded completion yet.
        running = values["ends_on"] > self.until - timedelta(days=7)
        rows = [self._enrolment(values, training_class.id, person_id, running) for person_id in members]
        db.session.execute(sa.insert(Enrollment.__table__), rows)
        note_classes_changed([training_class.id])
        record_event(None, "generate_roster", "training_class", training_class.id,
                     after={"new_persons": len(newcomers), "enrolments": len(rows)})
        self.counts.update(persons=len(newcomers), classes=1, enrolments=len(rows))
        if running:
            return
        change_class_status(None, training_class, ClassStatus.FINISHED)
        if values["ends_on"] < self.until - timedelta(days=60) and self.rng.random() < 0.75:
            change_class_status(None, training_class, ClassStatus.CLOSED)
        completed = [row["person_id"] for row in rows if row["status"] is EnrollmentStatus.COMPLETED]
        if completed and self.rng.random() < 0.85:  # the others were trained but never assessed
            self._assess(values, training_class.id, completed)

    def _plan_class(self) -> dict:
        rng, world = self.rng, self.world
        starts_on = self._start_date()
        institution_id, county_code = _weighted(rng, world.institutions)
        if rng.random() < 0.15:  # classes held away from the institution's own county
            county_code = _weighted(rng, {code: weight for code, weight in COUNTY_WEIGHTS.items()
                                          if world.counties.get(code) == code})
        program = None  # one class in ten belongs to no programme
        if world.programs and rng.random() >= 0.1:
            program = _weighted(rng, {key: weight for key, (weight, _ids) in world.programs.items()})
        occupation_id = self._occupation(program, starts_on)
        if occupation_id is None:
            program, occupation_id = None, self._occupation(None, starts_on)
        if occupation_id is None:
            raise InvalidInput(None, f"演示评价机构在 {starts_on.isoformat()} 没有有效的备案范围")
        levels = sorted(self._levels(occupation_id, starts_on))
        level = _weighted(rng, {level: LEVEL_WEIGHTS[level] for level in levels})
        low, high = HOURS[level]
        hours = rng.randrange(low, high + 1, 8)
        training_type = _weighted(rng, TRAINING_TYPES)
        return {
            "institution_id": institution_id, "occupation_id": occupation_id, "work_type": None,
            "name": f"{world.occupations[occupation_id]}{LEVEL_LABELS[level].split('/')[0]}"
                    f"{training_type.label}班（{starts_on.year}年{starts_on.month}月）",
            "target_level": level, "training_type": training_type, "program_key": program,
            "is_subsidised": rng.random() < 0.65, "planned_hours": hours, "starts_on": starts_on,
            "ends_on": min(LAST_DAY, starts_on + timedelta(days=hours // rng.choice((4, 6, 8)))),
            "county_code": county_code,
        }

    def _start_date(self) -> date:
        years = {year: weight for year, weight in YEAR_WEIGHTS.items() if year <= self.until.year}
        latest = max(FIRST_DAY, self.until - timedelta(days=10))
        while True:
            day = date(_weighted(self.rng, years), self.rng.choices(range(1, 13), MONTH_WEIGHTS)[0],
                       self.rng.randint(1, 28))
            if FIRST_DAY <= day <= latest:
                return day

    def _levels(self, occupation_id: int, on: date) -> set[int]:
        return {level for scope in self.world.scopes if scope.covers(occupation_id, on)
                for level in range(scope.highest_level, scope.lowest_level + 1)}

    def _occupation(self, program: str | None, on: date) -> int | None:
        choices = self.world.programs[program][1] if program else sorted(self.world.occupations)
        covered = [occupation_id for occupation_id in choices if self._levels(occupation_id, on)]
        return self.rng.choice(covered) if covered else None

    def _person(self, one: Identity, class_county: str) -> dict:
        """Most trainees live where their class is held; the rest in the county their ID number names."""
        county = class_county if one.traits & 1023 < 820 else self.world.counties[one.birth_county]
        return {"document_type": DocumentType.RESIDENT_ID, "number": one.number, "digest": one.digest,
                "name": one.name, "county_code": county,
                "key_groups": key_groups(one.traits >> 10, county in self.world.rural)}

    def _returning(self, starts_on: date, size: int) -> list[int]:
        if not self.certified or self.rng.random() > 0.15:
            return []
        earlier = sorted({person_id for person_id, issued_on in self.certified if issued_on < starts_on})
        return self.rng.sample(earlier, min(len(earlier), self.rng.randint(1, max(1, size // 6))))

    def _enrolment(self, values: dict, class_id: int, person_id: int, running: bool) -> dict:
        starts_on, ends_on = values["starts_on"], values["ends_on"]
        late = self.rng.randint(0, min(3, (ends_on - starts_on).days))
        row = {"class_id": class_id, "class_county_code": values["county_code"], "person_id": person_id,
               "status": EnrollmentStatus.ENROLLED,
               "enrolled_on": starts_on + timedelta(days=late), "completed_on": None, "attended_hours": None}
        if running:
            return row
        if self.rng.random() < 0.08:
            return row | {"status": EnrollmentStatus.DROPPED}
        hours = values["planned_hours"]
        return row | {"status": EnrollmentStatus.COMPLETED, "completed_on": ends_on,
                      "attended_hours": hours - self.rng.randint(0, hours // 10)}

    def _assess(self, values: dict, class_id: int, completed: list[int]) -> None:
        """A batch for the class: results of those who sit it, then approval and issue as the dates allow."""
        rng = self.rng
        assessed_on = values["ends_on"] + timedelta(days=rng.randint(3, 21))
        agency_id = self._agency(values["occupation_id"], values["target_level"], values["county_code"],
                                 assessed_on)
        if assessed_on > self.until or agency_id is None:
            return
        batch = create_batch(None, agency_id=agency_id, occupation_id=values["occupation_id"], work_type=None,
                             level=values["target_level"], assessed_on=assessed_on,
                             county_code=values["county_code"], training_class_id=class_id)
        present = [person_id for person_id in completed if rng.random() < 0.95] or completed[:1]
        self._record_results(batch, present)
        self.counts.update(batches=1, results=len(present))
        # A few batches wait for approval: assessed, but not (yet) certified.
        if assessed_on > self.until - timedelta(days=7) or rng.random() < 0.02:
            return
        approve_batch(None, batch)
        issued_on = assessed_on + timedelta(days=rng.randint(10, 35))
        if issued_on <= self.until:
            self.certified.extend((person_id, issued_on)
                                  for person_id in issue_batch_in_bulk(None, batch, issued_on))

    def _record_results(self, batch, person_ids: list[int]) -> None:
        """The batch's results as the results upload writes them: checked scores, one Core executemany."""
        check_accepts_results(None, batch)
        pass_rate = self.rng.uniform(0.65, 0.92)
        entered_at = results_entered_at(batch.id, batch.assessed_on, self.until)
        rows = []
        for person_id in person_ids:
            scores = score_values(batch.level, *self._scores(batch.level, self.rng.random() < pass_rate))
            rows.append({"batch_id": batch.id, "person_id": person_id, "theory_score": scores[0],
                         "practical_score": scores[1], "review_score": scores[2],
                         "is_passed": is_passing(batch.level, *scores), "remarks": "", "created_at": entered_at})
        db.session.execute(sa.insert(AssessmentResult.__table__), rows)
        note_persons_changed(person_ids)
        batch.status = BatchStatus.RESULTS_ENTERED
        record_event(None, "generate_results", "assessment_batch", batch.id, after={
            "created": len(rows), "passed": sum(row["is_passed"] for row in rows)})

    def _agency(self, occupation_id: int, level: int, county_code: str, on: date) -> int | None:
        """An agency whose filed scope covers the batch, most likely one in the class's county, and more
        likely one that a demo account works for."""
        candidates = sorted({(scope.agency_id, scope.county_code) for scope in self.world.scopes
                             if scope.covers(occupation_id, on)
                             and scope.highest_level <= level <= scope.lowest_level})
        if not candidates:
            return None
        weights = [(4 if county == county_code else 1) * (6 if agency_id in self.world.staffed else 1)
                   for agency_id, county in candidates]
        return self.rng.choices(candidates, weights)[0][0]

    def _scores(self, level: int, passed: bool) -> tuple:
        """Theory, practical and (二级/一级) review scores; a failing candidate misses the mark in one."""
        mark = math.ceil(pass_mark())
        scores = [self.rng.randint(mark, max(mark, 98)) for _ in range(3 if level in REVIEW_LEVELS else 2)]
        if not passed and mark > 0:
            scores[self.rng.randrange(len(scores))] = self.rng.randint(max(0, mark - 35), mark - 1)
        return (*scores, None)[:3]

    def _revoke_and_correct(self, last_certificate: int) -> None:
        """A handful of the certificates issued since `last_certificate` revoked with a reason, as many
        corrected (superseded), through the audited operations (a correction renders its new PDF)."""
        ids = list(db.session.scalars(
            sa.select(Certificate.id).join(Agency, Certificate.agency_id == Agency.id)
            .where(Certificate.id > last_certificate, Certificate.status == CertificateStatus.VALID,
                   Agency.status == AgencyStatus.ACTIVE).order_by(Certificate.id)))
        share = max(2, len(ids) // 250) if len(ids) >= 8 else len(ids) // 4
        chosen = self.rng.sample(ids, 2 * share)
        for certificate_id in chosen[:share]:
            certificate = db.session.get(Certificate, certificate_id)
            revoke_certificate(None, certificate, self.rng.choice(REVOCATION_REASONS))
        for certificate_id in chosen[share:]:
            certificate = db.session.get(Certificate, certificate_id)
            corrected_on = min(self.until, certificate.issued_on + timedelta(days=self.rng.randint(7, 60)))
            correct_certificate(None, certificate, self.rng.choice(CORRECTION_REASONS),
                                issued_on=corrected_on)


def generate_demo_data(persons: int, seed: int = 1, progress: Callable[[int], None] = lambda done: None,
                       commit: Callable[[], None] | None = None, chunk_persons: int = CHUNK_PERSONS) -> Counter:
    """Add whichever of the seed's first `persons` fictional persons are missing, with their classes,
    batches and certificates; returns what was added. The caller commits the last part.

    `progress` hears how many of the `persons` identities have been dealt with so far. Without `commit`
    everything is one transaction; with it, `commit` is called after every `chunk_persons` new persons
    (at a class boundary, once that chunk's revocations and corrections are made). The run's audit event
    (`demo_data_present`) is written last, so an interrupted run is not yet "present".
    """
    if not 1 <= persons <= MAX_PERSONS or not 0 <= seed <= MAX_SEED:
        raise InvalidInput("persons", f"人数应为1–{MAX_PERSONS}，种子应为0–{MAX_SEED}")
    return DemoGenerator(persons, seed, progress, commit, chunk_persons).run()


def results_entered_at(batch_id: int, assessed_on: date, until: date) -> datetime:
    """When a demo batch's results were typed in: one to five days after the assessment, as a diligent agency
    would, never after the demo's last day. Derived from the batch id rather than the random stream, so that
    adding it left every other generated value as it was; stamping them 'now' made the late-results signal flag
    every demo batch."""
    return datetime.combine(min(assessed_on + timedelta(days=1 + batch_id % 5), until), time(9), tzinfo=UTC)
