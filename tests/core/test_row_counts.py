"""Row counts kept by triggers (#17): every way of writing a counted table keeps its count, an unfiltered list
reads it instead of counting, and `stats rebuild` checks and mends it."""
import re
from datetime import date

import pytest
import sqlalchemy as sa

from registry.certificates.models import Certificate
from registry.core import row_counts
from registry.core.db import db, is_unconditional
from registry.core.models import RowCount, RowCountChange
from registry.core.roles import Role
from registry.people.models import Person
from registry.training.models import Enrollment
from registry.training.operations import enroll_person
from tests.helpers import recorded


def assert_counts_kept() -> None:
    for table_name in row_counts.COUNTED_TABLES:
        assert row_counts.rows_in(table_name) == row_counts.counted_rows(table_name), table_name
    for table_name in row_counts.COUNTED_BY_COUNTY:
        assert row_counts.kept_by_county(table_name) == row_counts.counted_by_county(table_name), table_name


def test_orm_and_bulk_writes_and_deletes_keep_every_count(make_class, make_person):
    training_class = make_class()
    people = [make_person() for _ in range(4)]
    enroll_person(None, training_class, people[0])
    db.session.commit()
    # A bulk insert of several rows in one statement, as imports write them.
    db.session.execute(sa.insert(Enrollment), [
        {"class_id": training_class.id, "person_id": person.id, "enrolled_on": date(2025, 3, 1)}
        for person in people[1:]])
    assert_counts_kept()  # the transaction's own rows are counted before it commits
    db.session.commit()
    db.session.execute(sa.delete(Enrollment).where(Enrollment.person_id.in_([people[1].id, people[2].id])))
    db.session.commit()
    assert row_counts.rows_in("enrollments") == 2
    assert row_counts.rows_in("persons") == 4
    assert_counts_kept()
    assert row_counts.differences() == []


def test_a_rolled_back_write_leaves_the_count(make_person):
    make_person()
    before = row_counts.rows_in("persons")
    db.session.execute(sa.delete(Enrollment))
    db.session.execute(sa.delete(Person))
    assert row_counts.rows_in("persons") == 0
    db.session.rollback()
    assert row_counts.rows_in("persons") == before == 1


def test_folding_the_changes_keeps_each_total(make_person):
    for _ in range(3):
        make_person()
    before = {table_name: row_counts.rows_in(table_name) for table_name in row_counts.COUNTED_TABLES}
    postgresql = db.engine.dialect.name == "postgresql"
    assert (db.session.scalar(sa.select(sa.func.count()).select_from(RowCountChange)) > 0) is postgresql
    row_counts.fold_changes()
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RowCountChange)) == 0
    assert {table_name: row_counts.rows_in(table_name) for table_name in row_counts.COUNTED_TABLES} == before
    assert db.session.get(RowCount, ("persons", "410221")).rows == 3


def test_persons_are_counted_per_county_through_inserts_moves_and_deletes(make_person):
    make_person(county_code="410221")
    make_person(county_code="410221")
    moved = make_person(county_code="410222")
    assert row_counts.rows_in("persons", "410221") == 2 and row_counts.rows_in("persons", "410222") == 1
    # A person moved to another county by an ORM update, then one by a statement: each count follows.
    moved.county_code = "410223"
    db.session.flush()
    assert row_counts.rows_in("persons", "410222") == 0 and row_counts.rows_in("persons", "410223") == 1
    db.session.execute(sa.update(Person).where(Person.county_code == "410221").values(county_code="410223"))
    assert row_counts.rows_in("persons", "410223") == 3 and row_counts.rows_in("persons", "410221") == 0
    # An update that moves nobody (another column) changes no count.
    db.session.execute(sa.update(Person).values(name="改名"))
    assert_counts_kept()
    db.session.commit()
    db.session.execute(sa.delete(Person).where(Person.id == moved.id))
    assert row_counts.rows_in("persons", "410223") == 2 and row_counts.rows_in("persons") == 2
    assert_counts_kept()
    row_counts.fold_changes()
    db.session.commit()
    assert row_counts.kept_by_county("persons") == {"410223": 2}
    assert row_counts.differences() == []


