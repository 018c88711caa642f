"""`registry demo`: a fictional, consistent registry made by the users' operations; reruns add nothing."""
import re
from collections import Counter
from datetime import date

import pytest
import sqlalchemy as sa

from registry.assessment.models import AssessmentBatch, AssessmentResult
from registry.certificates.models import Certificate, CertificateStatus
from registry.core.audit import AuditEvent
from registry.core.db import db
from registry.core.errors import InvalidInput
from registry.demo import ADDRESS_CODES
from registry.demo_data import generate_demo_data
from registry.organizations.models import Agency, TrainingInstitution
from registry.people.identity import normalize_resident_id
from registry.people.models import Person
from registry.people.operations import protector
from registry.reference.models import Program
from registry.training.models import Enrollment, EnrollmentStatus, TrainingClass
from tests.helpers import count

MODELS = (Person, TrainingClass, Enrollment, AssessmentBatch, AssessmentResult, Certificate, Agency,
          TrainingInstitution, AuditEvent)


def table_counts() -> dict[str, int]:
    return {model.__name__: count(model) for model in MODELS}


def generate(persons: int, seed: int) -> Counter:
    added = generate_demo_data(persons, seed)
    db.session.commit()
    return added


@pytest.fixture
def two_hundred(app) -> Counter:
    return generate(200, seed=1)


def test_two_hundred_persons_make_a_living_registry(two_hundred):
    assert count(Person) == two_hundred["persons"] == 200
    assert count(Enrollment) == two_hundred["enrolments"] >= 200
    assert count(TrainingClass) == two_hundred["classes"] >= 3
    names = db.session.scalars(sa.select(Agency.name).union_all(sa.select(TrainingInstitution.name))).all()
    assert len(names) >= 10 and all("演示" in name for name in names)
    classes = db.session.scalars(sa.select(TrainingClass)).all()
    assert all(date(2021, 1, 1) <= c.starts_on <= c.ends_on <= date(2025, 12, 31) for c in classes)
    programs = set(db.session.scalars(sa.select(Program.key)))
    assert {c.program_key for c in classes} - {None} <= programs
    assert all(batch.training_class_id for batch in db.session.scalars(sa.select(AssessmentBatch)))


def test_results_pass_about_four_in_five_and_every_issue_is_within_filed_scope(two_hundred):
    passed = count(AssessmentResult, AssessmentResult.is_passed)
    assert 0.6 < passed / count(AssessmentResult) < 0.95
    for certificate in db.session.scalars(sa.select(Certificate).where(Certificate.batch_id.is_not(None))):
        agency = certificate.agency
        assessed_on = certificate.batch.assessed_on
        assert agency.covers(certificate.occupation_id, None, certificate.level, assessed_on)
        assert certificate.person_id == (certificate.result or certificate).person_id
    completed = db.session.scalars(sa.select(Enrollment.person_id).where(
        Enrollment.status == EnrollmentStatus.COMPLETED)).all()
    assessed = db.session.scalars(sa.select(AssessmentResult.person_id)).all()
    assert set(assessed) <= set(completed)


def test_certificates_span_years_and_counties_with_some_revoked_and_corrected(two_hundred):
    certificates = db.session.scalars(sa.select(Certificate)).all()
    numbers = [certificate.number for certificate in certificates]
    assert all(re.fullmatch(r"[YS]\d{21}", number) for number in numbers)
    assert len(numbers) == len(set(numbers))
    assert len({certificate.issued_on.year for certificate in certificates}) >= 3
    assert len({certificate.person.county_code for certificate in certificates}) >= 3
    assert len({certificate.batch.county_code for certificate in certificates}) >= 3
    revoked = [c for c in certificates if c.status is CertificateStatus.REVOKED]
    assert revoked and all(c.revocation_reason and c.revoked_at for c in revoked)
    superseded = [c for c in certificates if c.status is CertificateStatus.SUPERSEDED]
    assert superseded
    for old in superseded:
        new = old.superseded_by
        assert new.status is CertificateStatus.VALID and new.person_id == old.person_id
        assert new.number != old.number and new.issued_on >= old.issued_on
    by_status = Counter(c.status.value for c in certificates)
    assert by_status == {key.removeprefix("certificates_"): value for key, value in two_hundred.items()
                         if key.startswith("certificates_")}


def test_every_write_went_through_the_audited_operations(two_hundred):
    actions = Counter(db.session.execute(sa.select(AuditEvent.entity_type, AuditEvent.action)).all())
    assert actions[("training_class", "create")] == two_hundred["classes"]
    assert actions[("training_class", "generate_roster")] == two_hundred["classes"]
    # Results go in per batch, as the results upload writes them: one event per batch, not per row.
    assert actions[("assessment_batch", "generate_results")] == count(AssessmentBatch) == two_hundred["batches"]
    issued = count(AssessmentBatch, AssessmentBatch.issued_at.is_not(None))
    assert issued and actions[("assessment_batch", "issue")] == issued
    assert actions[("certificate", "revoke")] == two_hundred["certificates_revoked"]
    assert actions[("certificate", "correct")] == two_hundred["certificates_superseded"]
    assert actions[("demo_data", "generate_demo")] == 1


