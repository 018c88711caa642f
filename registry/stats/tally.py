"""What a person's certificates and a class's enrolments add to the totals, and keeping the totals in step.

A person adds, in the county of their record: one holder on the day of their first valid certificate of a
counted kind; one to level_k on the first day they held a valid level certificate of level k or better;
one valid or revoked certificate on each certificate's issue day (and one to certificates_level_k for a valid
one of level k); and, for a rural-labour person trained since 2021, one rural_trained in each county they
trained in (on their first day there) and one rural_trained_once city-wide (in the county of their first
class). A class adds, in its own county, each enrolment (and, among them, completions, subsidised, rural-labour
and apprenticeship ones) on its enrolment day — the same definitions as registry.training.queries.
docs/STATISTICS.md says why.
"""
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from datetime import date

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite

from registry.certificates.models import Certificate, CertificateKind, CertificateStatus
from registry.core.db import db
from registry.core.imports import chunks
from registry.core.models import Setting
from registry.people.models import KeyGroup, Person
from registry.stats.coverage import NEW_SINCE
from registry.stats.models import MEASURES, CoverageDay, CoverageEntry, CoverageMonth
from registry.training.models import Enrollment, EnrollmentStatus, TrainingClass, TrainingType

LEVELLED_KINDS = (CertificateKind.SKILL_LEVEL, CertificateKind.QUALIFICATION)
CHUNK = 1000

Contribution = dict[tuple[str, date], Counter]  # (county code, day) → {measure: n}


# 持证口径: the kinds the administrator chose on /stats/counted-kinds (registry/stats/counting.py), kept as the
# setting of this key; until a choice is made, REGISTRY_STATS_COUNTED_KINDS, and when that is empty every kind
# (the plan's 持证人员总量 names none).
COUNTED_KINDS = "counted_kinds"


def counted_kinds() -> frozenset[CertificateKind]:
    row = db.session.get(Setting, COUNTED_KINDS)
    setting = row.value if row is not None else current_app.config.get("STATS_COUNTED_KINDS") or ""
    names = [name.strip() for name in setting.split(",") if name.strip()]
    return frozenset(CertificateKind(name) for name in names) if names else frozenset(CertificateKind)


# --- what a source adds ---------------------------------------------------------------------------------------

def person_contributions(person_ids: Iterable[int]) -> Iterator[tuple[int, Contribution]]:
    """Each person's contribution, empty for a person without certificates; read a chunk at a time."""
    kinds = counted_kinds()
    for ids in chunks(sorted(person_ids), CHUNK):
        rows = db.session.execute(
            sa.select(Person.id, Person.county_code, Certificate.kind, Certificate.level, Certificate.status,
                      Certificate.issued_on)
            .outerjoin(Certificate, Certificate.person_id == Person.id)
            .where(Person.id.in_(ids))
            # Two transactions refreshing one person would both take back the same old entries.
            .with_for_update(of=Person))
        certificates = defaultdict(list)
        counties = {}
        for person_id, county_code, *certificate in rows:
            counties[person_id] = county_code
            if certificate[0] is not None:
                certificates[person_id].append(certificate)
        training = _rural_training(ids)
        for person_id in ids:
            contribution = _person_contribution(counties.get(person_id), certificates[person_id], kinds)
            _add_rural_training(contribution, training[person_id])
            yield person_id, contribution


def _person_contribution(county_code, certificates, kinds) -> Contribution:
    contribution: Contribution = defaultdict(Counter)
    valid = [(kind, level, issued_on) for kind, level, status, issued_on in certificates
             if status is CertificateStatus.VALID and kind in kinds]
    if valid:
        contribution[county_code, min(issued_on for _kind, _level, issued_on in valid)]["holders"] += 1
    levelled = [(level, issued_on) for kind, level, issued_on in valid if kind in LEVELLED_KINDS and level]
    for rank in range(1, 6):
        days = [issued_on for level, issued_on in levelled if level <= rank]
        if days:
            contribution[county_code, min(days)][f"level_{rank}"] += 1
    for level, issued_on in levelled:
        contribution[county_code, issued_on][f"certificates_level_{level}"] += 1
    for kind, _level, status, issued_on in certificates:
        if kind in kinds and status is not CertificateStatus.SUPERSEDED:
            contribution[county_code, issued_on][f"certificates_{status.value}"] += 1
    return contribution


