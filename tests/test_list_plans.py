"""The list pages at city scale (#17): a page's ids are found over an index in the list's order, on both
engines, whatever the page number; a county's certificate scope reads the counties stored on the
certificate, which every way of writing a certificate fills."""
import re
from datetime import date

import pytest
import sqlalchemy as sa

from registry.certificates.bulk_issue import issue_batch_in_bulk
from registry.certificates.models import Certificate
from registry.certificates.operations import correct_certificate, issue_batch
from registry.core.db import db
from registry.core.roles import Role
from tests.helpers import recorded

WELDER = "6-18-02-04"


def id_queries(client, path: str, table: str) -> list[tuple[str, object]]:
    """The statements that found the page's ids: the key of `table` alone, ordered, limited."""
    with recorded() as statements:
        assert client.get(path).status_code == 200
    found = [(sql, parameters) for sql, parameters in statements
             if sql.startswith(f"SELECT {table}.id \nFROM") and "ORDER BY" in sql and "LIMIT" in sql]
    assert found, path
    return found


def plan(sql: str, parameters) -> str:
    """The plan as text; on PostgreSQL with sequential scans and sorts priced out, so that on a test's
    few rows the planner still shows whether an index can give the order (it sorts only when none can)."""
    with db.engine.connect() as connection:
        if db.engine.dialect.name == "postgresql":
            connection.exec_driver_sql("SET enable_seqscan = off")
            connection.exec_driver_sql("SET enable_sort = off")
            rows = connection.exec_driver_sql(f"EXPLAIN {sql}", parameters).all()
            return "\n".join(row[0] for row in rows)
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", parameters).all()
        return "\n".join(row[-1] for row in rows)


def assert_ordered_by_index(text: str, index: str) -> None:
    if db.engine.dialect.name == "postgresql":
        assert index in text and "Sort" not in text, text
    else:
        assert index in text and "TEMP B-TREE" not in text and "CORRELATED" not in text, text


@pytest.fixture
def certificates(approved_batch, make_agency):
    """Certificates of 杞县 holders (410221) assessed in 尉氏县 (410223), issued through the ORM."""
    agency = make_agency(scopes=[(WELDER, None, 5, 3, "2024-01-01", None)])
    issued = issue_batch(None, approved_batch(agency=agency, passed=3, failed=0, county_code="410223"),
                         date(2025, 6, 1))
    db.session.commit()
    return issued


@pytest.mark.parametrize("path", ["/certificates", "/certificates?page=2&per_page=1",
                                  "/certificates?page=3&per_page=1"])
def test_certificate_page_ids_walk_the_issued_index(certificates, make_user, login, path):
    admin = login(make_user(Role.ADMIN))
    for sql, parameters in id_queries(admin, path, "certificates"):
        assert_ordered_by_index(plan(sql, parameters), "ix_certificates_issued_on")


@pytest.mark.parametrize("sort", ["number", "status", "level"])
def test_each_sortable_certificate_column_has_its_index(certificates, make_user, login, sort):
    admin = login(make_user(Role.ADMIN))
    (sql, parameters), = id_queries(admin, f"/certificates?sort={sort}", "certificates")
    assert_ordered_by_index(plan(sql, parameters), f"ix_certificates_{sort}")


@pytest.mark.parametrize("path", ["/certificates", "/certificates?page=3&per_page=1"])
def test_a_county_merges_two_index_walks_of_its_stored_counties(certificates, make_user, login, path):
    """Its holders' certificates, then those assessed there of holders from elsewhere: each part walks an index
    in date order (on SQLite its own county index, read from the index alone) and the two are merged, never
    sorted; each part's total is a kept count (tests/core/test_row_counts.py), none counted."""
    county = login(make_user(Role.COUNTY, county_code="410221"))
    with recorded() as statements:
        assert county.get(path).status_code == 200
    found = [(sql, parameters) for sql, parameters in statements
             if "FROM certificates" in sql and "certificates.id IN" not in sql]
    assert all("persons" not in sql and "assessment_batches" not in sql and "EXISTS" not in sql
               for sql, _parameters in found)
    (walk, parameters), = [(sql, parameters) for sql, parameters in found if "UNION ALL" in sql]
    text = plan(walk, parameters)
    if db.engine.dialect.name == "postgresql":
        # Which index gives each part its order is the statistics' say: on a test's few rows (or stale counts
        # left by earlier tests) the date index filtered may win; at 1.35M it is the county indexes
        # (docs/BENCHMARKS.md). The merge of two ordered walks, never a sort, is the point.
        assert "Merge Append" in text and not re.search(r"Sort\s+\(cost", text), text
    else:
        assert "ix_certificates_holder_county" in text and "ix_certificates_batch_county" in text, text
        assert "MERGE (UNION ALL)" in text and "TEMP B-TREE" not in text, text
        assert text.count("COVERING INDEX") == 2, text
    assert not [sql for sql, _parameters in found if sql.startswith("SELECT count(")]


