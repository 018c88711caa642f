"""The cockpit's training counts against a hand-built dataset, recounted in plain Python."""
from dataclasses import dataclass
from datetime import date

import pytest

from registry.people.models import KeyGroup
from registry.training import queries
from registry.training.models import ClassStatus
from registry.training.operations import enroll_person, record_completion, record_dropout

RURAL, VETERAN, GRADUATE = KeyGroup.RURAL_LABOUR, KeyGroup.VETERAN, KeyGroup.GRADUATE

# class: (county, subsidised)
CLASSES = {"A": ("410221", True), "B": ("410221", False), "C": ("410222", True), "D": ("410223", False)}
PERSONS = {"p1": RURAL, "p2": RURAL | VETERAN, "p3": VETERAN, "p4": 0, "p5": GRADUATE | RURAL, "p6": GRADUATE}


@dataclass(frozen=True)
class Row:
    person: str
    training_class: str
    enrolled_on: date
    outcome: str  # enrolled, completed or dropped


ROWS = [
    Row("p1", "A", date(2024, 1, 10), "completed"),
    Row("p1", "C", date(2024, 3, 1), "completed"),   # the same person again: another 人次
    Row("p1", "D", date(2024, 6, 30), "dropped"),
    Row("p2", "A", date(2024, 1, 10), "dropped"),
    Row("p2", "B", date(2024, 2, 29), "completed"),
    Row("p3", "A", date(2024, 1, 31), "enrolled"),
    Row("p3", "C", date(2024, 7, 1), "completed"),
    Row("p4", "B", date(2024, 5, 5), "completed"),
    Row("p4", "D", date(2024, 12, 31), "enrolled"),
    Row("p5", "C", date(2024, 3, 2), "enrolled"),
    Row("p5", "D", date(2024, 1, 1), "completed"),
    Row("p6", "A", date(2024, 8, 8), "completed"),
]


def recount(metric: str, county: str | None = None, start: date | None = None, end: date | None = None) -> int:
    """The same figure computed without SQL, straight from the rows above."""
    def counted(row: Row) -> bool:
        class_county, subsidised = CLASSES[row.training_class]
        in_scope = (county is None or class_county == county) and (start is None or row.enrolled_on >= start) \
            and (end is None or row.enrolled_on <= end)
        return in_scope and {
            "enrolments": True,
            "completions": row.outcome == "completed",
            "subsidised_enrolments": subsidised,
            "rural_labour_enrolments": bool(PERSONS[row.person] & RURAL),
        }[metric]

    return sum(1 for row in ROWS if counted(row))


@pytest.fixture
def dataset(make_institution, make_class, make_person):
    institution = make_institution()
    classes = {key: make_class(institution, county_code=county, is_subsidised=subsidised,
                               status=ClassStatus.RUNNING, starts_on=date(2024, 1, 1), ends_on=date(2024, 12, 31))
               for key, (county, subsidised) in CLASSES.items()}
    persons = {key: make_person(key_groups=int(groups)) for key, groups in PERSONS.items()}
    for row in ROWS:
        enrollment = enroll_person(None, classes[row.training_class], persons[row.person], row.enrolled_on)
        if row.outcome == "completed":
            record_completion(None, enrollment, date(2024, 12, 31), 80)
        elif row.outcome == "dropped":
            record_dropout(None, enrollment)
    return classes


FUNCTIONS = {
    "enrolments": queries.enrolment_count,
    "completions": queries.completion_count,
    "subsidised_enrolments": queries.subsidised_enrolment_count,
    "rural_labour_enrolments": queries.rural_labour_enrolment_count,
}
RANGES = [
    (None, None),
    (date(2024, 1, 10), None),                 # inclusive lower bound
    (None, date(2024, 3, 1)),                  # inclusive upper bound
    (date(2024, 2, 29), date(2024, 7, 1)),
    (date(2025, 1, 1), None),                  # nothing enrolled then
]


def test_the_dataset_means_what_the_comments_say(dataset):
    # Figures worked out by hand once, so the recount itself is checked too.
    assert queries.enrolment_count() == 12
    assert queries.completion_count() == 7
    assert queries.subsidised_enrolment_count() == 7  # four in A, three in C
    assert queries.rural_labour_enrolment_count() == 7  # p1 three times, p2 and p5 twice each
    assert queries.enrolment_count(county_code="410221") == 6


COUNTIES = [None, "410221", "410222", "410223", "410225"]


@pytest.mark.parametrize("metric", FUNCTIONS)
def test_each_count_matches_the_recount(dataset, metric):
    for county in COUNTIES:
        for start, end in RANGES:
            found = FUNCTIONS[metric](county_code=county, enrolled_from=start, enrolled_to=end)
            assert found == recount(metric, county, start, end), (county, start, end)


def test_counts_by_county_match_the_recount_for_every_county(dataset):
    from registry.reference.queries import current_counties

    for start, end in RANGES:
        by_county = queries.enrolment_counts_by_county(enrolled_from=start, enrolled_to=end)
        assert set(by_county) == {county.code for county in current_counties()}
        for county, figures in by_county.items():
            expected = {metric: recount(metric, county, start, end) for metric in FUNCTIONS}
            assert figures == expected, (county, start, end)


def test_counts_are_zero_without_any_training(app):
    assert [function() for function in FUNCTIONS.values()] == [0, 0, 0, 0]
    assert all(set(figures.values()) == {0} for figures in queries.enrolment_counts_by_county().values())
