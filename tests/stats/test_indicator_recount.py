"""Every plan indicator of the cockpit (registry/stats/indicators.py) against an independent recount: a small
hand-made city built through the services, each reading for the city and for single counties, today and at
past dates, compared with counts worked out here in plain Python over the raw rows."""
import io
import re
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
import sqlalchemy as sa

from registry.assessment.operations import approve_batch, record_result
from registry.certificates.models import Certificate
from registry.certificates.operations import correct_certificate, issue_batch, revoke_certificate
from registry.core.db import db
from registry.core.roles import Role
from registry.organizations.models import AgencyStatus
from registry.people.identity import resident_id_check_char
from registry.people.models import KeyGroup
from registry.reference.models import CITY_CODE
from registry.reference.operations import set_employment
from registry.stats import indicators
from registry.training.models import ClassStatus, TrainingType
from registry.training.operations import enroll_person, record_completion

WELDER = "6-18-02-04"
RURAL = int(KeyGroup.RURAL_LABOUR)
PLAN_START = date(2021, 1, 1)
SCOPES = (("410200", "开封市"), ("410221", "杞县"), ("410225", "兰考县"))
AS_OF = (date(2020, 12, 31), date(2024, 12, 31), date(2025, 4, 30), date.today())

AGENCY = dict(scopes=[(WELDER, None, 5, 1, "2015-01-01", None)], filed_on="2015-01-01",
              county_code="410202")  # the `agency` fixture (tests/conftest.py)


@pytest.fixture
def certify(make_batch, agency):
    def issue(persons, level: int, day: date) -> None:
        batch = make_batch(agency=agency, level=level, assessed_on=day, county_code="410221")
        for person in persons:
            record_result(None, batch, person, theory=80, practical=80, review=80 if level <= 2 else None)
        approve_batch(None, batch)
        issue_batch(None, batch, issued_on=day)
        db.session.commit()

    return issue


@pytest.fixture
def city(client, login, make_user, make_person, make_class, make_agency, certify):
    """Every awkward case of every indicator: a holder only of a 专项职业能力证书, revoked and corrected
    certificates, a 2020 certificate, a rural person in two classes of two counties, training before 2021,
    an apprenticeship class, agencies active, suspended, withdrawn and filed later, employed persons for two
    years and for the city itself."""
    veteran = make_person(name="老持证", county_code="410221")             # 2020 五级, 2025 三级
    revoked = make_person(name="被撤销", county_code="410221")             # only certificate revoked
    corrected = make_person(name="被更正", county_code="410225")           # superseded, then replaced
    elsewhere = make_person(name="龙亭人", county_code="410202")            # assessed in 杞县, lives in 龙亭
    expert = make_person(name="技师", county_code="410225")                # 二级 in 2024
    middle = make_person(name="中级工", county_code="410221")              # 四级 in 2023
    beginner = make_person(name="初级工", county_code="410225")            # 五级 in 2022
    rural = make_person(name="农民工", county_code="410221", key_groups=RURAL)
    rural_lankao = make_person(name="兰考农民", county_code="410225", key_groups=RURAL)
    certify([veteran], 5, date(2020, 7, 1))
    certify([middle], 4, date(2023, 5, 10))
    certify([beginner], 5, date(2022, 8, 8))
    certify([expert], 2, date(2024, 3, 5))
    certify([veteran, revoked, corrected, elsewhere], 3, date(2025, 3, 2))
    level_3 = db.session.scalars(sa.select(Certificate).where(Certificate.level == 3))
    by_person = {certificate.person_id: certificate for certificate in level_3}
    revoke_certificate(None, by_person[revoked.id], "考试作弊")
    correct_certificate(None, by_person[corrected.id], "姓名有误", name="被更正甲", issued_on=date(2025, 3, 20))
    db.session.commit()

    # A holder of a 专项职业能力证书 only (a holder and a new certificate, not a skilled worker), via the upload.
    login(make_user(Role.ADMIN))
    first17 = "41022519800101001"
    row = (f"专项职业能力证书,ZX-2022-0001,居民身份证,{first17 + resident_id_check_char(first17)},专项持证,杞县,,"
           "中式面点制作,,2022-05-20,开封市职业技能鉴定中心")
    data = ("证书种类,证书编号,证件类型,证件号码,姓名,所在县区,职业编码,职业名称,等级,发证日期,发证机构\n"
            + row + "\n").encode()
    response = client.post("/certificates/history", data={"file": (io.BytesIO(data), "历史.csv")},
                           content_type="multipart/form-data")
    job_id = re.search(r"/imports/(\d+)", response.headers["Location"]).group(1)
    assert client.post(f"/imports/{job_id}/commit").status_code == 302
    db.session.expire_all()

    old = make_class(county_code="410221", starts_on=date(2020, 9, 1), ends_on=date(2020, 12, 31),
                     status=ClassStatus.RUNNING)
    subsidised = make_class(county_code="410221", is_subsidised=True, status=ClassStatus.RUNNING)
    plain = make_class(county_code="410225", status=ClassStatus.RUNNING)
    apprentices = make_class(county_code="410221", training_type=TrainingType.APPRENTICESHIP,
                             starts_on=date(2024, 9, 1), ends_on=date(2025, 6, 30), status=ClassStatus.RUNNING)
    enroll_person(None, old, rural, date(2020, 10, 1))
    enroll_person(None, old, veteran, date(2020, 10, 1))
    for person in (veteran, rural, revoked):
        enroll_person(None, subsidised, person, date(2025, 3, 5))
    record_completion(None, enroll_person(None, plain, rural, date(2025, 3, 10)), date(2025, 4, 20), 70)
    enroll_person(None, plain, rural_lankao, date(2025, 4, 2))
    enroll_person(None, plain, expert, date(2025, 4, 3))
    enroll_person(None, apprentices, middle, date(2024, 10, 8))
    enroll_person(None, apprentices, rural_lankao, date(2025, 2, 14))

    make_agency(county_code="410221", filed_on="2022-06-01")
    make_agency(county_code="410221", filed_on="2024-02-01", status=AgencyStatus.SUSPENDED)
    make_agency(county_code="410225", filed_on="2021-03-01", status=AgencyStatus.WITHDRAWN)
    make_agency(county_code="410225", filed_on="2025-01-15")
    make_agency(county_code="410221", filed_on="2025-06-01")

    set_employment(None, "410221", 2024, 40, "杞县统计年鉴2024")
    set_employment(None, "410221", 2025, 50, "杞县统计年鉴2025")
    set_employment(None, "410225", 2023, 30, "兰考县统计公报2023")
    set_employment(None, CITY_CODE, 2024, 900, "开封市统计年鉴2024")
    db.session.commit()


