"""The funnel's kept stages and totals: in step with the raw tables after writes through the services, checked
by `stats rebuild --check`, and walked by the leak lists over an index (plans checked on both engines)."""
from datetime import date

import pytest
import sqlalchemy as sa

from registry.assessment.operations import approve_batch, record_result
from registry.certificates.models import Certificate
from registry.certificates.operations import revoke_certificate
from registry.core.db import db
from registry.core.roles import Role
from registry.people.models import KeyGroup
from registry.stats import breakdown_tally, funnel, funnel_tally, rebuild, tally
from registry.stats.models import FunnelAllTime, FunnelDay, FunnelMonth, FunnelStage
from registry.training.models import Enrollment
from registry.training.operations import enroll_person, record_completion, update_class
# The hand-built funnel world, its agency and its independent recount (tests/stats/test_funnel.py).
from tests.stats.test_funnel import AGENCY, assess, recount, world  # noqa: F401  (fixtures)

STAGES = list(funnel.STAGES)


def kept_stages() -> dict[int, int]:
    return dict(db.session.execute(sa.select(FunnelStage.enrollment_id, FunnelStage.stage)).all())


def recounted_stages() -> dict[int, int]:
    """Each enrolment's stage number from the test's own recount (by person name and class)."""
    stage_of = recount()["stage_of"]
    rows = db.session.execute(sa.text("SELECT e.id, p.name, e.class_id FROM enrollments e "
                                      "JOIN persons p ON p.id = e.person_id")).all()
    return {enrollment_id: STAGES.index(stage_of[name, class_id]) for enrollment_id, name, class_id in rows}


def fresh_totals() -> dict:
    """(county, institution, day, stage) → enrolments, counted from plain SQL rows and the recount."""
    stages = recounted_stages()
    rows = db.session.execute(sa.text(
        "SELECT e.id, t.county_code, t.institution_id, e.enrolled_on "
        "FROM enrollments e JOIN training_classes t ON t.id = e.class_id")).all()
    totals: dict = {}
    for enrollment_id, county, institution, day in rows:
        key = (county, institution, date.fromisoformat(str(day)[:10]), stages[enrollment_id])
        totals[key] = totals.get(key, 0) + 1
    return totals


def assert_in_step() -> None:
    assert kept_stages() == recounted_stages()
    assert funnel_tally.kept_totals(FunnelDay) == fresh_totals()
    assert funnel_tally.kept_totals(FunnelMonth) == funnel_tally.by_month(fresh_totals())
    assert funnel_tally.kept_totals(FunnelAllTime) == funnel_tally.all_time(fresh_totals())
    assert rebuild.differences() == []


def move_class(training_class, county_code: str) -> None:
    """The class moves county through the same service as the class form, every other field kept."""
    fields = {name: getattr(training_class, name) for name in (
        "institution_id", "name", "occupation_id", "work_type", "target_level", "training_type", "program_key",
        "is_subsidised", "planned_hours", "starts_on", "ends_on")}
    update_class(None, training_class, **fields, county_code=county_code)


def test_the_kept_stages_and_totals_follow_every_write(world, make_person, make_batch, agency, assess):
    assert_in_step()
    a, b, _c = world["classes"]
    p = world["persons"]
    # a new enrolment, then its completion, a failed result, the retake passed and its certificate issued
    newcomer = make_person(name="新学员子", county_code="410221")
    enrolment = enroll_person(None, a, newcomer, date(2025, 3, 6))
    db.session.commit()
    assert_in_step()
    record_completion(None, enrolment, date(2025, 4, 28), 80)
    db.session.commit()
    batch = make_batch(agency=agency, level=4, assessed_on=date(2025, 7, 1), training_class_id=a.id)
    record_result(None, batch, newcomer, theory=40, practical=80)
    db.session.commit()
    assert kept_stages()[enrolment.id] == STAGES.index("assessed")
    assert_in_step()
    record_result(None, batch, newcomer, theory=90, practical=80)
    approve_batch(None, batch)
    db.session.commit()
    assert kept_stages()[enrolment.id] == STAGES.index("passed")
    assess(passing=[p["未认定乙"]], training_class=a, day=date(2025, 7, 2))  # issued too
    assert_in_step()
    # a revoked certificate still came out of the funnel: the stage stays
    certificate = db.session.scalars(sa.select(Certificate).where(Certificate.person_id == p["取证甲"].id)).one()
    revoke_certificate(None, certificate, "测试撤销")
    db.session.commit()
    assert_in_step()
    # the class moves county: its enrolments leave 杞县's totals for 兰考's
    move_class(b, "410221")
    db.session.commit()
    moved = db.session.scalars(sa.select(FunnelStage).where(FunnelStage.class_id == b.id))
    assert {row.county_code for row in moved} == {"410221"}
    assert_in_step()


