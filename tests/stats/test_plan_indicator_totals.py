"""The plan indicators /stats used to count from the raw tables — rural-labour persons, apprenticeship 人次 —
read from the kept totals, kept in step by the writes that move them."""
from datetime import date

import sqlalchemy as sa

from registry.core.db import db
from registry.core.models import Setting
from registry.people.models import KeyGroup
from registry.stats import rebuild
from registry.stats.indicators import Scope, readings
from registry.training.models import ClassStatus, TrainingType
from registry.training.operations import enroll_person, update_class

RURAL = int(KeyGroup.RURAL_LABOUR)
QIXIAN, LANKAO, TONGXU = "410221", "410225", "410222"


def rural_training(code: str, as_of: date = date(2025, 12, 31)) -> int:
    name = "开封市" if code == "410200" else code
    return readings(Scope(code, name), as_of)["rural_training"].value


def move_class(training_class, county_code: str) -> None:
    values = {key: getattr(training_class, key) for key in (
        "institution_id", "name", "occupation_id", "work_type", "target_level", "training_type", "program_key",
        "is_subsidised", "planned_hours", "starts_on", "ends_on")}
    update_class(None, training_class, **values, county_code=county_code)
    db.session.commit()


def test_a_rural_person_trained_in_two_counties_is_one_in_each_and_one_in_the_city(make_person, make_class):
    farmer = make_person(county_code=QIXIAN, key_groups=RURAL)
    townsman = make_person(county_code=QIXIAN)  # not rural labour: never counted here
    old = make_class(county_code=QIXIAN, starts_on=date(2020, 9, 1), ends_on=date(2020, 12, 30),
                     status=ClassStatus.RUNNING)
    in_qixian = make_class(county_code=QIXIAN, status=ClassStatus.RUNNING)
    in_lankao = make_class(county_code=LANKAO, status=ClassStatus.RUNNING)
    enroll_person(None, old, farmer, date(2020, 10, 1))  # before the plan's period
    db.session.commit()
    assert rural_training("410200") == 0
    for training_class in (in_qixian, in_lankao):
        for person in (farmer, townsman):
            enroll_person(None, training_class, person, date(2025, 3, 5))
    db.session.commit()
    assert (rural_training(QIXIAN), rural_training(LANKAO), rural_training("410200")) == (1, 1, 1)
    assert rural_training("410200", date(2025, 3, 4)) == 0  # counted from the day of the first class
    assert rebuild.differences() == []

    move_class(in_lankao, TONGXU)  # a county corrected on the class moves the person with it
    assert (rural_training(LANKAO), rural_training(TONGXU), rural_training("410200")) == (0, 1, 1)
    move_class(in_qixian, TONGXU)
    assert (rural_training(QIXIAN), rural_training(TONGXU), rural_training("410200")) == (0, 1, 1)
    assert rebuild.differences() == []


def test_apprenticeship_enrolments_since_2021_are_kept(make_person, make_class):
    apprentices = make_class(county_code=LANKAO, training_type=TrainingType.APPRENTICESHIP,
                             status=ClassStatus.RUNNING)
    other = make_class(county_code=LANKAO, status=ClassStatus.RUNNING)
    for person in (make_person(), make_person()):
        enroll_person(None, apprentices, person, date(2025, 3, 5))
        enroll_person(None, other, person, date(2025, 3, 5))
    db.session.commit()
    assert readings(Scope(LANKAO, "兰考县"), date(2025, 12, 31))["new_apprenticeship"].value == 2
    assert readings(Scope(QIXIAN, "杞县"), date(2025, 12, 31))["new_apprenticeship"].value == 0
    assert rebuild.differences() == []


def test_init_db_recounts_the_totals_a_migration_added_a_measure_to(make_person, make_class, runner):
    farmer = make_person(county_code=QIXIAN, key_groups=RURAL)
    enroll_person(None, make_class(county_code=QIXIAN, status=ClassStatus.RUNNING), farmer, date(2025, 3, 5))
    db.session.commit()
    # As migration 0020 leaves a registry that had data: the new measure's columns at zero, the mark set.
    for table in ("coverage_entries", "coverage_days", "coverage_months"):
        db.session.execute(sa.text(f"UPDATE {table} SET rural_trained = 0, rural_trained_once = 0"))
    db.session.add(Setting(key=rebuild.RECOUNT_NEEDED, value="0020_plan_indicator_totals"))
    db.session.commit()
    assert rural_training(QIXIAN) == 0 and rebuild.differences() != []

    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0 and "已根据现有记录建立统计数据" in result.output, result.output
    db.session.expire_all()
    assert rural_training(QIXIAN) == 1 and rebuild.differences() == []
    assert db.session.get(Setting, rebuild.RECOUNT_NEEDED) is None
    assert "已根据现有记录" not in runner.invoke(args=["init-db"]).output  # once
