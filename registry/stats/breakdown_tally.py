"""What a person and a training class add to the drill-downs' breakdowns, and keeping them in step (#17).

The figures are those of registry.stats.drilldowns, of the counted kinds, split so that they add up:
- a person adds, in the county of their record, one holder to each occupation, agency and key group (their
  current ones; "0" for none) on the day of their first valid certificate there; each valid certificate to
  its occupation and agency, each revoked one to its agency, on its issue day; and each assessment result
  (and pass) to the batch's agency on the assessment day;
- a class adds, in its own county on each enrolment day, its enrolments (and completions, subsidised ones)
  to its occupation, programme, institution and to each key group of the enrolled person; and one class to
  its institution on the day of its first enrolment.
A holder or a class counted on its first day means that the sums up to a date are persons and classes as of
that date; a range with a start is not a sum of them (kept_tables.py knows which tables can be read).
"""
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from datetime import date

import sqlalchemy as sa

from registry.assessment.models import AssessmentBatch, AssessmentResult
from registry.certificates.models import Certificate, CertificateStatus
from registry.core.db import db
from registry.core.imports import chunks
from registry.people.models import KEY_GROUP_LABELS, Person
from registry.reference.models import County
from registry.stats.models import BREAKDOWN_MEASURES, BreakdownDay, BreakdownMonth, BreakdownSource
from registry.stats.tally import CHUNK, counted_kinds, upsert_adding
from registry.training.models import Enrollment, EnrollmentStatus, TrainingClass

Key = tuple[str, str, str, date]  # dimension, value, county code, day
Contribution = dict[Key, Counter]


def value_of(identifier) -> str:
    return "" if identifier is None else str(identifier)


def groups_of(key_groups: int) -> list[str]:
    """The key groups a person is counted in: each flagged group, or "0" for none."""
    if not key_groups:
        return ["0"]
    return [str(int(group)) for group in KEY_GROUP_LABELS if key_groups & group]


# --- what a source adds ---------------------------------------------------------------------------------------

def person_contributions(person_ids: Iterable[int]) -> Iterator[tuple[int, Contribution]]:
    kinds = counted_kinds()
    for ids in chunks(sorted(person_ids), CHUNK):
        # the coverage tally, run first in the same transaction, holds these persons' row locks already
        rows = db.session.execute(sa.select(Person.id, Person.county_code, Person.key_groups)
                                  .where(Person.id.in_(ids)))
        persons = {person_id: (county_code, key_groups) for person_id, county_code, key_groups in rows}
        certificates = defaultdict(list)
        for person_id, *certificate in db.session.execute(
                sa.select(Certificate.person_id, Certificate.kind, Certificate.status, Certificate.occupation_id,
                          Certificate.agency_id, Certificate.issued_on).where(Certificate.person_id.in_(ids))):
            certificates[person_id].append(certificate)
        results = defaultdict(list)
        for person_id, *result in db.session.execute(
                sa.select(AssessmentResult.person_id, AssessmentBatch.agency_id, AssessmentBatch.assessed_on,
                          AssessmentResult.is_passed)
                .join(AssessmentBatch, AssessmentBatch.id == AssessmentResult.batch_id)
                .where(AssessmentResult.person_id.in_(ids))):
            results[person_id].append(result)
        for person_id in ids:
            if person_id not in persons:
                yield person_id, {}
                continue
            county_code, key_groups = persons[person_id]
            yield person_id, _person_contribution(county_code, key_groups, certificates[person_id],
                                                  results[person_id], kinds)