def test_a_class_larger_than_a_chunk_streams_its_members_and_stays_in_step(world, make_person, monkeypatch):
    """The before-commit hook reads a class's enrolments and rural trainees as they stream, a chunk at a time
    (a million-row roster's class would not fit in memory), writing the totals between chunks."""
    for module in (tally, breakdown_tally, funnel_tally):
        monkeypatch.setattr(module, "CHUNK", 2)
    b = world["classes"][1]
    for number in range(5):
        newcomer = make_person(name=f"农民工{number}", county_code="410221", key_groups=int(KeyGroup.RURAL_LABOUR))
        enroll_person(None, b, newcomer, date(2025, 3, 6))
    db.session.commit()
    assert_in_step()
    move_class(b, "410223")
    db.session.commit()
    assert {row.county_code for row in db.session.scalars(
        sa.select(FunnelStage).where(FunnelStage.class_id == b.id))} == {"410223"}
    assert_in_step()


def test_a_failed_transaction_leaves_the_kept_stages_alone(world, make_person):
    a = world["classes"][0]
    before = (kept_stages(), funnel_tally.kept_totals(FunnelDay))
    enroll_person(None, a, make_person(name="回滚丑", county_code="410221"), date(2025, 3, 6))
    db.session.rollback()
    assert (kept_stages(), funnel_tally.kept_totals(FunnelDay)) == before
    assert_in_step()


@pytest.mark.parametrize("tamper, shown", [
    ("UPDATE funnel_months SET enrolments = enrolments + 3 WHERE county_code = '410225'", "漏斗月汇总"),
    ("UPDATE funnel_days SET enrolments = enrolments - 1 WHERE county_code = '410221' AND stage = 4",
     "漏斗日汇总"),
    ("UPDATE funnel_all_time SET enrolments = enrolments + 1 WHERE county_code = '410221' AND stage = 1",
     "漏斗累计汇总"),
    ("UPDATE funnel_stages SET stage = 4 WHERE stage = 1", "漏斗阶段"),
    ("DELETE FROM funnel_stages WHERE stage = 3", "漏斗阶段"),
])
def test_rebuild_check_reports_a_tampered_funnel_and_rebuild_repairs_it(world, runner, tamper, shown):
    assert runner.invoke(args=["stats", "rebuild", "--check"]).exit_code == 0
    db.session.execute(sa.text(tamper))
    db.session.commit()
    result = runner.invoke(args=["stats", "rebuild", "--check"])
    assert result.exit_code == 1 and shown in result.output, result.output
    assert runner.invoke(args=["stats", "rebuild"]).exit_code == 0
    assert_in_step()


# --- leak lists by keyset -----------------------------------------------------------------------------------

@pytest.fixture
def long_leak(world, make_person):
    """Seven more enrolments of 焊工一班 that completed and were never assessed, on three days."""
    a = world["classes"][0]
    for number in range(7):
        enrolment = enroll_person(None, a, make_person(name=f"名单{number}", county_code="410221"),
                                  date(2025, 3, 6 + number % 3))
        record_completion(None, enrolment, date(2025, 4, 28), 80)
    db.session.commit()
    return ["never_assessed", ["410221"], None, None, None]


def expected_order(leak: str) -> list[int]:
    stage = STAGES.index(funnel.LEAKS[leak].reached)
    rows = db.session.execute(sa.text(
        "SELECT e.id, e.enrolled_on FROM enrollments e JOIN training_classes t ON t.id = e.class_id "
        "WHERE t.county_code = '410221'")).all()
    stages = recounted_stages()
    return [row[0] for row in sorted(rows, key=lambda row: (str(row[1]), row[0])) if stages[row[0]] == stage]