# --- the independent recount --------------------------------------------------------------------------------

def rows(sql: str) -> list[dict]:
    return [dict(row) for row in db.session.execute(sa.text(sql)).mappings()]


def as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def in_scope(code: str, county_code: str) -> bool:
    return code == CITY_CODE or county_code == code


def ratio(numerator: int, denominator: int | None) -> int | None:
    """Hundredths of a percent, half up, as the readings keep rates."""
    if not denominator:
        return None
    return int((Decimal(numerator) * 10_000 / Decimal(denominator)).quantize(Decimal(1), ROUND_HALF_UP))


def recount(code: str, as_of: date) -> dict[str, int | None]:
    certificates = [row | {"issued_on": as_date(row["issued_on"])} for row in rows(
        "SELECT c.person_id, p.county_code, c.kind, c.level, c.status, c.issued_on "
        "FROM certificates c JOIN persons p ON p.id = c.person_id")]
    valid = [row for row in certificates if row["status"] == "valid" and row["issued_on"] <= as_of
             and in_scope(code, row["county_code"])]
    best: dict[int, int] = {}
    for row in valid:
        if row["kind"] in ("skill_level", "qualification") and row["level"]:
            best[row["person_id"]] = min(best.get(row["person_id"], 9), row["level"])
    holders = len({row["person_id"] for row in valid})
    skilled = sum(1 for level in best.values() if level <= 5)
    high = sum(1 for level in best.values() if level <= 3)

    enrolments = [row | {"enrolled_on": as_date(row["enrolled_on"])} for row in rows(
        "SELECT e.person_id, t.county_code, t.is_subsidised, t.training_type, p.key_groups, e.enrolled_on "
        "FROM enrollments e JOIN training_classes t ON t.id = e.class_id JOIN persons p ON p.id = e.person_id")]
    plan = [row for row in enrolments if PLAN_START <= row["enrolled_on"] <= as_of
            and in_scope(code, row["county_code"])]

    agencies = [row for row in rows("SELECT county_code, status, filed_on FROM agencies")
                if row["status"] == "active" and as_date(row["filed_on"]) <= as_of
                and in_scope(code, row["county_code"])]

    employed_rows = rows("SELECT county_code, year, employed_persons FROM county_employment")
    latest: dict[str, tuple[int, int]] = {}
    for row in employed_rows:
        if row["year"] <= as_of.year and row["year"] >= latest.get(row["county_code"], (0, 0))[0]:
            latest[row["county_code"]] = (row["year"], row["employed_persons"])
    employed = latest.get(code, (None, None))[1]
    if employed is None and code == CITY_CODE:
        counties = [row["code"] for row in rows(
            f"SELECT code FROM counties WHERE is_current AND code <> '{CITY_CODE}'")]
        if all(county in latest for county in counties):
            employed = sum(latest[county][1] for county in counties)

    return {
        "skilled_holders_total": holders,
        "skilled_workers_total": skilled,
        "high_skilled_workers": high,
        "mid_high_skilled_workers": sum(1 for level in best.values() if level <= 4),
        "certified_persons": skilled,
        "new_certificates": sum(1 for row in valid if row["issued_on"] >= PLAN_START),
        "holder_rate_of_employed": ratio(holders, employed),
        "skilled_share_of_employed": ratio(skilled, employed),
        "high_skilled_share": ratio(high, skilled),
        "vocational_training_sessions": len(plan),
        "subsidized_training": sum(1 for row in plan if row["is_subsidised"]),
        "rural_training": len({row["person_id"] for row in plan if row["key_groups"] & RURAL}),
        "new_apprenticeship": sum(1 for row in plan if row["training_type"] == "apprenticeship"),
        "recognition_agencies": len(agencies),
        "skilled_returnees": None,
    }