def test_the_audit_log_of_a_generated_registry_verifies(two_hundred, runner):
    """Thousands of events from the bulk paths, many to a flush, chained like any other."""
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert f"共 {count(AuditEvent)} 条事件" in result.output


def test_the_same_seed_adds_nothing_and_more_persons_add_only_the_missing(app):
    generate(60, seed=3)
    before = table_counts()
    assert sum(generate(60, seed=3).values()) == 0
    assert sum(generate(25, seed=3).values()) == 0
    assert table_counts() == before
    assert generate(90, seed=3)["persons"] == 30 and count(Person) == 90
    assert generate(40, seed=4)["persons"] == 40 and count(Person) == 130


def picture() -> tuple:
    """What a user would see of the registry, row by row, without database ids."""
    persons = db.session.execute(sa.select(Person.name, Person.document_masked, Person.county_code,
                                           Person.key_groups).order_by(Person.id)).all()
    classes = db.session.execute(sa.select(TrainingClass.name, TrainingClass.county_code,
                                           TrainingClass.starts_on, TrainingClass.status)
                                 .order_by(TrainingClass.id)).all()
    enrolments = db.session.execute(sa.select(TrainingClass.name, Person.name, Enrollment.status,
                                              Enrollment.attended_hours).join(TrainingClass).join(Person)
                                    .order_by(Enrollment.id)).all()
    certificates = db.session.execute(sa.select(Certificate.number, Certificate.status, Certificate.issued_on,
                                                Person.name).join(Person).order_by(Certificate.id)).all()
    return persons, classes, enrolments, certificates


def test_a_seed_always_gives_the_same_registry(app):
    generate_demo_data(50, seed=5)
    first = picture()
    db.session.rollback()
    assert count(Person) == 0
    generate_demo_data(50, seed=5)
    assert picture() == first


def test_numbers_are_valid_kaifeng_ones_and_never_stored_in_plain(app):
    generate(40, seed=6)
    ciphers = db.session.scalars(sa.select(Person.document_cipher).order_by(Person.id).limit(8)).all()
    numbers = [protector().decrypt(cipher) for cipher in ciphers]
    for number in numbers:
        assert normalize_resident_id(number) == number
        assert number[:6] in ADDRESS_CODES and 1960 <= int(number[6:10]) <= 2004
    # Every table the database has (reflected, so a model without its migration yet is no concern here).
    tables = sa.MetaData()
    tables.reflect(db.engine)
    for table in tables.sorted_tables:
        for row in db.session.execute(sa.select(table)).mappings():
            flat = " ".join(str(value) for value in row.values())
            assert not any(number in flat for number in numbers), table.name


@pytest.mark.parametrize(("persons", "seed"), [(0, 1), (2_000_001, 1), (10, -1), (10, 90)])
def test_out_of_range_arguments_are_refused(app, persons, seed):
    with pytest.raises(InvalidInput):
        generate_demo_data(persons, seed)
    assert count(Person) == 0


def test_command_prints_the_summary_and_adds_nothing_the_second_time(runner):
    first = runner.invoke(args=["demo", "--persons", "30", "--seed", "2"])
    assert first.exit_code == 0, first.output
    assert "本次新增：人员 30，培训班" in first.output and "证书 有效" in first.output
    assert "已撤销" in first.output and "已被替代（更正）" in first.output
    second = runner.invoke(args=["demo", "--persons", "30", "--seed", "2"])
    assert second.exit_code == 0 and "本次新增：人员 0，培训班 0，参训 0 人次" in second.output
    assert "已有演示数据" in runner.invoke(args=["demo", "--persons", "50", "--unless-present"]).output
    assert count(Person) == 30
    refused = runner.invoke(args=["demo", "--persons", "5", "--seed", "90"])
    assert refused.exit_code == 2 and count(Person) == 30


def test_the_command_counts_the_oversight_signals_and_results_are_entered_soon_after_assessment(runner):
    from registry.oversight.models import SignalInstance

    first = runner.invoke(args=["demo", "--persons", "250", "--seed", "10"])
    assert first.exit_code == 0 and "监管信号" in first.output, first.output
    found = int(re.search(r"监管信号 (\d+) 条", first.output).group(1))
    assert count(SignalInstance) == found
    assert count(SignalInstance, SignalInstance.signal == "late_results") == 0
    entries = db.session.execute(sa.select(AssessmentBatch.assessed_on, AssessmentResult.created_at)
                                 .join(AssessmentResult.batch)).all()
    assert entries and all(1 <= (entered.date() - assessed).days <= 5 or entered.date() == date.today()
                           for assessed, entered in entries)


def test_help_says_the_numbers_are_fake(runner):
    assert "FAKE" in runner.invoke(args=["demo", "--help"]).output


def test_the_cockpit_totals_agree_with_a_recount_of_the_demo_registry(two_hundred):
    from registry.stats.coverage import coverage
    from registry.stats.rebuild import differences

    assert differences() == []
    city, _counties = coverage(date.today())
    holders = db.session.scalar(sa.select(sa.func.count(sa.distinct(Certificate.person_id)))
                                .where(Certificate.status == CertificateStatus.VALID))
    assert city.holders == holders > 0
    assert city.enrolments == count(Enrollment)