@pytest.mark.parametrize("county, seen", [("410221", True), ("410223", True), ("410222", False)])
def test_a_county_lists_certificates_of_its_holders_and_of_its_batches_only(
        certificates, make_user, login, county, seen):
    client = login(make_user(Role.COUNTY, county_code=county))
    html = client.get("/certificates").get_data(as_text=True)
    assert all((certificate.number in html) is seen for certificate in certificates)


@pytest.mark.parametrize("sort", ["", "&sort=number"])
def test_a_county_pages_through_both_parts_in_the_list_order(
        certificates, make_agency, make_batch, make_person, make_user, login, sort):
    """尉氏县 (410223) sees its holders' certificates, issued before and after the fixture's, and the fixture's
    (holders of 杞县 assessed in 尉氏县): one page each, in order, the second half read from the far end."""
    from registry.assessment.operations import approve_batch, record_result
    agency = make_agency(name="另一评价机构", scopes=[(WELDER, None, 5, 3, "2024-01-01", None)])
    for day in (date(2025, 5, 1), date(2025, 7, 1)):
        batch = make_batch(agency=agency, county_code="410223")
        for _ in range(2):
            record_result(None, batch, make_person(county_code="410223"), theory=85, practical=85)
        approve_batch(None, batch)
        issue_batch(None, batch, day)
    db.session.commit()
    listed = sa.select(Certificate).where(sa.or_(Certificate.holder_county_code == "410223",
                                                 Certificate.batch_county_code == "410223"))
    key = (Certificate.number, Certificate.id) if sort else (Certificate.issued_on.desc(), Certificate.id.desc())
    expected = [certificate.number for certificate in db.session.scalars(listed.order_by(*key))]
    assert len(expected) == 7
    county = login(make_user(Role.COUNTY, county_code="410223"))
    for number, wanted in enumerate(expected, start=1):
        html = county.get(f"/certificates?per_page=1&page={number}{sort}").get_data(as_text=True)
        assert [one for one in expected if one in html] == [wanted], number


def test_every_way_of_writing_a_certificate_stores_both_counties(certificates, approved_batch, make_agency):
    agency = make_agency(name="另一评价机构", scopes=[(WELDER, None, 5, 3, "2024-01-01", None)])
    bulk = approved_batch(agency=agency, passed=2, failed=0, county_code="410222")
    issue_batch_in_bulk(None, bulk, date(2025, 6, 2))
    corrected = correct_certificate(None, certificates[0], "姓名有误", name="更正名")
    db.session.commit()
    rows = db.session.execute(sa.select(Certificate.id, Certificate.holder_county_code,
                                        Certificate.batch_county_code)).all()
    expected = {certificate.id: ("410221", "410223") for certificate in [*certificates, corrected]}
    assert {row.id: (row.holder_county_code, row.batch_county_code) for row in rows} == expected | {
        row.id: ("410221", "410222") for row in rows if row.id not in expected}
    assert len(rows) == 6


@pytest.mark.parametrize("path, index", [
    ("/training/trainees", "ix_enrollments_enrolled_on"), ("/training/trainees?sort=status", "ix_enrollments_status"),
    ("/training/classes", "ix_training_classes_starts_on"), ("/training/classes?sort=name", "ix_training_classes_name"),
    ("/assessment/batches", "ix_assessment_batches_assessed_on"), ("/admin/audit", "ix_audit_events_occurred_at"),
])
def test_other_lists_walk_their_order_index(certificates, make_class, make_person, make_user, login, path, index):
    from registry.training.operations import enroll_person
    training_class = make_class()
    for _ in range(2):
        enroll_person(None, training_class, make_person())
    db.session.commit()
    admin = login(make_user(Role.ADMIN))
    table = {"trainees": "enrollments", "classes": "training_classes", "batches": "assessment_batches",
             "audit": "audit_events"}[path.split("?")[0].rsplit("/", 1)[1]]
    for sql, parameters in id_queries(admin, path, table):
        assert_ordered_by_index(plan(sql, parameters), index)


