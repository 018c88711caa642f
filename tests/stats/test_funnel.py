"""The training-to-certificate funnel against an independent recount; leak lists, scope, masking, input."""
import csv
import io
from collections import Counter, defaultdict
from datetime import date

import openpyxl
import pytest
import sqlalchemy as sa

from registry.core.roles import Role
from registry.assessment.operations import approve_batch, record_result
from registry.certificates.operations import issue_batch
from registry.core.audit import AuditEvent
from registry.core.db import db
from registry.people.operations import reveal_document
from registry.stats import funnel
from registry.training.models import ClassStatus
from registry.training.operations import enroll_person, record_completion, record_dropout

WELDER = "6-18-02-04"
STAGES = list(funnel.STAGES)


AGENCY = dict(name="开封焊接评价中心", scopes=[(WELDER, None, 5, 1, "2015-01-01", None)], filed_on="2015-01-01")  # the `agency` fixture (tests/conftest.py)


@pytest.fixture
def assess(make_batch, agency):
    """A batch on `day`, linked to `training_class` or to none; passes and fails; approved, maybe issued."""
    def run(passing=(), failing=(), day=date(2025, 5, 10), training_class=None, issue=True):
        batch = make_batch(agency=agency, level=4, assessed_on=day,
                           training_class_id=training_class.id if training_class else None)
        for person in passing:
            record_result(None, batch, person, theory=80, practical=80)
        for person in failing:
            record_result(None, batch, person, theory=40, practical=80)
        approve_batch(None, batch)
        if issue:
            issue_batch(None, batch, issued_on=day)
        db.session.commit()
        return batch

    return run


@pytest.fixture
def world(make_person, make_class, make_institution, assess):
    """Every way an enrolment can stop along the funnel, in two counties and three institutions."""
    north, south, other = (make_institution(name=name) for name in ("杞县职业培训学校", "兰考技工学校", "龙亭培训中心"))
    a = make_class(north, name="焊工一班", county_code="410221", status=ClassStatus.RUNNING)
    b = make_class(south, name="焊工二班", county_code="410225", status=ClassStatus.RUNNING)
    c = make_class(other, name="焊工三班", county_code="410225", status=ClassStatus.RUNNING)
    persons = {name: make_person(name=name, county_code=county) for name, county in (
        ("取证甲", "410221"), ("未认定乙", "410221"), ("未合格丙", "410221"), ("待发证丁", "410221"),
        ("退出戊", "410221"), ("在训己", "410221"), ("补考庚", "410221"),
        ("按人辛", "410225"), ("早认定壬", "410225"), ("他班癸", "410202"))}
    p = persons

    def enrol(training_class, person, completed=True, on=date(2025, 3, 5)):
        enrolment = enroll_person(None, training_class, person, on)
        if completed:
            record_completion(None, enrolment, date(2025, 4, 28), 80)
        return enrolment

    for name in ("取证甲", "未认定乙", "未合格丙", "待发证丁", "补考庚"):
        enrol(a, p[name])
    record_dropout(None, enrol(a, p["退出戊"], completed=False))
    enrol(a, p["在训己"], completed=False)
    enrol(b, p["按人辛"], on=date(2025, 3, 20))
    enrol(b, p["早认定壬"], on=date(2025, 3, 20))
    enrol(b, p["他班癸"], on=date(2025, 3, 20))
    enrol(c, p["他班癸"], on=date(2025, 3, 20))
    db.session.commit()

    assess(passing=[p["取证甲"], p["在训己"]], failing=[p["未合格丙"], p["补考庚"]], training_class=a)
    assess(passing=[p["待发证丁"]], training_class=a, issue=False)        # approved, not yet issued
    assess(passing=[p["补考庚"]], training_class=a, day=date(2025, 6, 1))  # the retake passes
    assess(passing=[p["按人辛"]], day=date(2025, 5, 20))                    # no class: matched by person
    assess(passing=[p["早认定壬"]], day=date(2025, 3, 19))                  # no class, but before enrolling
    assess(passing=[p["他班癸"]], training_class=c)                         # belongs to 焊工三班 only
    return {"classes": (a, b, c), "persons": persons, "institutions": (north, south, other)}


# --- the independent recount --------------------------------------------------------------------------------

