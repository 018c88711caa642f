"""Drill-downs against an independent recount in Python over plain SQL rows; pages, scope, input, exports."""
import csv
import io
import re
from collections import Counter, defaultdict
from datetime import date

import openpyxl
import pytest
import sqlalchemy as sa

from registry.core.roles import Role
from registry.assessment.operations import approve_batch, record_result
from registry.certificates.models import Certificate, CertificateKind
from registry.certificates.operations import correct_certificate, issue_batch, revoke_certificate
from registry.core.audit import AuditEvent
from registry.core.db import db
from registry.people.identity import resident_id_check_char
from registry.people.models import KEY_GROUP_LABELS, KeyGroup
from registry.reference.models import LEVEL_LABELS, Program
from registry.stats import drilldown_tables, drilldowns
from registry.stats.coverage import coverage
from registry.training.models import ClassStatus
from registry.training.operations import enroll_person, record_completion, record_dropout

WELDER = "6-18-02-04"
LEVELLED = {"skill_level", "qualification"}


AGENCY = dict(name="开封焊接评价中心", scopes=[(WELDER, None, 5, 1, "2015-01-01", None)], filed_on="2015-01-01")  # the `agency` fixture (tests/conftest.py)


@pytest.fixture
def certify(make_batch, agency):
    """Assess the persons in a batch of `level` on `day` (passing unless `failing`), issue the passes."""
    def issue(persons, level: int, day: date, failing=()) -> list[Certificate]:
        batch = make_batch(agency=agency, level=level, assessed_on=day, county_code="410221")
        for person in persons:
            score = 40 if person in failing else 80
            record_result(None, batch, person, theory=score, practical=score,
                          review=score if level <= 2 else None)
        approve_batch(None, batch)
        certificates = issue_batch(None, batch, issued_on=day)
        db.session.commit()
        return certificates

    return issue


def history_row(kind: str, number: str, holder: int, county: str, level: str, issued_on: str) -> str:
    first17 = f"41022519800101{holder:03d}"
    document = first17 + resident_id_check_char(first17)
    return f"{kind},{number},居民身份证,{document},历史{holder},{county},,中式面点制作,{level},{issued_on},开封市职业技能鉴定中心"