def test_a_city_like_registry_has_every_level_every_county_and_bulk_issued_certificates(app):
    # 一级 is rare (≈ 0.6% of certificates: few filed scopes reach it); seed 20 shows every level at 2,000.
    added = generate(2000, seed=20)
    levels = dict(db.session.execute(sa.select(Certificate.level, sa.func.count()).group_by(Certificate.level)).all())
    assert set(levels) == {1, 2, 3, 4, 5} and levels[5] > levels[3] > levels[1]
    counties = set(db.session.scalars(sa.select(Person.county_code).join(Certificate).distinct()))
    assert counties == {"410202", "410203", "410204", "410205", "410212", "410221", "410222", "410223", "410225"}
    assert added["certificates_revoked"] >= 2 and added["certificates_superseded"] >= 2
    # Issued in bulk: numbered and frozen, the PDF's hash left to the first rendering. A correction is the
    # audited operation, which renders its replacement at issue.
    unrendered = count(Certificate, Certificate.pdf_sha256.is_(None))
    corrections = count(Certificate, Certificate.result_id.is_(None))
    assert unrendered == count(Certificate) - corrections and corrections == added["certificates_superseded"]
    persons_with_two = db.session.scalar(sa.select(sa.func.count()).select_from(
        sa.select(Enrollment.person_id).group_by(Enrollment.person_id).having(sa.func.count() > 1).subquery()))
    assert persons_with_two > 0  # some come back for another class


def test_chunked_commits_keep_the_totals_and_an_interrupted_run_continues(app):
    from registry.demo_data import demo_data_present
    from registry.stats.rebuild import differences

    commits = []

    def commit_then_stop():
        db.session.commit()
        commits.append(count(Person))
        raise KeyboardInterrupt  # the operator's Ctrl-C, just after the first chunk was committed

    with pytest.raises(KeyboardInterrupt):
        generate_demo_data(400, seed=9, commit=commit_then_stop, chunk_persons=150)
    db.session.rollback()
    assert count(Person) == commits[0] >= 150 and not demo_data_present()
    assert differences() == []

    def commit():
        db.session.commit()
        commits.append(count(Person))

    added = generate_demo_data(400, seed=9, commit=commit, chunk_persons=150)
    db.session.commit()
    assert count(Person) == 400 and added["persons"] == 400 - commits[0]
    assert len(commits) >= 2 and commits == sorted(commits)
    assert demo_data_present() and differences() == []
    assert count(Certificate, Certificate.status == CertificateStatus.REVOKED) >= 2


def test_a_run_interrupted_after_a_commit_and_run_again_makes_what_one_run_makes(app):
    def commit():
        db.session.flush()  # in one transaction, so that both runs can be compared and rolled back

    generate_demo_data(400, seed=9, commit=commit, chunk_persons=150)
    uninterrupted = picture()
    db.session.rollback()

    def commit_then_stop():
        db.session.flush()
        raise KeyboardInterrupt  # the operator's Ctrl-C (or a kill) just after the first chunk was committed

    with pytest.raises(KeyboardInterrupt):
        generate_demo_data(400, seed=9, commit=commit_then_stop, chunk_persons=150)
    db.session.expunge_all()
    generate_demo_data(400, seed=9, commit=commit, chunk_persons=150)
    assert picture() == uninterrupted
    db.session.rollback()


def test_stats_rebuild_check_reports_no_difference_after_the_command(runner):
    assert runner.invoke(args=["demo", "--persons", "250", "--seed", "10"]).exit_code == 0
    checked = runner.invoke(args=["stats", "rebuild", "--check"])
    assert checked.exit_code == 0 and "没有差异" in checked.output, checked.output


def test_each_demo_account_finds_work_of_its_own(app):
    """What `make run` makes: a new user signing in as the demo agency or school sees their own records."""
    from registry.accounts.models import User
    from registry.demo import seed_demo_accounts, seed_demo_organisations

    seed_demo_organisations()
    seed_demo_accounts()
    generate(2000, seed=1)
    agency_user = db.session.scalar(sa.select(User).where(User.username == "agency"))
    school_user = db.session.scalar(sa.select(User).where(User.username == "school"))
    assert count(Certificate, Certificate.agency_id == agency_user.agency_id) >= 50
    assert count(TrainingClass, TrainingClass.institution_id == school_user.institution_id) >= 5


def test_every_demo_agency_has_a_valid_credit_code_even_one_seeded_before_it_had_one(app):
    from registry.demo import seed_demo_organisations, seed_generated_organisations
    from registry.organizations.credit_code import normalize_credit_code
    from registry.organizations.models import Agency

    seed_demo_organisations()
    db.session.scalar(sa.select(Agency).where(Agency.site_code == "900001")).credit_code = None
    seed_generated_organisations()
    codes = db.session.scalars(sa.select(Agency.credit_code)).all()
    assert len(codes) == 14 and all(normalize_credit_code(code) == code for code in codes)
    assert len(set(codes)) == 14