def test_enrolments_are_counted_by_their_class_county_as_the_class_moves(make_class, make_person):
    from tests.stats.test_funnel_totals import move_class

    here, there = make_class(county_code="410221"), make_class(county_code="410222")
    for person in [make_person() for _ in range(3)]:
        enroll_person(None, here, person)
    enroll_person(None, there, make_person())
    assert row_counts.kept_by_county("enrollments") == {"410221": 3, "410222": 1}
    # The class form moves a class (and its enrolments' stored county) to another county: the count follows.
    move_class(here, "410223")
    db.session.flush()
    assert row_counts.kept_by_county("enrollments") == {"410223": 3, "410222": 1}
    # A row without a stored county (as before migration 0028 filled it): counted under '', in the total.
    db.session.execute(sa.insert(Enrollment), [{"class_id": there.id, "person_id": make_person().id,
                                                "enrolled_on": date(2025, 3, 2)}])
    assert row_counts.rows_in("enrollments") == 5 and row_counts.rows_in("enrollments", "") == 1
    assert_counts_kept()
    db.session.execute(sa.delete(Enrollment).where(Enrollment.class_id == here.id))
    assert row_counts.rows_in("enrollments", "410223") == 0 and row_counts.rows_in("enrollments") == 2
    assert_counts_kept()
    db.session.commit()
    row_counts.fold_changes()
    db.session.commit()
    assert row_counts.kept_by_county("enrollments") == {"410222": 1, "": 1}
    assert row_counts.differences() == []


@pytest.fixture
def three_certificates(approved_batch):
    from registry.certificates.operations import issue_batch

    issued = issue_batch(None, approved_batch(passed=3, failed=0), date(2025, 6, 1))
    db.session.commit()
    return issued


def miscount(table_name: str, by: int) -> None:
    """Make a kept count wrong on purpose (as a change not yet folded: the base row may not exist)."""
    db.session.add(RowCountChange(table_name=table_name, change=by))
    db.session.commit()


def count_statements(statements, table_name: str) -> list[str]:
    return [sql for sql, _ in statements if "count(" in sql.lower() and f"FROM {table_name}" in sql]


def test_an_administrators_scope_is_no_condition_wrapped_or_not():
    assert is_unconditional(sa.true())
    assert is_unconditional(sa.select(Person.id).where(sa.true()).whereclause)  # kept wrapped as a boolean
    assert not is_unconditional(Person.county_code == "410221")
    assert not is_unconditional(sa.select(Person.id).where(Person.county_code == "410221").whereclause)
    assert not is_unconditional(None)


def test_the_unfiltered_list_reads_the_kept_count(three_certificates, make_user, login):
    admin = login(make_user(Role.ADMIN))
    with recorded() as statements:
        page = admin.get("/certificates").get_data(as_text=True)
    assert count_statements(statements, "certificates") == []
    assert "共 3 条" in page
    # Proof that the total is the kept one: a count made wrong on purpose shows.
    miscount("certificates", 2)
    assert "共 5 条" in admin.get("/certificates").get_data(as_text=True)


def test_a_filtered_list_still_counts(three_certificates, make_user, login):
    admin = login(make_user(Role.ADMIN))
    with recorded() as statements:
        page = admin.get("/certificates?status=valid").get_data(as_text=True)
    assert count_statements(statements, "certificates") and "共 3 条" in page


def test_a_county_certificate_list_reads_both_parts_from_the_kept_counts(approved_batch, make_user, login):
    """Its holders' certificates (kept by holder county) and those assessed there of holders from elsewhere
    (certificates_from_elsewhere, kept by batch county): both parts of the scope, neither counted."""
    from registry.certificates.operations import issue_batch

    # 杞县 (410221) holders, two certificates assessed at home and three in 尉氏县 (410223).
    issue_batch(None, approved_batch(passed=2, failed=0), date(2025, 6, 1))
    issue_batch(None, approved_batch(passed=3, failed=0, county_code="410223"), date(2025, 6, 1))
    db.session.commit()
    assert row_counts.kept_by_county("certificates") == {"410221": 5}
    assert row_counts.kept_by_county("certificates_from_elsewhere") == {"410223": 3}
    for county_code, total in (("410221", 5), ("410223", 3)):
        official = login(make_user(Role.COUNTY, county_code=county_code))
        with recorded() as statements:
            page = official.get("/certificates").get_data(as_text=True)
        assert count_statements(statements, "certificates") == [] and f"共 {total} 条" in page
    # Proof that the second part's total is the kept one.
    db.session.add(RowCountChange(table_name="certificates_from_elsewhere", county_code="410223", change=2))
    db.session.commit()
    assert "共 5 条" in official.get("/certificates").get_data(as_text=True)