def _rural_training(person_ids: list[int]) -> dict[int, list[tuple[date, str]]]:
    """Person → (day, class county) of each of their enrolments since 2021, for rural-labour persons."""
    rural = int(KeyGroup.RURAL_LABOUR)
    rows = db.session.execute(
        sa.select(Enrollment.person_id, Enrollment.enrolled_on, TrainingClass.county_code)
        .join(TrainingClass, TrainingClass.id == Enrollment.class_id)
        .join(Person, Person.id == Enrollment.person_id)
        .where(Enrollment.person_id.in_(person_ids), Enrollment.enrolled_on >= NEW_SINCE,
               Person.key_groups.op("&")(rural) == rural))
    training = defaultdict(list)
    for person_id, enrolled_on, county_code in rows:
        training[person_id].append((enrolled_on, county_code))
    return training


def _add_rural_training(contribution: Contribution, training: list[tuple[date, str]]) -> None:
    if not training:
        return
    first_day_in: dict[str, date] = {}
    for day, county_code in sorted(training):
        first_day_in.setdefault(county_code, day)
    for county_code, day in first_day_in.items():
        contribution[county_code, day]["rural_trained"] += 1
    day, county_code = min(training)
    contribution[county_code, day]["rural_trained_once"] += 1


def _rural_enrolled() -> sa.Select:
    rural = int(KeyGroup.RURAL_LABOUR)
    return (sa.select(Enrollment.person_id).distinct().join(Person, Person.id == Enrollment.person_id)
            .where(Person.key_groups.op("&")(rural) == rural))


def rural_trainees() -> set[int]:
    """Every rural-labour person ever enrolled: whose rural_trained a rebuild must count."""
    return set(db.session.scalars(_rural_enrolled()))


def rural_trainees_in(class_ids: Iterable[int]) -> Iterator[list[int]]:
    """The rural-labour persons enrolled in these classes, whose rural_trained a change of the classes may move
    (any date: an enrolment moved to before 2021 must take back what it added). They stream a chunk at a time:
    a class of a million-row roster has a million of them. A person in two classes may come twice."""
    for ids in chunks(sorted(class_ids), CHUNK):
        statement = _rural_enrolled().where(Enrollment.class_id.in_(ids)).execution_options(yield_per=CHUNK)
        yield from db.session.scalars(statement).partitions()


def class_contributions(class_ids: Iterable[int]) -> Iterator[tuple[int, Contribution]]:
    for ids in chunks(sorted(class_ids), CHUNK):
        rows = db.session.execute(
            sa.select(TrainingClass.id, TrainingClass.county_code, TrainingClass.is_subsidised,
                      TrainingClass.training_type, Enrollment.enrolled_on, Enrollment.status, Person.key_groups)
            .join(Enrollment, Enrollment.class_id == TrainingClass.id)
            .join(Person, Person.id == Enrollment.person_id)
            .where(TrainingClass.id.in_(ids))
            .with_for_update(of=TrainingClass)
            # A class of a million-row roster: its enrolments are tallied as they stream, never held at once.
            .execution_options(yield_per=CHUNK))
        contributions: dict[int, Contribution] = {class_id: defaultdict(Counter) for class_id in ids}
        for class_id, county_code, is_subsidised, training_type, enrolled_on, status, key_groups in rows:
            tally = contributions[class_id][county_code, enrolled_on]
            tally["enrolments"] += 1
            tally["completions"] += status is EnrollmentStatus.COMPLETED
            tally["subsidised_enrolments"] += bool(is_subsidised)
            tally["rural_enrolments"] += bool(key_groups & KeyGroup.RURAL_LABOUR)
            tally["apprentice_enrolments"] += training_type is TrainingType.APPRENTICESHIP
        yield from contributions.items()