def recount(counties=None, enrolled_from=date.min, enrolled_to=date.max) -> dict:
    """Each enrolment's furthest stage, counted again in Python from plain SQL rows."""
    enrolments = db.session.execute(sa.text(
        """SELECT e.id, e.person_id, e.class_id, e.enrolled_on, e.status, t.county_code, t.occupation_id,
                  i.name AS institution, p.name FROM enrollments e
           JOIN training_classes t ON t.id = e.class_id
           JOIN training_institutions i ON i.id = t.institution_id
           JOIN persons p ON p.id = e.person_id""")).all()
    results = db.session.execute(sa.text(
        """SELECT r.person_id, r.is_passed, b.training_class_id, b.occupation_id, b.assessed_on,
                  (SELECT COUNT(*) FROM certificates c WHERE c.result_id = r.id) AS certificates
           FROM assessment_results r JOIN assessment_batches b ON b.id = r.batch_id""")).all()
    by_county, by_institution, stage_of = defaultdict(Counter), defaultdict(Counter), {}
    for e in enrolments:
        enrolled_on = date.fromisoformat(str(e.enrolled_on)[:10])
        if (counties and e.county_code not in counties) or not enrolled_from <= enrolled_on <= enrolled_to:
            continue
        mine = [r for r in results if r.person_id == e.person_id and (
            r.training_class_id == e.class_id
            or (r.training_class_id is None and r.occupation_id == e.occupation_id
                and date.fromisoformat(str(r.assessed_on)[:10]) >= enrolled_on))]
        reached = ["enrolled"]
        if e.status == "completed":
            reached.append("completed")
            if mine:
                reached.append("assessed")
            if any(r.is_passed for r in mine):
                reached.append("passed")
            if any(r.is_passed and r.certificates for r in mine):
                reached.append("certified")
        stage_of[e.name, e.class_id] = reached[-1]
        for stage in reached:
            by_county[e.county_code][stage] += 1
            by_institution[e.institution][stage] += 1
    return {"county": by_county, "institution": by_institution, "stage_of": stage_of}


def as_counts(row: funnel.FunnelRow) -> dict:
    return {stage: getattr(row, stage) for stage in STAGES if getattr(row, stage)}


@pytest.mark.parametrize("counties, enrolled_from, enrolled_to", [
    (None, None, None), (["410221"], None, None), (["410225"], date(2025, 3, 10), None),
    (None, date(2025, 3, 1), date(2025, 3, 10)), (["410202"], None, None)])
def test_the_funnel_matches_an_independent_recount(world, counties, enrolled_from, enrolled_to):
    expected = recount(counties, enrolled_from or date.min, enrolled_to or date.max)
    total, rows = funnel.funnel_by_county(counties, enrolled_from, enrolled_to)
    assert {row.key: as_counts(row) for row in rows if row.enrolled} == {
        code: dict(counts) for code, counts in expected["county"].items()}
    assert {row.key for row in rows} >= set(counties or [])
    total_i, rows_i = funnel.funnel_by_institution(counties, enrolled_from, enrolled_to)
    assert {row.name: as_counts(row) for row in rows_i} == {
        name: dict(counts) for name, counts in expected["institution"].items()}
    assert as_counts(total) == as_counts(total_i) == dict(sum(expected["county"].values(), Counter()))
    for leak, item in funnel.LEAKS.items():
        names = {row[0] for row in funnel.leak_rows(leak, counties, None, enrolled_from, enrolled_to)}
        assert names == {name for (name, _class), stage in expected["stage_of"].items()
                         if stage == item.reached}
        assert funnel.leak_count(leak, counties, None, enrolled_from, enrolled_to) == total.leak(leak)


def test_the_hand_built_world_reads_as_intended(world):
    total, rows = funnel.funnel_by_county()
    by_code = {row.key: row for row in rows}
    qixian, lankao = by_code["410221"], by_code["410225"]
    # 退出戊 dropped; 在训己 passed but never completed, so stops at "enrolled"; 补考庚 passed at the retake.
    assert as_counts(qixian) == {"enrolled": 7, "completed": 5, "assessed": 4, "passed": 3, "certified": 2}
    # 按人辛 counts through an unlinked batch; 早认定壬's batch came before the enrolment; 他班癸's batch is
    # linked to 焊工三班, so it counts there and not in 焊工二班.
    assert as_counts(lankao) == {"enrolled": 4, "completed": 4, "assessed": 2, "passed": 2, "certified": 2}
    assert qixian.step_rate("completed") == pytest.approx(5 / 7)
    assert qixian.step_rate("certified") == pytest.approx(2 / 3)
    assert by_code["410202"].enrolled == 0 and by_code["410202"].step_rate("completed") is None
    names = {leak: [row[0] for row in funnel.leak_rows(leak, ["410221"])] for leak in funnel.LEAKS}
    assert names == {"never_assessed": ["未认定乙"], "failed": ["未合格丙"], "uncertified": ["待发证丁"]}
    uncertified = funnel.leak_rows("uncertified", ["410221"])[0]
    assert uncertified[-2:] == [date(2025, 5, 10), "已审核"]
    assert sorted(row[0] for row in funnel.leak_rows("never_assessed", ["410225"])) == ["他班癸", "早认定壬"]


# --- pages --------------------------------------------------------------------------------------------------