def _person_contribution(county_code, key_groups, certificates, results, kinds) -> Contribution:
    contribution: Contribution = defaultdict(Counter)
    counted = [(status, value_of(occupation_id), value_of(agency_id), issued_on)
               for kind, status, occupation_id, agency_id, issued_on in certificates if kind in kinds]
    valid = [row for row in counted if row[0] is CertificateStatus.VALID]
    for dimension, index in (("occupation", 1), ("agency", 2)):
        first: dict[str, date] = {}
        for row in valid:
            first[row[index]] = min(first.get(row[index], row[3]), row[3])
        for value, day in first.items():
            contribution[dimension, value, county_code, day]["holders"] += 1
    for status, occupation, agency, issued_on in counted:
        if status is CertificateStatus.VALID:
            contribution["occupation", occupation, county_code, issued_on]["certificates_valid"] += 1
            contribution["agency", agency, county_code, issued_on]["certificates_valid"] += 1
        elif status is CertificateStatus.REVOKED:
            contribution["agency", agency, county_code, issued_on]["certificates_revoked"] += 1
    if valid:
        first_day = min(row[3] for row in valid)
        for group in groups_of(key_groups):
            contribution["key_group", group, county_code, first_day]["holders"] += 1
    for agency_id, assessed_on, is_passed in results:
        tally = contribution["agency", value_of(agency_id), county_code, assessed_on]
        tally["assessed"] += 1
        tally["passed"] += bool(is_passed)
    return contribution


def class_contributions(class_ids: Iterable[int]) -> Iterator[tuple[int, Contribution]]:
    for ids in chunks(sorted(class_ids), CHUNK):
        rows = db.session.execute(
            sa.select(TrainingClass.id, TrainingClass.county_code, TrainingClass.occupation_id,
                      TrainingClass.program_key, TrainingClass.institution_id, TrainingClass.is_subsidised,
                      Enrollment.enrolled_on, Enrollment.status, Person.key_groups)
            .join(Enrollment, Enrollment.class_id == TrainingClass.id)
            .join(Person, Person.id == Enrollment.person_id)
            .where(TrainingClass.id.in_(ids))
            .execution_options(yield_per=CHUNK))  # as in tally.class_contributions: streamed, not held
        contributions: dict[int, Contribution] = {class_id: defaultdict(Counter) for class_id in ids}
        first_days: dict[int, tuple[str, str, date]] = {}
        for class_id, county, occupation_id, program_key, institution_id, subsidised, day, status, groups in rows:
            contribution = contributions[class_id]
            completed = status is EnrollmentStatus.COMPLETED
            contribution["occupation", value_of(occupation_id), county, day]["enrolments"] += 1
            for dimension, value in (("program", value_of(program_key)), ("institution", str(institution_id))):
                tally = contribution[dimension, value, county, day]
                tally["enrolments"] += 1
                tally["completions"] += completed
                tally["subsidised"] += bool(subsidised)
            for group in groups_of(groups):
                tally = contribution["key_group", group, county, day]
                tally["enrolments"] += 1
                tally["completions"] += completed
            known = first_days.get(class_id)
            if known is None or day < known[2]:
                first_days[class_id] = (str(institution_id), county, day)
        for class_id, (institution, county, day) in first_days.items():
            contributions[class_id]["institution", institution, county, day]["classes"] += 1
        yield from contributions.items()


# --- keeping the totals in step -------------------------------------------------------------------------------

def refresh(source: str, contributions: Iterable[tuple[int, Contribution]],
            into: Contribution | None = None) -> None:
    """Replace what each source added before by what it adds now, in its source row and in the totals;
    with `into`, the totals' changes are added up there instead, for the caller to write once
    (see `rebuild`)."""
    for batch in chunks(contributions, CHUNK):
        delta = _replace(source, batch)
        if into is None:
            add_to_totals(delta)
        else:
            for key, counts in delta.items():
                into[key].update(counts)


def _replace(source: str, batch: list[tuple[int, Contribution]]) -> Contribution:
    """The batch's source rows replaced; the change this makes to the totals."""
    ids = [source_id for source_id, _contribution in batch]
    sources = BreakdownSource.__table__
    delta: Contribution = defaultdict(Counter)
    for (stored,) in db.session.execute(sa.select(sources.c.contribution).where(
            sources.c.source == source, sources.c.source_id.in_(ids))):
        for key, counts in decoded(stored).items():
            delta[key].subtract(counts)
    db.session.execute(sources.delete().where(sources.c.source == source, sources.c.source_id.in_(ids)))
    rows = []
    for source_id, contribution in batch:
        if contribution:
            rows.append({"source": source, "source_id": source_id, "contribution": encoded(contribution)})
            for key, counts in contribution.items():
                delta[key].update(counts)
    if rows:
        db.session.execute(sources.insert(), rows)
    return delta