# --- keeping the totals in step -------------------------------------------------------------------------------

def refresh(source: str, contributions: Iterable[tuple[int, Contribution]],
            into: Contribution | None = None) -> None:
    """Replace what each source added before by what it adds now, in the entries and in the day totals; with
    `into`, the totals' changes are added up there instead, for the caller to write once (see `rebuild`)."""
    for batch in chunks(contributions, CHUNK):
        delta = _replace(source, batch)
        if into is None:
            add_to_days(delta)
        else:
            for key, counts in delta.items():
                into[key].update(counts)


def rebuild(persons: Iterable[int], classes: Iterable[int]) -> None:
    """The entries and the totals of every source, the totals emptied before: the city's changes added up in
    memory (one total a county and day, ≈ 16k at 1.35M persons) and each total row written once.

    Adding a chunk of sources at a time would update a month's row once a chunk (≈ 1,350 times at 1.35M
    persons), and PostgreSQL keeps each replaced version until VACUUM, which does not give the space back: the
    month totals read by /stats and every drill-down grew a hundredfold (docs/BENCHMARKS.md)."""
    totals: Contribution = defaultdict(Counter)
    refresh("person", person_contributions(persons), into=totals)
    refresh("class", class_contributions(classes), into=totals)
    add_to_days(totals)


def _replace(source: str, batch: list[tuple[int, Contribution]]) -> Contribution:
    """The batch's entries replaced; the change this makes to the totals."""
    ids = [source_id for source_id, _contribution in batch]
    entries = CoverageEntry.__table__
    delta: Contribution = defaultdict(Counter)
    old = db.session.execute(sa.select(entries).where(entries.c.source == source, entries.c.source_id.in_(ids)))
    for row in old.mappings():
        for measure in MEASURES:
            delta[row["county_code"], row["day"]][measure] -= row[measure]
    db.session.execute(entries.delete().where(entries.c.source == source, entries.c.source_id.in_(ids)))
    new_rows = []
    for source_id, contribution in batch:
        for (county_code, day), counts in contribution.items():
            if any(counts.values()):
                new_rows.append({"source": source, "source_id": source_id, "county_code": county_code, "day": day,
                                 **{measure: counts[measure] for measure in MEASURES}})
                delta[county_code, day].update(counts)
    if new_rows:
        db.session.execute(entries.insert(), new_rows)
    return delta


def add_to_days(delta: Contribution) -> None:
    """Add to the day totals and to their months, each with one upsert; keys in order, so concurrent
    writers lock rows in the same order."""
    by_month: Contribution = defaultdict(Counter)
    for (county_code, day), counts in delta.items():
        by_month[county_code, day.replace(day=1)].update(counts)
    _upsert(CoverageDay.__table__, "day", delta)
    _upsert(CoverageMonth.__table__, "month", by_month)


def _upsert(table: sa.Table, period: str, delta: Contribution) -> None:
    rows = [{"county_code": county_code, period: day, **{measure: counts[measure] for measure in MEASURES}}
            for (county_code, day), counts in sorted(delta.items()) if any(counts.values())]
    upsert_adding(table, ["county_code", period], MEASURES, rows)


def upsert_adding(table: sa.Table, keys: list[str], measures: Iterable[str], rows: list[dict]) -> None:
    """Insert each row, or add its measures to the row already there with the same keys (one statement)."""
    if not rows:
        return
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c[key] for key in keys],
        set_={measure: table.c[measure] + statement.excluded[measure] for measure in measures})
    db.session.execute(statement, rows)
