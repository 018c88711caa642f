"""Occupation, target and county-denominator operations: validation, effects and audit rows."""
from decimal import Decimal

import pytest
import sqlalchemy as sa

from registry.core.audit import AuditEvent
from registry.core.db import db
from registry.core.errors import InvalidInput
from registry.reference import operations
from registry.reference.models import CITY_CODE, County, Occupation, Target
from registry.reference.queries import current_counties

# Made-up denominators: only their proportions matter to the split tests.
EMPLOYED = {"410202": 150_000, "410203": 120_000, "410204": 100_000, "410205": 110_000, "410212": 380_000,
            "410221": 560_000, "410222": 310_000, "410223": 480_000, "410225": 450_000}


@pytest.fixture
def admin(make_user):
    return make_user()


def events(entity_type: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.entity_type == entity_type)
                                   .order_by(AuditEvent.id)))


def target(indicator_key: str, county_code: str, year: int = 2025) -> Target | None:
    return db.session.scalar(sa.select(Target).filter_by(indicator_key=indicator_key, county_code=county_code,
                                                         year=year))


@pytest.fixture
def denominators(admin):
    for code, employed in EMPLOYED.items():
        operations.set_county_denominator(admin, db.session.get(County, code), employed)
    db.session.commit()


# ---- occupations ---------------------------------------------------------------------------------

def test_create_occupation_stores_cleaned_fields_and_audits(admin):
    occupation = operations.create_occupation(
        admin, " 6-99-99-01 ", " 演示职业 ", 2022, levels=[3, 5, 4],
        work_types="  数控车工\n\n数控铣工\n数控车工  \n", confidence="演示", source="测试",
    )
    db.session.commit()
    assert (occupation.code, occupation.name, occupation.edition) == ("6-99-99-01", "演示职业", 2022)
    assert occupation.levels == [5, 4, 3]
    assert occupation.work_types == ["数控车工", "数控铣工"]
    [event] = events("occupation")
    assert (event.action, event.entity_id, event.actor_id) == ("create", str(occupation.id), admin.id)
    assert event.after["work_types"] == ["数控车工", "数控铣工"] and event.after["levels"] == [5, 4, 3]


def test_same_code_may_exist_in_another_edition(admin):
    occupation = operations.create_occupation(admin, "4-03-02-01", "中式烹调师", 2015)
    assert occupation.id is not None


@pytest.mark.parametrize(("values", "field", "message"), [
    ({"code": "4-3-2-1"}, "code", "职业编码：格式应为 d-dd-dd-dd，例如 4-03-02-01"),
    ({"code": "4-03-02-011"}, "code", "职业编码：格式应为 d-dd-dd-dd，例如 4-03-02-01"),
    ({"code": "4-03-02-01"}, "code", "职业编码：2022 版大典中已有职业 4-03-02-01"),
    ({"name": "  "}, "name", "职业名称：不能为空"),
    ({"name": "名" * 61}, "name", "职业名称：最多 60 个字符"),
    ({"edition": 15}, "edition", "大典版本：应为版本年份，例如 2015 或 2022"),
    ({"levels": [0, 5]}, "levels", "技能等级：只能是一级至五级"),
    ({"levels": [6]}, "levels", "技能等级：只能是一级至五级"),
    ({"work_types": "甲\n" + "乙" * 61}, "work_types", f"工种/职业方向：“{'乙' * 61}”超过 60 个字符"),
])
def test_create_occupation_refuses_bad_input(admin, values, field, message):
    before = db.session.scalar(sa.select(sa.func.count(Occupation.id)))
    arguments = {"code": "6-99-99-02", "name": "演示职业", "edition": 2022} | values
    with pytest.raises(InvalidInput) as raised:
        operations.create_occupation(admin, **arguments)
    assert (raised.value.field, raised.value.message) == (field, message)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Occupation.id))) == before
    assert events("occupation") == []


def test_update_occupation_logs_only_changes(admin):
    occupation = operations.create_occupation(admin, "6-99-99-03", "演示职业", 2022, levels=[5, 4])
    operations.update_occupation(admin, occupation, "6-99-99-03", "演示职业（新）", 2022, levels=[5, 4],
                                 work_types=["甲", "乙"], is_active=False)
    db.session.commit()
    update = events("occupation")[-1]
    assert update.action == "update"
    assert update.before == {"name": "演示职业", "work_types": [], "is_active": True}
    assert update.after == {"name": "演示职业（新）", "work_types": ["甲", "乙"], "is_active": False}


def test_update_without_change_logs_nothing(admin):
    occupation = operations.create_occupation(admin, "6-99-99-04", "演示职业", 2022)
    operations.update_occupation(admin, occupation, "6-99-99-04", "演示职业", 2022)
    assert [event.action for event in events("occupation")] == ["create"]