@pytest.fixture
def world(app, client, login, make_user, make_person, make_class, make_institution, certify):
    """Revoked, superseded, multi-certificate, multi-county and multi-group persons; imported history;
    training in two counties, two institutions, a programme and none."""
    veteran = make_person(name="老持证", county_code="410221", key_groups=int(KeyGroup.VETERAN))
    revoked = make_person(name="被撤销", county_code="410221")
    corrected = make_person(name="被更正", county_code="410225")
    elsewhere = make_person(name="龙亭人", county_code="410202",
                            key_groups=int(KeyGroup.VETERAN | KeyGroup.RURAL_LABOUR))
    expert = make_person(name="技师", county_code="410225")
    rural = make_person(name="农民工", county_code="410221", key_groups=int(KeyGroup.RURAL_LABOUR))
    loser = make_person(name="未通过", county_code="410221")
    certify([veteran], 5, date(2020, 7, 1))
    certify([veteran, revoked, corrected, elsewhere, loser], 3, date(2025, 6, 2), failing=[loser])
    certify([expert], 2, date(2024, 3, 5))
    level_3 = db.session.scalars(sa.select(Certificate).where(Certificate.level == 3))
    by_person = {certificate.person_id: certificate for certificate in level_3}
    revoke_certificate(None, by_person[revoked.id], "考试作弊")
    correct_certificate(None, by_person[corrected.id], "姓名有误", name="被更正甲", issued_on=date(2025, 6, 20))
    db.session.commit()

    # History through the real upload: a person holding only a 专项职业能力证书, and an old 职业资格证书 (三级).
    login(make_user(Role.ADMIN))
    rows = [history_row("专项职业能力证书", "ZX-2019-0001", 1, "兰考县", "", "2019-05-20"),
            history_row("职业资格证书", "1541000000000001", 2, "杞县", "三级/高级工", "2015-06-30")]
    data = ("证书种类,证书编号,证件类型,证件号码,姓名,所在县区,职业编码,职业名称,等级,发证日期,发证机构\n"
            + "\n".join(rows) + "\n").encode()
    response = client.post("/certificates/history", data={"file": (io.BytesIO(data), "历史.csv")},
                           content_type="multipart/form-data")
    job_id = re.search(r"/imports/(\d+)", response.headers["Location"]).group(1)
    assert client.post(f"/imports/{job_id}/commit").status_code == 302
    client.post("/logout")
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Certificate)
                             .where(Certificate.is_imported)) == 2

    program = db.session.scalars(sa.select(Program).order_by(Program.name)).first()
    north, south = make_institution(name="杞县职业培训学校"), make_institution(name="兰考技工学校")
    subsidised = make_class(north, county_code="410221", is_subsidised=True, program_key=program.key,
                            status=ClassStatus.RUNNING)
    plain = make_class(south, county_code="410225", status=ClassStatus.RUNNING)
    for person, day in ((veteran, date(2025, 3, 5)), (rural, date(2025, 3, 5)), (revoked, date(2025, 4, 1))):
        enroll_person(None, subsidised, person, day)
    record_completion(None, enroll_person(None, plain, rural, date(2025, 3, 10)), date(2025, 4, 20), 70)
    record_completion(None, enroll_person(None, plain, elsewhere, date(2025, 3, 12)), date(2025, 4, 20), 70)
    record_dropout(None, enroll_person(None, plain, expert, date(2025, 4, 2)))
    db.session.commit()
    return {"program": program.name}


# --- the independent recount --------------------------------------------------------------------------------

def raw_certificates() -> list[dict]:
    sql = """SELECT c.person_id, p.county_code, p.key_groups, c.kind, c.level, c.status, c.issued_on,
                    c.occupation_id, a.name AS agency FROM certificates c JOIN persons p ON p.id = c.person_id
             LEFT JOIN agencies a ON a.id = c.agency_id"""
    return [dict(row._mapping) for row in db.session.execute(sa.text(sql))]


def raw_enrolments() -> list[dict]:
    sql = """SELECT e.person_id, t.county_code, t.occupation_id, t.program_key, t.is_subsidised,
                    t.id AS class_id, i.name AS institution, e.enrolled_on, e.status, p.key_groups
             FROM enrollments e
             JOIN training_classes t ON t.id = e.class_id JOIN persons p ON p.id = e.person_id
             JOIN training_institutions i ON i.id = t.institution_id"""
    return [dict(row._mapping) for row in db.session.execute(sa.text(sql))]


def raw_results() -> list[dict]:
    sql = """SELECT a.name AS agency, p.county_code, b.assessed_on, r.is_passed FROM assessment_results r
             JOIN assessment_batches b ON b.id = r.batch_id JOIN agencies a ON a.id = b.agency_id
             JOIN persons p ON p.id = r.person_id"""
    return [dict(row._mapping) for row in db.session.execute(sa.text(sql))]