@pytest.mark.parametrize("as_of", AS_OF, ids=str)
@pytest.mark.parametrize("code, name", SCOPES)
def test_every_indicator_matches_an_independent_recount(city, code, name, as_of):
    expected = recount(code, as_of)
    read = indicators.readings(indicators.Scope(code, name), as_of)
    assert set(read) == {definition.key for definition in indicators.DEFINITIONS} == set(expected)
    assert {key: reading.value for key, reading in read.items()} == expected
    for key, reading in read.items():
        assert (reading.value is None) == bool(reading.missing), key  # no value always says why


def test_the_hand_made_city_exercises_every_case(city):
    """The recount above compares something: the awkward cases really are in the data, by the recount."""
    today = recount(CITY_CODE, date.today())
    assert today["skilled_holders_total"] > today["skilled_workers_total"]  # the 专项 holder
    assert today["skilled_workers_total"] > today["mid_high_skilled_workers"] > today["high_skilled_workers"]
    assert today["vocational_training_sessions"] > today["rural_training"] > 0  # 人次 vs persons
    assert today["new_apprenticeship"] and today["subsidized_training"] and today["recognition_agencies"]
    qixian = recount("410221", date(2025, 4, 30))
    assert qixian["holder_rate_of_employed"] == ratio(qixian["skilled_holders_total"], 50)  # 2025's figure
    assert recount("410221", date(2024, 12, 31))["holder_rate_of_employed"] == ratio(
        recount("410221", date(2024, 12, 31))["skilled_holders_total"], 40)
    assert recount("410202", date.today())["holder_rate_of_employed"] is None  # none entered for 龙亭区
    assert today["holder_rate_of_employed"] == ratio(today["skilled_holders_total"], 900)


def test_an_indicator_without_data_says_why(city):
    read = indicators.readings(indicators.Scope("410202", "龙亭区"), date.today())
    assert read["holder_rate_of_employed"].value is None
    assert "未录入龙亭区" in read["holder_rate_of_employed"].missing
    assert "无法统计" in read["skilled_returnees"].missing


# --- a projection for every target ----------------------------------------------------------------------------

def test_every_indicator_with_a_target_is_projected(city, client, login, make_user):
    """Each measurable indicator of 杞县 gets a target (twice its value, in the indicator's unit); every one is
    projected at the pace of its own last 90 days, worked out here from the recount."""
    from registry.reference.operations import set_target
    from registry.stats.county_targets import settable_indicators

    as_of = date(2025, 4, 30)
    now, before = recount("410221", as_of), recount("410221", date(2025, 1, 30))
    targets = {}
    for indicator in settable_indicators():
        doubled = 2 * (now[indicator.key] or 1)
        targets[indicator.key] = doubled
        if indicator.unit == "%":
            value = Decimal(doubled) / 100
        elif indicator.unit.startswith("万"):
            value = Decimal(doubled) / 10_000
        else:
            value = Decimal(doubled)
        set_target(None, indicator.key, "410221", 2025, value)
    db.session.commit()
    assert len(targets) == len(indicators.DEFINITIONS) - len(indicators.NO_SOURCE)

    read = indicators.readings(indicators.Scope("410221", "杞县"), as_of)
    paced = 0
    for key, target in targets.items():
        reading, value, added = read[key], now[key], now[key] - (before[key] or 0)
        assert reading.target == target and reading.projection.target == target, key
        remaining = target - value
        assert reading.projection.remaining == remaining, key
        assert reading.projection.needed_weekly == -(-remaining * 7 // (date(2025, 12, 31) - as_of).days), key
        expected = as_of + timedelta(days=-(-remaining * 90 // added)) if added > 0 else None
        assert reading.projection.reached_on == expected, key
        paced += added > 0
    assert paced >= 5  # holders, skilled, training, subsidised, rural, apprentices… move in these 90 days

    login(make_user(Role.COUNTY, county_code="410221"))
    page = client.get(f"/stats?as_of={as_of.isoformat()}").get_data(as_text=True)
    for key, reading in read.items():
        if key in targets:
            row = re.search(rf'<tr id="indicator-{key}">(.*?)</tr>', page, re.S).group(1)
            cells = [re.sub(r"<[^>]+>|\s", "", cell) for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
            projected = reading.projection.reached_on
            label = projected.isoformat() if projected else "按当前进度无法达到"
            assert cells[6].startswith(label), (key, cells)  # 预计达标, "（晚于期限）" after a late one
            assert cells[5], (key, cells)  # 按期需每周
