"""Coverage figures against an independent recount, on a hand-built city with every awkward case."""
from datetime import date
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from registry.core.roles import Role
from registry.assessment.operations import approve_batch, record_result
from registry.certificates.models import Certificate
from registry.certificates.operations import correct_certificate, issue_batch, revoke_certificate
from registry.core.db import db
from registry.people.models import KeyGroup
from registry.stats import rebuild
from registry.stats.coverage import coverage
from registry.training.models import ClassStatus
from registry.training.operations import enroll_person, record_completion

WELDER = "6-18-02-04"
COUNTIES = ("410221", "410225", "410202")


AGENCY = dict(scopes=[(WELDER, None, 5, 1, "2015-01-01", None)], filed_on="2015-01-01")  # the `agency` fixture (tests/conftest.py)


@pytest.fixture
def certify(make_batch, agency):
    """Pass the persons in a batch of `level` assessed on `day`, issue on the same day; the certificates."""
    def issue(persons, level: int, day: date, county_code: str = "410221") -> list[Certificate]:
        batch = make_batch(agency=agency, level=level, assessed_on=day, county_code=county_code)
        for person in persons:
            record_result(None, batch, person, theory=80, practical=80, review=80 if level <= 2 else None)
        approve_batch(None, batch)
        certificates = issue_batch(None, batch, issued_on=day)
        db.session.commit()
        return certificates

    return issue


@pytest.fixture
def city(make_person, make_class, certify):
    """Revoked, superseded, multi-certificate and multi-county persons, and training in two counties."""
    veteran = make_person(name="老持证", county_code="410221")            # 2020 level 5, then 2025 level 3
    revoked = make_person(name="被撤销", county_code="410221")            # only certificate revoked
    corrected = make_person(name="被更正", county_code="410225")          # superseded + replacement
    elsewhere = make_person(name="龙亭人", county_code="410202")           # assessed in 杞县, lives in 龙亭
    expert = make_person(name="技师", county_code="410225")               # level 2
    rural = make_person(name="农民工", county_code="410221", key_groups=int(KeyGroup.RURAL_LABOUR))
    certify([veteran], 5, date(2020, 7, 1))
    certify([veteran, revoked, corrected, elsewhere], 3, date(2025, 6, 2))
    certify([expert], 2, date(2024, 3, 5), county_code="410225")
    by_person = {c.person_id: c for c in db.session.scalars(sa.select(Certificate).where(Certificate.level == 3))}
    revoke_certificate(None, by_person[revoked.id], "考试作弊")
    correct_certificate(None, by_person[corrected.id], "姓名有误", name="被更正甲")
    db.session.commit()

    subsidised = make_class(county_code="410221", is_subsidised=True, status=ClassStatus.RUNNING)
    plain = make_class(county_code="410225", status=ClassStatus.RUNNING)
    for person in (veteran, rural, revoked):
        enroll_person(None, subsidised, person, date(2025, 3, 5))
    enrolment = enroll_person(None, plain, rural, date(2025, 3, 10))
    record_completion(None, enrolment, date(2025, 4, 20), 70)
    db.session.commit()


def recount(as_of: date) -> dict[str, dict]:
    """Every figure per county, straight from the raw tables with plain SQL: no kept totals involved."""
    sql = """
    WITH valid AS (
        SELECT c.person_id, p.county_code, c.kind, c.level, c.issued_on FROM certificates c
        JOIN persons p ON p.id = c.person_id WHERE c.status = 'valid' AND c.issued_on <= :as_of),
    best AS (
        SELECT person_id, county_code, MIN(level) AS level FROM valid
        WHERE kind IN ('skill_level', 'qualification') AND level BETWEEN 1 AND 5 GROUP BY person_id, county_code),
    first AS (SELECT person_id, county_code, MIN(issued_on) AS day FROM valid GROUP BY person_id, county_code)
    SELECT 'holders' AS figure, county_code, COUNT(DISTINCT person_id) AS n FROM valid GROUP BY county_code
    UNION ALL SELECT 'skilled', county_code, COUNT(*) FROM best GROUP BY county_code
    UNION ALL SELECT 'high_skilled', county_code, COUNT(*) FROM best WHERE level <= 3 GROUP BY county_code
    UNION ALL SELECT 'level_' || CAST(level AS VARCHAR), county_code, COUNT(*) FROM best GROUP BY county_code, level
    UNION ALL SELECT 'new_holders_since_2021', county_code, COUNT(*) FROM first
        WHERE day >= '2021-01-01' GROUP BY county_code
    UNION ALL SELECT 'certificates_' || c.status, p.county_code, COUNT(*) FROM certificates c
        JOIN persons p ON p.id = c.person_id WHERE c.status IN ('valid', 'revoked') AND c.issued_on <= :as_of
        GROUP BY c.status, p.county_code
    UNION ALL SELECT 'enrolments', t.county_code, COUNT(*) FROM enrollments e
        JOIN training_classes t ON t.id = e.class_id WHERE e.enrolled_on <= :as_of GROUP BY t.county_code
    UNION ALL SELECT 'completions', t.county_code, COUNT(*) FROM enrollments e
        JOIN training_classes t ON t.id = e.class_id WHERE e.enrolled_on <= :as_of AND e.status = 'completed'
        GROUP BY t.county_code
    UNION ALL SELECT 'subsidised_enrolments', t.county_code, COUNT(*) FROM enrollments e
        JOIN training_classes t ON t.id = e.class_id WHERE e.enrolled_on <= :as_of AND t.is_subsidised
        GROUP BY t.county_code
    UNION ALL SELECT 'rural_enrolments', t.county_code, COUNT(*) FROM enrollments e
        JOIN training_classes t ON t.id = e.class_id JOIN persons p ON p.id = e.person_id
        WHERE e.enrolled_on <= :as_of AND (p.key_groups & 1) = 1 GROUP BY t.county_code
    """
    figures: dict[str, dict] = {}
    for figure, county_code, count in db.session.execute(sa.text(sql), {"as_of": as_of}):
        figures.setdefault(county_code, {})[figure] = count
    return figures