def day(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


class Recount:
    """Each figure counted again in plain Python from the raw rows, with the filters applied by hand."""

    def __init__(self, counties=None, date_from=None, date_to=None, kinds=None):
        self.counties, self.kinds = counties, kinds or [kind.value for kind in CertificateKind]
        self.date_from, self.date_to = date_from or date.min, date_to or date.max
        self.certificates = raw_certificates()
        self.enrolments = [e for e in raw_enrolments() if self.here(e) and self.within(e["enrolled_on"])]
        self.results = [r for r in raw_results() if self.here(r) and self.within(r["assessed_on"])]

    def here(self, row) -> bool:
        return self.counties is None or row["county_code"] in self.counties

    def within(self, value) -> bool:
        return self.date_from <= day(value) <= self.date_to

    def valid(self, status="valid") -> list[dict]:
        return [c for c in self.certificates if c["status"] == status and c["kind"] in self.kinds
                and self.here(c) and self.within(c["issued_on"])]

    def by_level(self) -> dict:
        best: dict[int, int] = {}
        for c in self.valid():
            if c["kind"] in LEVELLED and c["level"]:
                best[c["person_id"]] = min(best.get(c["person_id"], 9), c["level"])
        holders = Counter(best.values())
        certificates = Counter(c["level"] if c["kind"] in LEVELLED and c["level"] else None
                               for c in self.valid())
        figures = {LEVEL_LABELS[level]: (holders[level], certificates[level]) for level in range(1, 6)}
        everyone = {c["person_id"] for c in self.valid()}
        figures[drilldown_tables.NO_LEVEL] = (len(everyone - set(best)), certificates[None])
        return figures

    def by_occupation(self) -> dict:
        holders, certificates, enrolments = defaultdict(set), Counter(), Counter()
        for c in self.valid():
            holders[c["occupation_id"]].add(c["person_id"])
            certificates[c["occupation_id"]] += 1
        for e in self.enrolments:
            enrolments[e["occupation_id"]] += 1
        return {key: (len(holders[key]), certificates[key], enrolments[key])
                for key in set(holders) | set(enrolments)}

    def by_key_group(self) -> dict:
        figures = {}
        groups = [(label, lambda bits, g=group: bits & g) for group, label in KEY_GROUP_LABELS.items()]
        for label, member in [*groups, ("未标记重点群体", lambda bits: bits == 0)]:
            holders = {c["person_id"] for c in self.valid() if member(c["key_groups"])}
            mine = [e for e in self.enrolments if member(e["key_groups"])]
            figures[label] = (len(holders), len(mine), sum(e["status"] == "completed" for e in mine))
        return figures

    def training_by(self, key: str) -> dict:
        figures = defaultdict(Counter)
        for e in self.enrolments:
            figures[e[key]].update(enrolments=1, completions=e["status"] == "completed",
                                   subsidised=bool(e["is_subsidised"]))
            figures[e[key]]["classes"] = len({x["class_id"] for x in self.enrolments if x[key] == e[key]})
        return figures

    def by_agency(self) -> dict:
        figures = defaultdict(Counter)
        for r in self.results:
            figures[r["agency"]].update(assessed=1, passed=bool(r["is_passed"]))
        holders = defaultdict(set)
        for c in self.valid():
            figures[c["agency"]]["certificates"] += 1
            holders[c["agency"]].add(c["person_id"])
        for c in self.valid("revoked"):
            figures[c["agency"]]["revoked"] += 1
        for agency, persons in holders.items():
            figures[agency]["holders"] = len(persons)
        return figures

    def by_month(self) -> dict:
        figures = defaultdict(Counter)
        first: dict[int, date] = {}
        for c in self.certificates:
            if c["status"] == "valid" and c["kind"] in self.kinds and self.here(c) \
                    and day(c["issued_on"]) <= self.date_to:
                first[c["person_id"]] = min(first.get(c["person_id"], date.max), day(c["issued_on"]))
        for first_day in first.values():
            if self.within(first_day):
                figures[first_day.isoformat()[:7]]["new_holders"] += 1
        for c in self.valid():
            figures[day(c["issued_on"]).isoformat()[:7]]["certificates"] += 1
        for e in self.enrolments:
            figures[day(e["enrolled_on"]).isoformat()[:7]].update(enrolments=1,
                                                                  completions=e["status"] == "completed")
        return figures


FILTERS = [
    {},
    {"counties": ["410221"]},
    {"counties": ["410225"], "date_from": date(2021, 1, 1)},
    {"date_to": date(2024, 12, 31)},
    {"date_from": date(2025, 3, 6), "date_to": date(2025, 6, 10)},
    {"kinds": ["special_proficiency"]},
    {"kinds": ["qualification"], "counties": ["410221", "410202"]},
]


def query_arguments(case: dict, kinds=True) -> dict:
    arguments = {"county_codes": case.get("counties"), "date_from": case.get("date_from"),
                 "date_to": case.get("date_to")}
    if kinds:
        arguments["kinds"] = [CertificateKind(kind) for kind in case["kinds"]] if "kinds" in case else None
    return arguments


@pytest.mark.parametrize("case", FILTERS)
def test_every_drilldown_matches_an_independent_recount(world, case):
    expected = Recount(case.get("counties"), case.get("date_from"), case.get("date_to"), case.get("kinds"))
    arguments = query_arguments(case)

    table = drilldowns.holders_by_level(**arguments)
    assert {row["level"]: (row["holders"], row["certificates"]) for row in table.rows} == expected.by_level()

    table = drilldowns.by_occupation(**arguments, top=100)
    occupations = {key: value for key, value in expected.by_occupation().items()}
    assert sorted((row["holders"], row["certificates"], row["enrolments"]) for row in table.rows) == \
        sorted(occupations.values())

    table = drilldowns.by_key_group(**arguments)
    assert {row["group"]: (row["holders"], row["enrolments"], row["completions"]) for row in table.rows} == \
        expected.by_key_group()

    table = drilldowns.training_by_program(**query_arguments(case, kinds=False))
    programs = expected.training_by("program_key")
    shown = {row["program"]: (row["enrolments"], row["completions"], row["subsidised"]) for row in table.rows}
    assert sum(value[0] for value in shown.values()) == len(expected.enrolments)
    keys = ("enrolments", "completions", "subsidised")
    assert shown["未列入专项工程"] == tuple(programs[None][key] for key in keys)

    table = drilldowns.training_by_institution(**query_arguments(case, kinds=False))
    institutions = expected.training_by("institution")
    keys = ("classes", "enrolments", "completions", "subsidised")
    assert {row["institution"]: tuple(row[key] for key in keys) for row in table.rows} == {
        name: tuple(figures[key] for key in keys) for name, figures in institutions.items()}

    table = drilldowns.by_agency(**arguments)
    agencies = {name or "系统外机构（历史导入）": figures for name, figures in expected.by_agency().items()}
    keys = ("assessed", "passed", "certificates", "holders", "revoked")
    assert {row["agency"]: tuple(row[key] for key in keys) for row in table.rows} == {
        name: tuple(figures[key] for key in keys) for name, figures in agencies.items()}

    table = drilldowns.by_month(**arguments)
    months = expected.by_month()
    keys = ("new_holders", "certificates", "enrolments", "completions")
    shown = {row["month"]: tuple(row[key] for key in keys) for row in table.rows}
    assert {month: value for month, value in shown.items() if any(value)} == {
        month: tuple(figures[key] for key in keys)
        for month, figures in months.items() if any(figures.values())}
    assert table.total["new_holders"] == sum(figures["new_holders"] for figures in months.values())


@pytest.mark.parametrize("as_of", [date(2020, 12, 31), date(2025, 6, 2), date.today()])
def test_without_a_start_date_the_level_table_is_the_cockpits_count(world, as_of):
    city, counties = coverage(as_of)
    table = drilldowns.holders_by_level(date_to=as_of)
    assert table.total["holders"] == city.holders
    assert [row["holders"] for row in table.rows[:5]] == [city.by_level[str(level)] for level in range(1, 6)]
    for county in counties:
        rows = drilldowns.holders_by_level([county.code], date_to=as_of).rows
        assert sum(row["holders"] for row in rows) == county.holders, county.name


def test_the_hand_built_world_reads_as_intended(world):
    level = {row["level"]: row for row in drilldowns.holders_by_level().rows}
    # 老持证 (三级 beats 五级), 被更正's replacement, 龙亭人, 历史2's 职业资格证书; 技师 二级; 历史1 has no level.
    assert level["三级/高级工"]["holders"] == 4 and level["五级/初级工"]["certificates"] == 1
    assert level["二级/技师"]["holders"] == 1 and level[drilldown_tables.NO_LEVEL]["holders"] == 1
    groups = {row["group"]: row for row in drilldowns.by_key_group().rows}
    assert groups["退役军人"]["holders"] == 2 and groups["农村劳动力"]["holders"] == 1
    assert groups["农村劳动力"]["enrolments"] == 3 and groups["农村劳动力"]["completions"] == 2
    agencies = {row["agency"]: row for row in drilldowns.by_agency().rows}
    welding = agencies["开封焊接评价中心"]
    assert (welding["assessed"], welding["passed"], welding["revoked"]) == (7, 6, 1)
    assert welding["pass_rate"] == pytest.approx(6 / 7)
    assert agencies["系统外机构（历史导入）"]["certificates"] == 2
    programs = {row["program"]: row for row in drilldowns.training_by_program().rows}
    assert programs[world["program"]]["subsidised"] == 3 and programs["未列入专项工程"]["completions"] == 2
    top = drilldowns.by_occupation(top=1)
    assert len(top.rows) == 1 and top.rows[0]["code"] == WELDER
    months = {row["month"]: row for row in drilldowns.by_month(date_from=date(2025, 1, 1),
                                                               date_to=date(2025, 12, 31)).rows}
    assert len(months) == 12 and months["2025-06"]["new_holders"] == 2  # 被更正 (replacement), 龙亭人; not 老持证
    assert months["2025-03"]["enrolments"] == 4 and months["2025-06"]["certificates"] == 3


# --- pages --------------------------------------------------------------------------------------------------

DIMENSIONS = ["level", "occupation", "key_group", "program", "agency", "institution", "month"]


@pytest.mark.parametrize("dimension", DIMENSIONS)
def test_each_drilldown_page_has_a_table_a_chart_and_a_filter_bar(world, client, login, make_user, dimension):
    login(make_user(Role.ADMIN))
    response = client.get(f"/stats/drilldowns/{dimension}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<svg class="chart"' in page and 'id="drilldown"' in page and 'name="county"' in page
    assert 'name="from"' in page and 'name="to"' in page


def test_the_filters_reach_the_query(world, client, login, make_user):
    login(make_user(Role.ADMIN))
    page = client.get("/stats/drilldowns/level?county=410225&kind=special_proficiency").get_data(as_text=True)
    assert "专项职业能力证书" in page
    table = drilldowns.holders_by_level(["410225"], kinds=[CertificateKind.SPECIAL_PROFICIENCY])
    assert table.total["holders"] == 1
    assert re.search(r"<tfoot>\s*<tr>\s*<th scope=\"row\">合计</th>\s*<td>1</td>", page)


def test_a_county_official_sees_only_their_county(world, client, login, make_user):
    login(make_user(Role.COUNTY, county_code="410225"))
    page = client.get("/stats/drilldowns/level").get_data(as_text=True)
    # 兰考县: 技师 (二级), 被更正's replacement (三级), 历史1 (no level).
    assert re.search(r"<tfoot>\s*<tr>\s*<th scope=\"row\">合计</th>\s*<td>3</td>", page)
    assert "全市</option>" not in page and "杞县（410221）" not in page
    assert client.get("/stats/drilldowns/level?county=410225").status_code == 200
    for path in ("/stats/drilldowns/level?county=410221", "/stats/drilldowns/month?county=410221&format=csv"):
        assert client.get(path).status_code == 403


def test_other_roles_are_refused(world, client, login, make_user, make_institution, make_agency):
    assert client.get("/stats/drilldowns/level").status_code == 302
    login(make_user(Role.INSTITUTION, organization_id=make_institution().id))
    assert client.get("/stats/drilldowns/level").status_code == 403
    login(make_user(Role.AGENCY, organization_id=make_agency().id))
    assert client.get("/stats/drilldowns/agency?format=xlsx").status_code == 403


@pytest.mark.parametrize("query, message", [
    ("from=2025-13-01", "起始日期：格式应为 YYYY-MM-DD"),
    ("to=yesterday", "截止日期：格式应为 YYYY-MM-DD"),
    ("from=2025-06-01&to=2025-01-01", "起始日期 2025-06-01 晚于截止日期 2025-01-01"),
    ("to=2999-01-01", "晚于今天"),
    ("county=999999", "未知的县区代码"),
    ("kind=diploma", "证书类别：未知的类别"),
    ("top=0", "显示前几名"),
    ("top=abc", "显示前几名"),
    ("top=%C2%B2", "显示前几名"),  # "²" passes str.isdigit() but not int()
    ("institution_id=%C2%B2", "培训机构：未知的机构"),
    ("institution_id=99999999999999999999", "培训机构：未知的机构"),  # past the database's integers
])
@pytest.mark.parametrize("dimension", ["occupation", "month"])
def test_bad_input_is_a_400_with_a_chinese_message(client, login, make_user, query, message, dimension):
    login(make_user(Role.ADMIN))
    for suffix in ("", "&format=xlsx"):
        response = client.get(f"/stats/drilldowns/{dimension}?{query}{suffix}")
        assert response.status_code == 400, (query, suffix)
        assert message in response.get_data(as_text=True)


def test_an_unknown_dimension_is_not_found(client, login, make_user):
    login(make_user(Role.ADMIN))
    assert client.get("/stats/drilldowns/weather").status_code == 404


@pytest.mark.parametrize("dimension", DIMENSIONS)
def test_exports_are_the_table_as_shown_and_are_audited(world, client, login, make_user, dimension):
    login(make_user(Role.ADMIN))
    arguments = "county=410221&from=2015-01-01&to=2025-12-31"
    html = client.get(f"/stats/drilldowns/{dimension}?{arguments}").get_data(as_text=True)
    table = html.split('id="drilldown"')[1].split("</table>")[0]
    cells = re.compile(r"<t[hd][^>]*>(.*?)</t[hd]>", re.S)
    shown = [[re.sub(r"<[^>]+>", "", cell).strip() for cell in cells.findall(row)]
             for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)]

    xlsx = client.get(f"/stats/drilldowns/{dimension}?{arguments}&format=xlsx")
    assert xlsx.status_code == 200 and xlsx.mimetype.endswith("spreadsheetml.sheet")
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.data)).active
    from_xlsx = [["" if value is None else value for value in row]
                 for row in sheet.iter_rows(values_only=True)]
    response = client.get(f"/stats/drilldowns/{dimension}?{arguments}&format=csv")
    from_csv = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))

    def as_text(value) -> str:
        return f"{value:,}" if isinstance(value, int) else str(value)

    assert [[as_text(value) for value in row] for row in from_xlsx] == shown
    assert [[as_text(int(value)) if value.isdigit() else value for value in row] for row in from_csv] == shown
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "export",
                                                            AuditEvent.entity_type == "stats_table")).all()
    assert len(events) == 2 and events[0].after["county"] == "410221"
    assert events[0].after["rows"] == len(shown) - 1


def test_a_bar_chart_draws_only_the_first_rows_of_a_long_table(app):
    from registry.stats.drilldown_views import CHART_BARS, _charts

    rows = [{"name": f"机构{index}", "enrolments": 100 - index} for index in range(CHART_BARS + 5)]
    columns = [drilldown_tables.TableColumn("name", "培训机构"), drilldown_tables.TableColumn("enrolments", "培训人次")]
    table = drilldown_tables.Table("按培训机构", columns, rows, charts=("enrolments",))
    [(caption, svg)] = _charts(table, "institution")
    assert f"前 {CHART_BARS} 行" in caption and f"机构{CHART_BARS - 1}<" in svg and f"机构{CHART_BARS}<" not in svg
