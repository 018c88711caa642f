"""Loading seed_data/: idempotent, never overwriting an edit, and parsing the plan's notation."""
import re
from decimal import Decimal

import pytest
import sqlalchemy as sa

from registry.accounts.models import User
from registry.core.db import db
from registry.organizations.models import Agency, TrainingInstitution
from registry.reference import operations
from registry.reference.models import (
    CITY_CODE, County, Indicator, LabourBrand, Occupation, Program, SpecialItem, Target,
)
from registry.reference.queries import resolve_county
from registry.reference.seeding import SEED_DIR, parse_levels, parse_target, read_rows, seed_reference_data

SEEDED = (County, Occupation, SpecialItem, Program, LabourBrand, Indicator, Target)


def counts(models=SEEDED) -> dict[str, int]:
    return {model.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in models}


def city_target(key: str) -> Target:
    return db.session.scalar(sa.select(Target).filter_by(indicator_key=key, county_code=CITY_CODE, year=2025))


def test_seeded_database_matches_the_csv_files(app):
    assert counts() == {
        "County": len(read_rows(SEED_DIR / "counties.csv")),
        "Occupation": len(read_rows(SEED_DIR / "occupations.csv")),
        "SpecialItem": len(read_rows(SEED_DIR / "special_items.csv")),
        "Program": len(read_rows(SEED_DIR / "programs.csv")),
        "LabourBrand": len(read_rows(SEED_DIR / "labour_brands.csv")),
        "Indicator": len(read_rows(SEED_DIR / "plan_targets.csv")),
        "Target": sum(1 for row in read_rows(SEED_DIR / "plan_targets.csv") if row["target_2025"]),
    }


def test_seeding_twice_adds_nothing(app):
    before = counts()
    assert set(seed_reference_data().values()) == {0}
    assert set(seed_reference_data().values()) == {0}
    db.session.commit()
    assert counts() == before


def test_seeding_restores_only_what_is_missing(app):
    before = counts()
    db.session.execute(sa.delete(Target).where(Target.indicator_key == "skilled_holders_total"))
    db.session.execute(sa.delete(Occupation).where(Occupation.code == "4-03-02-01"))
    db.session.commit()
    added = seed_reference_data()
    assert added == {"counties": 0, "occupations": 1, "special_items": 0, "programs": 0, "labour_brands": 0,
                     "indicators_and_targets": 1}
    assert set(seed_reference_data().values()) == {0}
    db.session.commit()
    assert counts() == before
    assert city_target("skilled_holders_total").value == Decimal("135")


def test_administrator_edits_survive_a_second_seed(app, make_user):
    admin = make_user()
    cook = db.session.scalar(sa.select(Occupation).where(Occupation.code == "4-03-02-01"))
    operations.update_occupation(admin, cook, "4-03-02-01", "中式烹调师（已核对）", 2022, levels=[5, 4, 3, 2, 1],
                                 work_types="热菜\n冷菜", confidence="已与大典原文核对")
    operations.set_target(admin, "skilled_holders_total", CITY_CODE, 2025, 140, ">=")
    operations.set_county_denominator(admin, db.session.get(County, "410221"), 560_000)
    db.session.commit()
    assert set(seed_reference_data().values()) == {0}
    db.session.commit()
    db.session.expire_all()
    cook = db.session.get(Occupation, cook.id)
    assert (cook.name, cook.levels, cook.work_types) == ("中式烹调师（已核对）", [5, 4, 3, 2, 1], ["热菜", "冷菜"])
    assert (city_target("skilled_holders_total").value, city_target("skilled_holders_total").comparator) == (
        Decimal("140"), ">=")
    assert db.session.get(County, "410221").employed_persons == 560_000


@pytest.mark.parametrize(("retired", "successor", "successor_name"), [
    ("410211", "410202", "龙亭区"), ("410224", "410212", "祥符区"),
])
def test_retired_codes_point_to_their_successor(app, retired, successor, successor_name):
    county = db.session.get(County, retired)
    assert not county.is_current and county.successor_code == successor and county.current_code == successor
    assert resolve_county(retired).name == successor_name
    assert resolve_county(successor).code == successor


@pytest.mark.parametrize(("text", "levels"), [
    ("五级~一级", [5, 4, 3, 2, 1]),
    ("五级~三级", [5, 4, 3]),
    ("四级~二级", [4, 3, 2]),
    ("三级", [3]),
    ("", []),
])
def test_parse_levels(text, levels):
    assert parse_levels(text) == levels


@pytest.mark.parametrize(("text", "parsed"), [
    ("135", ("=", Decimal("135"))),
    ("0.5", ("=", Decimal("0.5"))),
    (">60", (">", Decimal("60"))),
    (">=30", (">=", Decimal("30"))),
    (" >= 30 ", (">=", Decimal("30"))),
    ("", None),
    ("约60", None),
])
def test_parse_target(text, parsed):
    assert parse_target(text) == parsed


def test_bounded_plan_targets_keep_their_comparator(app):
    rate, share = city_target("holder_rate_of_employed"), city_target("high_skilled_share")
    assert (rate.comparator, rate.value) == (">", Decimal("60"))
    assert (share.comparator, share.value) == (">=", Decimal("30"))
    assert city_target("skilled_holders_total").comparator == "="


def test_seed_demo_command_is_idempotent_and_prints_the_accounts(runner):
    first = runner.invoke(args=["seed", "--demo"])
    assert first.exit_code == 0, first.output
    assert "演示账号" in first.output
    for username, password in (("admin", "kaifeng-admin-2025"), ("qixian", "kaifeng-county-2025"),
                               ("agency", "kaifeng-agency-2025"), ("school", "kaifeng-school-2025")):
        assert username in first.output and password in first.output
    assert "demo_accounts +4" in first.output
    after_first = counts((*SEEDED, Agency, TrainingInstitution, User))
    assert after_first["User"] == 4 and after_first["Agency"] >= 1 and after_first["TrainingInstitution"] >= 1
    second = runner.invoke(args=["seed", "--demo"])
    assert second.exit_code == 0, second.output
    assert set(re.findall(r"\+(\d+)", second.output)) == {"0"} and "演示账号" in second.output
    db.session.expire_all()
    assert counts((*SEEDED, Agency, TrainingInstitution, User)) == after_first