@pytest.mark.parametrize("path, table", [
    ("/certificates", "certificates"), ("/training/classes", "training_classes"),
    ("/training/trainees", "enrollments"), ("/assessment/batches", "assessment_batches"),
    ("/admin/agencies", "agencies"), ("/admin/institutions", "training_institutions"), ("/people?q=学员", "persons"),
])
def test_a_list_loads_its_rows_with_what_they_show_in_one_statement(
        certificates, make_class, make_person, make_user, login, path, table):
    """One round trip for the page's rows and the holder, agency, class or county each row shows; the eager
    loads join nothing into the statements that find the page's ids."""
    from registry.training.operations import enroll_person
    enroll_person(None, make_class(), make_person())  # named 学员…, as every test person
    db.session.commit()
    admin = login(make_user(Role.ADMIN))
    with recorded() as statements:
        assert admin.get(path).status_code == 200
    ids = [sql for sql, _parameters in statements if sql.startswith(f"SELECT {table}.id \nFROM")]
    assert ids and not any("JOIN" in sql for sql in ids), ids
    # The rows are loaded by their ids (a batch's tallies are counted apart, for the page's batches).
    rows = [sql for sql, _parameters in statements
            if f"{table}.id IN (" in sql and "LIMIT" not in sql and "count(" not in sql]
    assert len(rows) == 1, rows
    related = [sql for sql, _parameters in statements
               if (found := re.search(r"WHERE (\w+)\.(?:id|code|key) IN \(", sql)) and found[1] != table]
    assert not related, related


@pytest.mark.parametrize("page", ["class", "batch"])
def test_a_detail_page_reads_the_relations_it_shows_with_its_record(
        certificates, make_class, make_user, login, page):
    path = (f"/training/classes/{make_class().id}" if page == "class"
            else f"/assessment/batches/{certificates[0].batch_id}")
    db.session.commit()
    admin = login(make_user(Role.ADMIN))
    with recorded() as statements:
        assert admin.get(path).status_code == 200
    related = r"WHERE (counties\.code|agencies\.id|occupations\.id|training_institutions\.id) = "
    by_key = [sql for sql, _parameters in statements if re.search(related, sql)]
    assert not by_key, by_key


def test_a_county_trainee_list_walks_its_stored_county_index(make_class, make_person, make_user, login):
    """The county stored on each enrolment: the page's ids in date order from one index, no probe of the
    county's classes, the total a kept count (#17)."""
    from registry.training.operations import enroll_person
    for county_code in ("410221", "410223"):
        training_class = make_class(county_code=county_code)
        for _ in range(2):
            enroll_person(None, training_class, make_person())
    db.session.commit()
    county = login(make_user(Role.COUNTY, county_code="410221"))
    with recorded() as statements:
        assert "共 2 条" in county.get("/training/trainees").get_data(as_text=True)
    found = [(sql, parameters) for sql, parameters in statements
             if ("count(" in sql or sql.startswith("SELECT enrollments.id \nFROM")) and "class_county_code" in sql]
    ((sql, parameters),) = found
    assert "training_classes" not in sql and "count(" not in sql, sql
    assert_ordered_by_index(plan(sql, parameters), "ix_enrollments_class_county")


@pytest.fixture
def named_persons(make_person):
    """Two people named 王卫东 (one in 杞县, one in 兰考县) and one 李卫东 in 杞县."""
    for name, county in [("王卫东", "410221"), ("王卫东", "410225"), ("李卫东", "410221")]:
        make_person(name=name, county_code=county)
    db.session.commit()


def search_queries(client, query: str) -> tuple[list[tuple[str, object]], str]:
    """The statements that counted and found the page's ids (not the one that loads the page's rows), and the page."""
    with recorded() as statements:
        response = client.get(f"/people?q={query}")
        assert response.status_code == 200
    found = [(sql, parameters) for sql, parameters in statements
             if "FROM persons" in sql and ("MATCH" in sql or "person_name_pairs" in sql
                                           or "LIKE" in sql and "persons.id IN" not in sql)]
    return found, response.get_data(as_text=True)