def test_the_funnel_page_shows_both_tables_a_chart_and_links_to_the_leaks(world, client, login, make_user):
    login(make_user(Role.ADMIN))
    response = client.get("/stats/funnel")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and page.count('<svg class="chart"') == 1
    assert 'id="funnel-county-table"' in page and 'id="funnel-institution-table"' in page
    assert "杞县职业培训学校" in page and "71.4%" in page  # 杞县: 5 of 7 completed
    assert "/stats/funnel/never_assessed?county=410221" in page
    north = world["institutions"][0]
    assert f"/stats/funnel/failed?institution_id={north.id}" in page


def test_leak_lists_mask_id_numbers_on_the_page_and_in_the_export(world, client, login, make_user):
    person = world["persons"]["未认定乙"]
    document = reveal_document(None, person)
    db.session.commit()
    login(make_user(Role.ADMIN))
    page = client.get("/stats/funnel/never_assessed?county=410221").get_data(as_text=True)
    assert "未认定乙" in page and person.document_masked in page and document not in page
    response = client.get("/stats/funnel/never_assessed?county=410221&format=csv")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0] == funnel.leak_headers("never_assessed")
    assert rows[1][:2] == ["未认定乙", person.document_masked]
    assert document not in response.data.decode("utf-8-sig")
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.entity_type == "stats_table")).one()
    assert event.after["table"] == "结业未参加认定" and event.after["rows"] == 1


def test_a_leak_list_narrows_to_an_institution(world, client, login, make_user):
    login(make_user(Role.ADMIN))
    other = world["institutions"][2]
    page = client.get(f"/stats/funnel/never_assessed?institution_id={other.id}").get_data(as_text=True)
    assert "龙亭培训中心" in page and "早认定壬" not in page and "没有符合条件的记录" in page


def test_funnel_exports_are_the_tables_as_shown(world, client, login, make_user):
    login(make_user(Role.ADMIN))
    total, rows = funnel.funnel_by_institution()
    table = funnel.funnel_table("培训—认定—取证漏斗（按培训机构）", "培训机构", total, rows)
    response = client.get("/stats/funnel?table=institution&format=xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    exported = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert exported[0] == [column.header for column in table.columns]
    assert exported[1:] == table.body() and exported[-1][0] == "合计"
    county = client.get("/stats/funnel?format=csv")
    assert county.status_code == 200 and "县区" in county.data.decode("utf-8-sig").splitlines()[0]


def test_a_county_official_sees_only_their_county(world, client, login, make_user):
    login(make_user(Role.COUNTY, county_code="410225"))
    page = client.get("/stats/funnel").get_data(as_text=True)
    assert "兰考技工学校" in page and "杞县职业培训学校" not in page
    leaks = client.get("/stats/funnel/never_assessed").get_data(as_text=True)
    assert "早认定壬" in leaks and "未认定乙" not in leaks
    for path in ("/stats/funnel?county=410221", "/stats/funnel/failed?county=410221",
                 "/stats/funnel/failed?county=410221&format=xlsx", "/stats/funnel?county=410221&format=csv"):
        assert client.get(path).status_code == 403, path


def test_institutions_agencies_and_visitors_are_refused(world, client, login, make_user, make_agency):
    assert client.get("/stats/funnel").status_code == 302
    assert client.get("/stats/funnel/failed").status_code == 302
    login(make_user(Role.INSTITUTION, organization_id=world["institutions"][0].id))
    assert client.get("/stats/funnel").status_code == 403
    assert client.get("/stats/funnel/failed?format=csv").status_code == 403
    login(make_user(Role.AGENCY, organization_id=make_agency().id))
    assert client.get("/stats/funnel/uncertified").status_code == 403


@pytest.mark.parametrize("query, message", [
    ("from=2025-02-30", "起始日期：格式应为 YYYY-MM-DD"),
    ("to=2025/03/01", "截止日期：格式应为 YYYY-MM-DD"),
    ("from=2025-04-01&to=2025-03-01", "晚于截止日期"),
    ("county=410299", "未知的县区代码"),
    ("institution_id=99999", "培训机构：未知的机构"),
    ("institution_id=x1", "培训机构：未知的机构"),
])
@pytest.mark.parametrize("path", ["/stats/funnel", "/stats/funnel/failed"])
def test_bad_input_is_a_400_with_a_chinese_message(client, login, make_user, query, message, path):
    login(make_user(Role.ADMIN))
    for suffix in ("", "&format=csv"):
        response = client.get(f"{path}?{query}{suffix}")
        assert response.status_code == 400 and message in response.get_data(as_text=True), (path, query)


def test_an_unknown_table_or_leak_is_refused(client, login, make_user):
    login(make_user(Role.ADMIN))
    response = client.get("/stats/funnel?table=persons&format=xlsx")
    assert response.status_code == 400 and "表格：未知的表格" in response.get_data(as_text=True)
    assert client.get("/stats/funnel/everyone").status_code == 404