def test_a_certificate_moving_county_moves_its_counts(three_certificates):
    """A holder's county corrected on the certificate (a statement, as a repair would): it leaves its holder
    county's count and, assessed in 杞县 for a holder now from elsewhere, enters 杞县's second part."""
    moved = three_certificates[0]
    db.session.execute(sa.update(Certificate).where(Certificate.id == moved.id)
                       .values(holder_county_code="410225"))
    assert row_counts.kept_by_county("certificates") == {"410221": 2, "410225": 1}
    assert row_counts.rows_in("certificates_from_elsewhere", "410221") == 1
    db.session.execute(sa.update(Certificate).where(Certificate.id == moved.id)
                       .values(batch_county_code=None))
    assert row_counts.kept_by_county("certificates_from_elsewhere") == {}
    assert_counts_kept()
    db.session.execute(sa.delete(Certificate).where(Certificate.id == moved.id))
    assert_counts_kept()
    assert row_counts.differences() == []


def test_a_county_trainee_list_reads_its_kept_count(make_class, make_person, make_user, login):
    training_class = make_class(county_code="410221")
    for person in [make_person() for _ in range(2)]:
        enroll_person(None, training_class, person)
    enroll_person(None, make_class(county_code="410222"), make_person())
    db.session.commit()
    official = login(make_user(Role.COUNTY, county_code="410221"))
    with recorded() as statements:
        page = official.get("/training/trainees").get_data(as_text=True)
    assert count_statements(statements, "enrollments") == []
    assert "共 2 条" in page
    # Proof that the total is the kept one: the county's count made wrong on purpose shows, another's not.
    db.session.add(RowCountChange(table_name="enrollments", county_code="410222", change=7))
    db.session.commit()
    assert "共 2 条" in official.get("/training/trainees").get_data(as_text=True)
    db.session.add(RowCountChange(table_name="enrollments", county_code="410221", change=7))
    db.session.commit()
    assert "共 9 条" in official.get("/training/trainees").get_data(as_text=True)


def test_the_dashboard_counts_persons_from_the_kept_count(make_person, make_user, login):
    for _ in range(2):
        make_person()
    admin = login(make_user(Role.ADMIN))
    with recorded() as statements:
        page = admin.get("/dashboard").get_data(as_text=True)
    assert count_statements(statements, "persons") == []
    assert "登记人员" in page


def test_a_county_dashboard_counts_its_persons_from_the_kept_count(make_person, make_user, login):
    for county_code in ("410221", "410221", "410222"):
        make_person(county_code=county_code)
    official = login(make_user(Role.COUNTY, county_code="410221"))
    with recorded() as statements:
        page = official.get("/dashboard").get_data(as_text=True)
    assert count_statements(statements, "persons") == []
    assert figure(page, "本县区登记人员") == "2"
    # Proof that the figure is the kept one: a county's count made wrong on purpose shows.
    db.session.add(RowCountChange(table_name="persons", county_code="410221", change=5))
    db.session.commit()
    assert figure(official.get("/dashboard").get_data(as_text=True), "本县区登记人员") == "7"


def figure(page: str, label: str) -> str:
    """The number the dashboard shows under `label`."""
    found = re.search(re.escape(label) + r"\D*?([\d,]+)", page)
    assert found, label
    return found.group(1).replace(",", "")


def test_rebuild_check_reports_a_wrong_count_and_rebuild_mends_it(app, three_certificates):
    miscount("certificates", 96)
    runner = app.test_cli_runner()
    checked = runner.invoke(args=["stats", "rebuild", "--check"])
    assert checked.exit_code == 1
    assert "表行数（certificates）: 保存值 99，重新统计 3" in checked.output
    assert runner.invoke(args=["stats", "rebuild"]).exit_code == 0
    assert runner.invoke(args=["stats", "rebuild", "--check"]).exit_code == 0
    assert row_counts.rows_in("certificates") == row_counts.counted_rows("certificates") == 3
    assert_counts_kept()


def test_rebuild_check_reports_a_wrong_county_count(app, make_person):
    make_person(county_code="410221")
    db.session.add(RowCountChange(table_name="persons", county_code="410222", change=4))
    db.session.commit()
    runner = app.test_cli_runner()
    checked = runner.invoke(args=["stats", "rebuild", "--check"])
    assert checked.exit_code == 1
    assert "表行数（persons（410222））: 保存值 4，重新统计 0" in checked.output
    assert runner.invoke(args=["stats", "rebuild"]).exit_code == 0
    assert row_counts.differences() == []
    assert row_counts.kept_by_county("persons") == {"410221": 1}


def test_certificates_deleted_by_a_statement_are_uncounted(three_certificates):
    db.session.execute(sa.delete(Certificate).where(Certificate.id == three_certificates[0].id))
    assert row_counts.rows_in("certificates") == 2
    db.session.rollback()