def page_ids(found):
    ids, = [(sql, parameters) for sql, parameters in found if sql.startswith("SELECT persons.id \nFROM")]
    return ids


def shown(html: str) -> int:
    return len(set(re.findall(r'href="/people/(\d+)"', html)))


def pieces_read(text: str) -> bool:
    """The plan reads the names' two-character pieces by their key (0033), not every name."""
    if db.engine.dialect.name == "sqlite":
        return "SEARCH person_name_pairs USING PRIMARY KEY (pair=?)" in text
    return "person_name_pairs" in text  # its few test rows may be read by a sequential scan


def test_a_two_character_search_looks_its_part_up_among_the_name_pieces(named_persons, make_user, login):
    admin = login(make_user(Role.ADMIN))
    found, html = search_queries(admin, "卫东")
    assert shown(html) == 3
    count, = [(sql, parameters) for sql, parameters in found if "count(" in sql]
    for text in (plan(*count), plan(*page_ids(found))):
        assert pieces_read(text) and "trgm" not in text, text


def test_a_county_two_character_search_looks_its_part_up_too(named_persons, make_user, login):
    county = login(make_user(Role.COUNTY, county_code="410221"))
    found, html = search_queries(county, "卫东")
    assert shown(html) == 2
    text = plan(*page_ids(found))
    assert pieces_read(text) and "trgm" not in text, text


@pytest.mark.parametrize("role, county_code, expected", [(Role.ADMIN, None, 2), (Role.COUNTY, "410221", 1)])
def test_a_three_character_search_is_counted_over_the_trigram_index(
        named_persons, make_user, login, role, county_code, expected):
    client = login(make_user(role, county_code=county_code))
    found, html = search_queries(client, "王卫东")
    assert shown(html) == expected
    count, = [(sql, parameters) for sql, parameters in found if "count(" in sql]
    text = plan(*count)
    if db.engine.dialect.name == "postgresql":
        assert "ix_persons_name_trigrams" in text, text
    else:  # the FTS5 trigram table finds the few persons; no scan of persons or of a name index
        assert "persons_name_trigrams VIRTUAL TABLE" in text and "SCAN persons USING" not in text, text


@pytest.mark.parametrize("query", ["", "?from=2025-02-10&to=2025-06-20"])
def test_a_leak_list_counts_its_stage_over_the_stage_index(make_class, make_person, make_user, login, query):
    """A leak list's total sums its stage's funnel totals alone: with dates, over ix_funnel_months_stage (and,
    for the part-months of the range, ix_funnel_days_stage), not every stage's totals; without, the all-time
    totals, a row per county, institution and stage (#17)."""
    from registry.training.operations import enroll_person
    enroll_person(None, make_class(), make_person())
    db.session.commit()
    admin = login(make_user(Role.ADMIN))
    with recorded() as statements:
        assert admin.get(f"/stats/funnel/never_assessed{query}").status_code == 200
    sums = {funnel_table(sql): (sql, parameters) for sql, parameters in statements
            if "sum(funnel_" in sql and re.search(r"funnel_\w+\.stage = ", sql)}
    assert set(sums) == ({"funnel_months", "funnel_days"} if query else {"funnel_all_time"}), sums
    for table, (sql, parameters) in sums.items():
        if table != "funnel_all_time":
            assert f"ix_{table}_stage" in plan(sql, parameters), sql


def test_the_funnel_without_dates_reads_the_all_time_totals(make_class, make_person, make_user, login):
    """Both funnel tables, city-wide and for a county, sum the all-time totals, not the month totals that grow
    with the months the registry spans (#17: /stats/funnel city-wide 2.06× from 100k to 1.35M on SQLite)."""
    from registry.training.operations import enroll_person
    enroll_person(None, make_class(), make_person())
    db.session.commit()
    for user in (make_user(Role.ADMIN), make_user(Role.COUNTY, county_code="410221")):
        client = login(user)
        with recorded() as statements:
            assert client.get("/stats/funnel").status_code == 200
        tables = [funnel_table(sql) for sql, _parameters in statements if "sum(funnel_" in sql]
        assert tables == ["funnel_all_time", "funnel_all_time"], statements


def funnel_table(sql: str) -> str:
    return re.search(r"FROM (funnel_\w+)", sql).group(1)