def test_refused_update_leaves_occupation_untouched(admin):
    occupation = operations.create_occupation(admin, "6-99-99-05", "演示职业", 2022)
    with pytest.raises(InvalidInput, match="已有职业 4-03-02-01"):
        operations.update_occupation(admin, occupation, "4-03-02-01", "改名", 2022)
    assert (occupation.code, occupation.name) == ("6-99-99-05", "演示职业")


# ---- targets -------------------------------------------------------------------------------------

def test_set_target_creates_then_updates(admin):
    created = operations.set_target(admin, "skilled_holders_total", "410221", 2025, "12.5")
    db.session.commit()
    assert (created.value, created.comparator) == (Decimal("12.5"), "=")
    updated = operations.set_target(admin, "skilled_holders_total", "410221", 2025, Decimal("13"), ">=")
    db.session.commit()
    assert updated.id == created.id and updated.value == Decimal("13") and updated.comparator == ">="
    create, update = events("target")
    assert (create.action, create.after["value"], create.after["county_code"]) == ("create", "12.5", "410221")
    assert (update.action, update.before, update.after) == (
        "update", {"value": "12.5", "comparator": "="}, {"value": "13", "comparator": ">="})


def test_set_target_changes_the_city_figure(admin):
    operations.set_target(admin, "skilled_holders_total", CITY_CODE, 2025, 140)
    db.session.commit()
    assert target("skilled_holders_total", CITY_CODE).value == Decimal("140")
    assert events("target")[0].before == {"value": "135"}


@pytest.mark.parametrize(("arguments", "field", "message"), [
    (("no_such_indicator", "410221", 2025, 1), "indicator_key", "指标：未知指标 no_such_indicator"),
    (("skilled_holders_total", "410299", 2025, 1), "county_code", "县区：未知或已撤销的县区代码 410299"),
    (("skilled_holders_total", "410224", 2025, 1), "county_code", "县区：未知或已撤销的县区代码 410224"),
    (("skilled_holders_total", "410221", 2020, 1), "year", "年份：应在 2021 至 2035 年之间"),
    (("skilled_holders_total", "410221", 2036, 1), "year", "年份：应在 2021 至 2035 年之间"),
    (("skilled_holders_total", "410221", 2025, -1), "value", "目标值：不能为负数"),
    (("skilled_holders_total", "410221", 2025, "abc"), "value", "目标值：应为数字"),
    (("skilled_holders_total", "410221", 2025, "1.23456"), "value", "目标值：最多 4 位小数"),
    (("skilled_holders_total", "410221", 2025, "1e12"), "value", "目标值：不能超过 9999999999"),
    (("skilled_holders_total", "410221", 2025, 1, "<"), "comparator", "比较方式：只能是 =、> 或 >="),
])
def test_set_target_refuses_bad_input(admin, arguments, field, message):
    with pytest.raises(InvalidInput) as raised:
        operations.set_target(admin, *arguments)
    assert (raised.value.field, raised.value.message) == (field, message)
    assert target("skilled_holders_total", "410221") is None
    assert events("target") == []


def test_split_by_denominators_adds_up_exactly(admin, denominators):
    parts = operations.split_city_target(admin, "skilled_holders_total", 2025)
    db.session.commit()
    assert {part.county_code for part in parts} == set(EMPLOYED)
    assert sum(part.value for part in parts) == Decimal("135")
    assert all(part.value == part.value.quantize(Decimal("0.0001")) for part in parts)
    total = sum(EMPLOYED.values())
    for part in parts:
        assert abs(part.value - Decimal(135) * EMPLOYED[part.county_code] / total) <= Decimal("0.001")
    assert len(events("target")) == len(EMPLOYED)


def test_split_puts_remainder_on_largest_county():
    weights = {"410202": Decimal(3), "410203": Decimal(3), "410204": Decimal(3), "410221": Decimal(4)}
    # 3/13 rounds up to 0.2308 three times, so the largest county's 0.3077 gives the extra 0.0001 back.
    assert operations.apportion(Decimal("1"), weights, 4) == {
        "410202": Decimal("0.2308"), "410203": Decimal("0.2308"), "410204": Decimal("0.2308"),
        "410221": Decimal("0.3076")}


def test_split_tie_for_largest_goes_to_the_lowest_code():
    weights = {"410221": Decimal(1), "410203": Decimal(1), "410202": Decimal(1)}
    assert operations.apportion(Decimal("10"), weights, 4) == {
        "410202": Decimal("3.3334"), "410203": Decimal("3.3333"), "410221": Decimal("3.3333")}


def test_split_counts_whole_agencies(admin, denominators):
    parts = operations.split_city_target(admin, "recognition_agencies", 2025)
    assert sum(part.value for part in parts) == 150
    assert all(part.value == part.value.to_integral_value() for part in parts)