def reported(figures) -> dict:
    """The JSON-facing figures of one Coverage, in the recount's terms, zeros left out."""
    flat = {key: getattr(figures, key) for key in (
        "holders", "skilled", "high_skilled", "new_holders_since_2021", "certificates_valid",
        "certificates_revoked", "enrolments", "completions", "subsidised_enrolments", "rural_enrolments")}
    flat |= {f"level_{level}": count for level, count in figures.by_level.items()}
    return {key: value for key, value in flat.items() if value}


@pytest.mark.parametrize("as_of", [date(2020, 12, 31), date(2024, 12, 31), date(2025, 3, 6), date.today()])
def test_every_figure_in_the_json_matches_an_independent_recount(city, as_of, client, login, make_user):
    expected = recount(as_of)
    login(make_user(Role.ADMIN))
    body = client.get(f"/api/v1/stats/coverage?as_of={as_of.isoformat()}").get_json()
    assert body["as_of"] == as_of.isoformat()
    for county in body["counties"]:
        assert reported(SimpleNamespace(**county)) == expected.get(county["code"], {}), county["name"]
    totals: dict[str, int] = {}
    for figures in expected.values():
        for key, value in figures.items():
            totals[key] = totals.get(key, 0) + value
    assert reported(SimpleNamespace(**body["city"])) == totals


def test_the_hand_built_city_reads_as_intended(city):
    city_figures, counties = coverage(date.today())
    by_code = {county.code: county for county in counties}
    # 老持证, 被更正 (its replacement), 龙亭人, 技师; 被撤销 has nothing valid left.
    assert city_figures.holders == 4 and city_figures.certificates_revoked == 1
    assert city_figures.certificates_valid == 5  # 老持证 twice, the replacement, 龙亭人, 技师
    assert city_figures.by_level == {"1": 0, "2": 1, "3": 3, "4": 0, "5": 0}
    assert city_figures.new_holders_since_2021 == 3  # 老持证 held one since 2020
    assert by_code["410202"].holders == 1  # counted where the person lives, not where the batch sat
    assert by_code["410221"].enrolments == 3 and by_code["410221"].subsidised_enrolments == 3
    assert by_code["410221"].rural_enrolments == 1 and by_code["410225"].completions == 1


def test_rebuild_check_finds_no_difference_after_mixed_changes(city, runner):
    result = runner.invoke(args=["stats", "rebuild", "--check"])
    assert result.exit_code == 0, result.output
    assert "没有差异" in result.output


def test_rebuild_check_reports_a_tampered_total_and_rebuild_repairs_it(city, runner):
    db.session.execute(sa.text("UPDATE coverage_days SET holders = holders + 7 WHERE county_code = '410225'"))
    db.session.commit()
    result = runner.invoke(args=["stats", "rebuild", "--check"])
    assert result.exit_code == 1 and "410225" in result.output and "holders" in result.output
    assert runner.invoke(args=["stats", "rebuild"]).exit_code == 0
    assert rebuild.differences() == []


def test_a_failed_transaction_leaves_the_totals_alone(city, make_person, certify):
    before = coverage(date.today())[0].holders
    newcomer = make_person(county_code="410221")
    certify([newcomer], 4, date(2025, 7, 1))
    certificate = db.session.scalars(sa.select(Certificate).where(Certificate.person_id == newcomer.id)).one()
    revoke_certificate(None, certificate, "测试回滚")
    db.session.rollback()
    assert coverage(date.today())[0].holders == before + 1
    assert rebuild.differences() == []


def test_a_roster_import_that_flags_rural_labour_updates_earlier_classes(make_person, make_class, client, login,
                                                                         make_user, make_institution):
    """The roster path writes with Core inserts; a newly flagged person changes another class's rural 人次."""
    import io

    from registry.people.identity import resident_id_check_char
    from registry.people.operations import reveal_document

    institution = make_institution()
    user = make_user(Role.INSTITUTION, organization_id=institution.id)
    person = make_person(name="王芳", county_code="410221")
    earlier = make_class(institution=institution, status=ClassStatus.RUNNING)
    enroll_person(None, earlier, person, date(2025, 3, 5))
    db.session.commit()
    later = make_class(institution=institution, status=ClassStatus.RUNNING)
    document = reveal_document(None, person)
    first17 = "41022119900101" + "999"
    newcomer = first17 + resident_id_check_char(first17)
    csv = ("证件号码,姓名,重点群体,入班日期\n"
           f"{document},王芳,农村劳动力,2025-03-06\n{newcomer},李强,,2025-03-06\n").encode()
    login(user)
    response = client.post(f"/training/classes/{later.id}/roster", data={"file": (io.BytesIO(csv), "r.csv")},
                           content_type="multipart/form-data")
    job_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    assert client.post(f"/imports/{job_id}/commit").status_code == 302
    db.session.expire_all()
    _city, counties = coverage(date.today())
    qixian = {county.code: county for county in counties}["410221"]
    assert qixian.enrolments == 3 and qixian.rural_enrolments == 2
    assert rebuild.differences() == []
