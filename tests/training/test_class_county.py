"""Each enrolment stores its class's county (#17): every writer fills it, it moves with the class, a county's
trainee list reads it, and `stats rebuild --check` reports one that differs from its class's."""
import pytest
import sqlalchemy as sa

from registry.core.db import db
from registry.core.roles import Role
from registry.training.models import Enrollment, TrainingClass
from registry.training.operations import enroll_person
from tests.stats.test_funnel_totals import move_class


def stored_counties() -> dict[int, tuple[str | None, str]]:
    """Each enrolment's stored county beside its class's."""
    rows = db.session.execute(sa.select(Enrollment.id, Enrollment.class_county_code, TrainingClass.county_code)
                              .join(TrainingClass, TrainingClass.id == Enrollment.class_id))
    return {row[0]: (row[1], row[2]) for row in rows}


@pytest.fixture
def two_trainees(make_class, make_person):
    training_class = make_class(county_code="410221")
    for _ in range(2):
        enroll_person(None, training_class, make_person())
    db.session.commit()
    return training_class


def test_an_enrolment_stores_its_class_county_and_follows_the_class(two_trainees):
    assert {stored for stored, _ in stored_counties().values()} == {"410221"}
    move_class(two_trainees, "410223")
    db.session.commit()
    assert all(stored == of_class == "410223" for stored, of_class in stored_counties().values())


def test_the_demo_generator_stores_each_class_county(app):
    from registry.demo_data import generate_demo_data

    generate_demo_data(60, seed=3)
    db.session.commit()
    counties = stored_counties()
    assert counties and all(stored == of_class for stored, of_class in counties.values())


def test_a_county_lists_the_trainees_of_its_classes_wherever_they_moved(two_trainees, make_user, login):
    qixian = login(make_user(Role.COUNTY, county_code="410221"))
    assert "共 2 条" in qixian.get("/training/trainees").get_data(as_text=True)
    move_class(two_trainees, "410223")
    db.session.commit()
    assert "共 0 条" in qixian.get("/training/trainees").get_data(as_text=True)
    weishi = login(make_user(Role.COUNTY, county_code="410223"))
    assert "共 2 条" in weishi.get("/training/trainees").get_data(as_text=True)
    admin = login(make_user(Role.ADMIN))
    assert "共 2 条" in admin.get("/training/trainees?county_code=410223").get_data(as_text=True)
    assert "共 0 条" in admin.get("/training/trainees?county_code=410221").get_data(as_text=True)


def test_rebuild_check_reports_a_stored_county_that_differs(app, two_trainees):
    db.session.execute(sa.update(Enrollment).values(class_county_code="410225")
                       .where(Enrollment.id == sa.select(sa.func.min(Enrollment.id)).scalar_subquery()))
    db.session.commit()
    checked = app.test_cli_runner().invoke(args=["stats", "rebuild", "--check"])
    assert checked.exit_code == 1
    assert "参训记录所存培训地点" in checked.output and "保存值 410225，重新统计 410221" in checked.output
    assert app.test_cli_runner().invoke(args=["stats", "rebuild"]).exit_code == 0
    assert all(stored == of_class for stored, of_class in stored_counties().values())