def test_pages_by_number_and_by_cursor_walk_the_whole_list_once_in_order(long_leak):
    wanted = expected_order("never_assessed")
    total = funnel.leak_count(*long_leak)
    assert total == len(wanted) == 8
    by_number = [number for page in range(1, 4)
                 for _day, number in funnel.page_cursors(*long_leak, page=page, total=total, per_page=3)]
    assert by_number == wanted
    assert funnel.page_cursors(*long_leak, page=4, total=total, per_page=3) == []
    forward, cursor = [], None
    while page := funnel.page_cursors(*long_leak, page=1, total=total, per_page=3, after=cursor):
        forward += [number for _day, number in page]
        cursor = page[-1]
    assert forward == wanted
    last = funnel.page_cursors(*long_leak, page=3, total=total, per_page=3)
    previous = funnel.page_cursors(*long_leak, page=2, total=total, per_page=3, before=last[0])
    assert [number for _day, number in previous] == wanted[3:6]


def test_the_leak_page_links_step_by_cursor_and_keep_the_filters(long_leak, client, login, make_user):
    login(make_user(Role.ADMIN))
    funnel_page = client.get("/stats/funnel/never_assessed?county=410221").get_data(as_text=True)
    assert "共 8 条，第 1 / 1 页" in funnel_page
    for text in ("after=2025-01-01.x", "before=2025-13-01.1", "after=1", "after=2025-03-06.99999999999"):
        response = client.get(f"/stats/funnel/never_assessed?county=410221&{text}")
        assert response.status_code == 400 and "分页位置" in response.get_data(as_text=True), text
    first_id = expected_order("never_assessed")[0]
    enrolled_on = db.session.get(Enrollment, first_id).enrolled_on
    page = client.get(f"/stats/funnel/never_assessed?county=410221&after={enrolled_on}.{first_id}")
    assert page.status_code == 200 and page.get_data(as_text=True).count("<tr><td>") == 7


# --- the plans ----------------------------------------------------------------------------------------------

def plan(statement: sa.Select) -> str:
    bind = db.session.get_bind()
    compiled = statement.compile(bind, compile_kwargs={"literal_binds": True})
    if bind.dialect.name == "postgresql":
        # The test tables are tiny, so PostgreSQL would read them whole and sort whatever the indexes; with
        # these costs raised, a plan without a scan or sort is chosen whenever an index makes one possible.
        for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
            db.session.execute(sa.text(f"SET LOCAL {setting} = off"))
        return "\n".join(db.session.execute(sa.text(f"EXPLAIN {compiled}")).scalars())
    return "\n".join(row[-1] for row in db.session.execute(sa.text(f"EXPLAIN QUERY PLAN {compiled}")))


def walks(arguments: dict, **step) -> sa.Select:
    """The statement leak_page runs, caught as it is executed."""
    caught = []
    real = db.session.execute

    def catch(statement, *args, **kwargs):
        caught.append(statement)
        return real(statement, *args, **kwargs)

    db.session.execute = catch
    try:
        funnel.leak_page(**arguments, **step)
    finally:
        del db.session.execute
    return caught[-1]


@pytest.mark.parametrize("scope", [
    {}, {"county_codes": ["410221"]}, {"county_codes": ["410221"], "enrolled_from": date(2025, 3, 1)},
    {"institution_id": "north"}, {"institution_id": "north", "county_codes": ["410221"]}])
@pytest.mark.parametrize("step", [{}, {"offset": 40, "from_end": True}, {"after": (date(2025, 3, 6), 1)},
                                  {"before": (date(2025, 3, 6), 1)}])
def test_every_leak_page_walks_an_index_without_sorting_or_scanning(world, scope, step):
    if scope.get("institution_id") == "north":
        scope = {"institution_id": world["institutions"][0].id}
    for leak in funnel.LEAKS:
        shown = plan(walks({"leak": leak, **scope}, **step))
        if db.session.get_bind().dialect.name == "postgresql":
            assert "ix_funnel_stages_" in shown and "Sort" not in shown and "Seq Scan" not in shown, shown
        else:
            assert "USING COVERING INDEX ix_funnel_stages_" in shown and "TEMP B-TREE" not in shown, shown
    db.session.rollback()


def test_a_leak_page_reads_its_rows_by_primary_key(world):
    ids = [number for _day, number in funnel.leak_page("failed")]
    caught = []
    real = db.session.execute
    db.session.execute = lambda statement, *args, **kwargs: caught.append(statement) or real(statement, *args,
                                                                                              **kwargs)
    try:
        funnel.leak_rows("failed", cursors=[(None, number) for number in ids])
    finally:
        del db.session.execute
    shown = plan(caught[-1])
    if db.session.get_bind().dialect.name == "postgresql":
        assert "Seq Scan on enrollments" not in shown, shown
    else:
        assert "SCAN enrollments" not in shown and "SCAN e\n" not in shown, shown
    db.session.rollback()
