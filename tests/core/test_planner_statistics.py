"""SQLite's planner statistics, which nothing but the app refreshes (registry/core/db.py): without them a
county official's scope walked every class of the county for each person it checked."""
import pytest
import sqlalchemy as sa

from registry.core.db import SQLITE_POOL_RECYCLE_SECONDS, configure_connections, db, refresh_planner_statistics
from registry.core.roles import Role
from registry.core.tasks import PERIODIC
from registry.people.models import Person
from registry.people.scopes import readable_persons
from registry.training.operations import enroll_person
from tests.conftest import POSTGRES_URL

sqlite_only = pytest.mark.skipif(bool(POSTGRES_URL), reason="PostgreSQL's autovacuum keeps its own statistics")


@pytest.fixture
def county_with_many_classes(make_institution, make_class, make_person):
    """杞县 with 30 classes, and 30 persons of another county trained there once each: the county scope's
    EXISTS may start from the county's classes (30) or from the person's enrolments (1)."""
    institution = make_institution(county_code="410221")
    classes = [make_class(institution=institution) for _ in range(30)]
    for training_class in classes:
        enroll_person(None, training_class, make_person(county_code="410202"))
    db.session.commit()


def scope_plan(make_user) -> str:
    official = make_user(Role.COUNTY, county_code="410221")
    statement = sa.select(Person.id).where(readable_persons(official))
    sql = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
    return " | ".join(row[3] for row in db.session.execute(sa.text(f"EXPLAIN QUERY PLAN {sql}")))


@sqlite_only
def test_with_statistics_a_county_scope_starts_from_the_persons_own_records(county_with_many_classes,
                                                                            make_user):
    assert "SEARCH training_classes USING COVERING INDEX ix_training_classes_county_code (county_code=?)" \
        in scope_plan(make_user)  # no statistics: the county's every class, for each person
    refresh_planner_statistics(db.session.connection())
    db.session.commit()
    assert "SEARCH enrollments USING INDEX ix_enrollments_person_id (person_id=?)" in scope_plan(make_user)


@sqlite_only
def test_the_hourly_task_samples_every_index(county_with_many_classes):
    PERIODIC["registry.planner_statistics"]()
    db.session.commit()
    sampled = set(db.session.scalars(sa.text("SELECT idx FROM sqlite_stat1 WHERE tbl = 'enrollments'")))
    assert {"ix_enrollments_person_id", "ix_enrollments_class_id"} <= sampled


@pytest.mark.skipif(not POSTGRES_URL, reason="the PostgreSQL side")
def test_on_postgresql_it_leaves_statistics_to_autovacuum(app):
    refresh_planner_statistics(db.session.connection())  # nothing to do, and no error


def test_a_pooled_sqlite_connection_is_replaced_hourly_to_read_new_statistics():
    settings = {"SQLALCHEMY_DATABASE_URI": "sqlite:////tmp/registry.sqlite3", "SQLITE_BUSY_TIMEOUT_SECONDS": 10.0}
    configure_connections(settings)
    assert settings["SQLALCHEMY_ENGINE_OPTIONS"]["pool_recycle"] == SQLITE_POOL_RECYCLE_SECONDS == 3600
    own = dict(settings, SQLALCHEMY_ENGINE_OPTIONS={"pool_recycle": 60})
    configure_connections(own)
    assert own["SQLALCHEMY_ENGINE_OPTIONS"]["pool_recycle"] == 60