def encoded(contribution: Contribution) -> list:
    return [[dimension, value, county_code, day.isoformat(), {m: n for m, n in counts.items() if n}]
            for (dimension, value, county_code, day), counts in sorted(contribution.items())]


def decoded(stored: list) -> Contribution:
    return {(dimension, value, county_code, date.fromisoformat(day)): Counter(counts)
            for dimension, value, county_code, day, counts in stored}


def add_to_totals(delta: Contribution) -> None:
    """Add to the day totals and to their months, each with one upsert, keys in order (as tally does)."""
    by_month: Contribution = defaultdict(Counter)
    for (dimension, value, county_code, day), counts in delta.items():
        by_month[dimension, value, county_code, day.replace(day=1)].update(counts)
    for model, period, totals in ((BreakdownDay, "day", delta), (BreakdownMonth, "month", by_month)):
        rows = [{"dimension": dimension, "value": value, "county_code": county_code, period: day,
                 **{measure: counts[measure] for measure in BREAKDOWN_MEASURES}}
                for (dimension, value, county_code, day), counts in sorted(totals.items())
                if any(counts.values())]
        upsert_adding(model.__table__, ["dimension", "value", "county_code", period], BREAKDOWN_MEASURES, rows)


# --- rebuilding and checking --------------------------------------------------------------------------------

def sources() -> tuple[list[int], list[int]]:
    """Every person with a certificate, an assessment result or a kept row, and every class."""
    persons = set(db.session.scalars(sa.select(Certificate.person_id).distinct()))
    persons |= set(db.session.scalars(sa.select(AssessmentResult.person_id).distinct()))
    persons |= set(db.session.scalars(sa.select(BreakdownSource.source_id)
                                      .where(BreakdownSource.source == "person")))
    return sorted(persons), list(db.session.scalars(sa.select(TrainingClass.id)))


def rebuild() -> None:
    """Every source's rows and the totals again, the totals emptied before: a county at a time, its changes
    added up in memory and each total row written once (tally.rebuild says why). A source adds only to its own
    county's totals (the person's, the class's); the city's ≈ 610k day totals at 1.35M persons are not held at
    once."""
    for model in (BreakdownSource, BreakdownDay, BreakdownMonth):
        db.session.execute(sa.delete(model))
    for county_persons, county_classes in by_county(*sources()):
        totals: Contribution = defaultdict(Counter)
        refresh("person", person_contributions(county_persons), into=totals)
        refresh("class", class_contributions(county_classes), into=totals)
        add_to_totals(totals)


def by_county(persons: Iterable[int], classes: Iterable[int]) -> Iterator[tuple[list[int], list[int]]]:
    """The persons and the classes of each county in turn; persons no longer registered last."""
    persons, classes = set(persons), set(classes)
    for county_code in db.session.scalars(sa.select(County.code).order_by(County.code)):
        county_persons = [person_id for person_id in db.session.scalars(
            sa.select(Person.id).where(Person.county_code == county_code).order_by(Person.id))
            if person_id in persons]
        county_classes = [class_id for class_id in db.session.scalars(
            sa.select(TrainingClass.id).where(TrainingClass.county_code == county_code)
            .order_by(TrainingClass.id)) if class_id in classes]
        persons.difference_update(county_persons)
        classes.difference_update(county_classes)
        yield county_persons, county_classes
    yield sorted(persons), sorted(classes)


def recount() -> tuple[Contribution, Contribution]:
    """The day and month totals counted again from the raw tables."""
    persons, classes = sources()
    days: Contribution = defaultdict(Counter)
    for contributions in (person_contributions(persons), class_contributions(classes)):
        for _source_id, contribution in contributions:
            for key, counts in contribution.items():
                days[key].update(counts)
    months: Contribution = defaultdict(Counter)
    for (dimension, value, county_code, day), counts in days.items():
        months[dimension, value, county_code, day.replace(day=1)].update(counts)
    return days, months


def kept(model) -> Contribution:
    period = "month" if model is BreakdownMonth else "day"
    totals: Contribution = defaultdict(Counter)
    for row in db.session.execute(sa.select(model.__table__)).mappings():
        key = (row["dimension"], row["value"], row["county_code"], row[period])
        totals[key].update({measure: row[measure] for measure in BREAKDOWN_MEASURES if row[measure]})
    return totals