def test_split_with_explicit_weights_and_comparator(admin):
    operations.set_target(admin, "high_skilled_workers", CITY_CODE, 2030, 40, ">=")
    parts = operations.split_city_target(admin, "high_skilled_workers", 2030, {"410221": 3, "410225": 1})
    assert {part.county_code: (part.value, part.comparator) for part in parts} == {
        "410221": (Decimal("30"), ">="), "410225": (Decimal("10"), ">=")}


def test_split_resplits_over_earlier_county_targets(admin, denominators):
    operations.split_city_target(admin, "skilled_holders_total", 2025)
    operations.set_target(admin, "skilled_holders_total", CITY_CODE, 2025, 150)
    operations.split_city_target(admin, "skilled_holders_total", 2025)
    counties = [target("skilled_holders_total", county.code) for county in current_counties()]
    assert sum(item.value for item in counties) == Decimal("150")


def test_split_needs_every_denominator(admin, denominators):
    operations.set_county_denominator(admin, db.session.get(County, "410223"), None)
    with pytest.raises(InvalidInput) as raised:
        operations.split_city_target(admin, "skilled_holders_total", 2025)
    assert raised.value.message == "分解权重：县区 尉氏县（410223）未设置从业人员数"
    assert target("skilled_holders_total", "410221") is None


@pytest.mark.parametrize(("arguments", "message"), [
    (("holder_rate_of_employed", 2025), "指标：从业人员持证率是比例（%），不能按权重分解，请逐个县区设置"),
    (("skilled_holders_total", 2030), "年份：持证人员总量尚无 2030 年的全市目标"),
    (("skilled_holders_total", 2019), "年份：应在 2021 至 2035 年之间"),
    (("nothing", 2025), "指标：未知指标 nothing"),
    (("skilled_holders_total", 2025, {"410224": 1}), "分解权重：未知或已撤销的县区代码 410224"),
    (("skilled_holders_total", 2025, {CITY_CODE: 1}), "分解权重：未知或已撤销的县区代码 410200"),
    (("skilled_holders_total", 2025, {"410221": -1}), "分解权重：县区 杞县 的权重应为不小于 0 的数"),
    (("skilled_holders_total", 2025, {"410221": 0}), "分解权重：权重合计必须大于 0"),
])
def test_split_refuses_bad_input(admin, arguments, message):
    with pytest.raises(InvalidInput) as raised:
        operations.split_city_target(admin, *arguments)
    assert raised.value.message == message
    assert events("target") == []


def test_split_remainder_may_be_negative(admin):
    # 150 agencies over 9 equal weights: each 16.67 rounds up to 17, so the first county gives 3 back.
    parts = operations.split_city_target(admin, "recognition_agencies", 2025, dict.fromkeys(EMPLOYED, 1))
    assert sorted(part.value for part in parts) == [14] + [17] * 8
    assert target("recognition_agencies", "410202").value == 14


def test_split_refuses_a_city_figure_too_small_to_share(admin):
    operations.set_target(admin, "recognition_agencies", CITY_CODE, 2030, 5)
    with pytest.raises(InvalidInput, match="全市目标 5 太小，无法按 9 个县区分解"):
        operations.split_city_target(admin, "recognition_agencies", 2030, dict.fromkeys(EMPLOYED, 1))


# ---- county denominators -------------------------------------------------------------------------

def test_set_county_denominator_and_clear_it(admin):
    county = db.session.get(County, "410221")
    operations.set_county_denominator(admin, county, 560_000)
    operations.set_county_denominator(admin, county, None)
    db.session.commit()
    assert county.employed_persons is None
    first, second = events("county")
    assert (first.entity_id, first.before, first.after) == ("410221", {"employed_persons": None},
                                                            {"employed_persons": 560_000})
    assert (second.before, second.after) == ({"employed_persons": 560_000}, {"employed_persons": None})


@pytest.mark.parametrize(("code", "value", "message"), [
    ("410221", 0, "从业人员数：应为正整数，或留空表示未设置"),
    ("410221", -5, "从业人员数：应为正整数，或留空表示未设置"),
    ("410221", 1.5, "从业人员数：应为正整数，或留空表示未设置"),
    ("410221", 100_000_001, "从业人员数：不能超过 100000000"),
    ("410224", 1000, "从业人员数：开封县已撤销，请在祥符区设置"),
])
def test_set_county_denominator_refuses_bad_input(admin, code, value, message):
    county = db.session.get(County, code)
    with pytest.raises(InvalidInput) as raised:
        operations.set_county_denominator(admin, county, value)
    assert (raised.value.field, raised.value.message) == ("employed_persons", message)
    assert county.employed_persons is None
    assert events("county") == []
