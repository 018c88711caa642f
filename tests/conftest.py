"""Fixtures: a fresh app and database per test, on SQLite by default or on REGISTRY_TEST_DATABASE_URL."""
import contextlib
import os
import re
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from registry import create_app
from registry.core.roles import Role
from registry.core.db import db
from registry.people.protection import generate_data_key

TEST_DATA_KEY = generate_data_key()
POSTGRES_URL = os.environ.get("REGISTRY_TEST_DATABASE_URL")


def _app_for(database_url: str, instance: Path, **config):
    os.environ.update(
        REGISTRY_INSTANCE_PATH=str(instance),
        REGISTRY_DATABASE_URL=database_url,
        REGISTRY_SECRET_KEY="test-secret-key",
        REGISTRY_DATA_KEY=TEST_DATA_KEY,
    )
    # A cheap password hash keeps the role × route matrix fast; test_password_is_stored_hashed checks scrypt.
    return create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
                       "TASKS_IMMEDIATE": True, **config})


def _migrate_and_seed(app) -> None:
    from flask_migrate import upgrade

    from registry.reference.seeding import seed_reference_data

    with app.app_context():
        upgrade()
        seed_reference_data()
        db.session.commit()
        db.engine.dispose()


@pytest.fixture(scope="session")
def database_template(tmp_path_factory):
    """Migrate and seed once; each test then starts from a copy (SQLite) or a truncated schema (PostgreSQL)."""
    instance = tmp_path_factory.mktemp("template")
    if POSTGRES_URL:
        engine = sa.create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.begin() as connection:
            connection.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
        _migrate_and_seed(_app_for(POSTGRES_URL, instance))
        return POSTGRES_URL
    path = instance / "template.sqlite3"
    _migrate_and_seed(_app_for(f"sqlite:///{path}", instance))
    return path


@pytest.fixture
def database_url(database_template, tmp_path):
    if POSTGRES_URL:
        yield POSTGRES_URL
        return
    path = tmp_path / "registry.sqlite3"
    shutil.copyfile(database_template, path)
    yield f"sqlite:///{path}"


@pytest.fixture
def app_config(request) -> dict:
    marker = request.node.get_closest_marker("csrf")
    return {"WTF_CSRF_ENABLED": marker is not None}


@pytest.fixture
def app(database_url, tmp_path, app_config):
    app = _app_for(database_url, tmp_path, **app_config)
    with app.app_context():
        if POSTGRES_URL:
            _reset_postgres(app)
        yield app
        db.session.remove()
        db.engine.dispose()


def _reset_postgres(app) -> None:
    """Empty the tables the test may write, keeping the seeded reference data."""
    from registry.reference.seeding import seed_reference_data

    # With persons, the names' pieces its triggers keep (0033): TRUNCATE fires no row trigger.
    tables = ", ".join([table.name for table in db.metadata.sorted_tables] + ["person_name_pairs"])
    # The audit log refuses TRUNCATE (a trigger); the test superuser steps past it for this statement only.
    db.session.execute(sa.text("SET LOCAL session_replication_role = replica"))
    db.session.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    db.session.execute(sa.text("SET LOCAL session_replication_role = origin"))
    seed_reference_data()
    db.session.commit()


# --- the app as users run it (tests/serving.py) ---
@pytest.fixture
def served_environment() -> dict[str, str]:
    """Environment variables a test gives the served app (its only configuration, as for a user)."""
    return {}


@pytest.fixture
def served_app(app, database_url, tmp_path, served_environment):
    """This test's database served by `registry serve` (two web workers and the task worker), as `make run`
    serves it; the test builds its data in-process with the factories first, and shares the instance folder."""
    from tests.serving import registry_environment, serve

    db.session.commit()
    served = serve(registry_environment(database_url, tmp_path, TEST_DATA_KEY,
                                        REGISTRY_TASK_HEALTH_CHECK_SECONDS="1", **served_environment),
                   tmp_path / "serve.log")
    yield served
    served.stop()


@pytest.fixture(scope="module")
def served_demo(tmp_path_factory):
    """A fresh registry made exactly as `make run` makes it (init-db, seed --demo, serve), for one module."""
    from tests.serving import registry_environment, run_command, serve

    instance = tmp_path_factory.mktemp("served")
    with _scratch_database(instance) as url:
        environment = registry_environment(url, instance, TEST_DATA_KEY)
        run_command(environment, "init-db")
        run_command(environment, "seed", "--demo")
        served = serve(environment, instance / "serve.log")
        yield served
        served.stop()


@contextlib.contextmanager
def _scratch_database(instance: Path):
    """A database of its own: an SQLite file, or a PostgreSQL database beside the test database."""
    if not POSTGRES_URL:
        yield f"sqlite:///{instance / 'registry.sqlite3'}"
        return
    name = f"registry_served_{os.getpid()}"
    admin = sa.create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1),
                             isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        connection.execute(sa.text(f"CREATE DATABASE {name}"))
    try:
        yield POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@pytest.fixture
def task_queue(app):
    """Background work queued as the web queues it, with the test as the worker: nothing runs until the
    test calls the returned function, which runs every queued task and says how many."""
    from registry.core import tasks

    app.config.update(TASKS_IMMEDIATE=False, TASK_QUEUE_URL="memory://")
    tasks.init_tasks(app)

    def run_queued() -> int:
        done = 0
        while (task := tasks.huey.dequeue()) is not None:
            tasks.huey.execute(task)
            done += 1
        return done

    yield run_queued
    app.config["TASKS_IMMEDIATE"] = True
    tasks.init_tasks(app)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_user(app):
    """Create a user through the same operation the administrator uses."""
    from registry.accounts.operations import create_user

    counter = iter(range(1, 10_000))

    def factory(role: Role = Role.ADMIN, county_code: str | None = None, organization_id: int | None = None,
                username: str | None = None, password: str = "correct-horse-1"):
        if role is Role.COUNTY and county_code is None:
            county_code = "410221"
        user = create_user(None, username or f"{role.value}{next(counter)}", password, role, county_code,
                           organization_id)
        db.session.commit()
        return user

    return factory


@pytest.fixture
def login(client):
    def sign_in(user, password: str = "correct-horse-1"):
        response = client.post("/login", data={"username": user.username, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return sign_in


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


# --- organizations factories ---
@pytest.fixture
def make_agency(app):
    """Create an agency (and its filed scope) through the administrator's operations."""
    from datetime import date

    from registry.organizations import operations
    from registry.organizations.models import AgencyStatus, AgencyType
    from registry.reference.models import Occupation

    counter = iter(range(1, 10_000))

    def as_date(value: date | str | None) -> date | None:
        # Tests may write dates as ISO strings for brevity.
        return date.fromisoformat(value) if isinstance(value, str) else value

    def factory(name: str | None = None, site_code: str | None = None, county_code: str = "410202",
                status: AgencyStatus = AgencyStatus.ACTIVE, scopes=(),
                agency_type: AgencyType = AgencyType.SOCIAL, filed_on: date | str = date(2023, 1, 1),
                filing_number: str | None = None, ministry_code: str = "0000", credit_code: str | None = None):
        number = next(counter)
        agency = operations.create_agency(
            None, name=name or f"测试评价机构{number}", agency_type=agency_type, ministry_code=ministry_code,
            site_code=site_code or f"{800000 + number}",
            filing_number=filing_number or f"豫人社认定备〔测试〕{number}号",
            filed_on=as_date(filed_on), county_code=county_code, status=status, credit_code=credit_code,
        )
        for occupation_code, work_type, lowest, highest, valid_from, valid_to in scopes:
            occupation_id = db.session.scalar(
                sa.select(Occupation.id).where(Occupation.code == occupation_code)
            )
            operations.add_scope(None, agency, occupation_id, work_type, lowest, highest, as_date(valid_from),
                                 as_date(valid_to))
        db.session.commit()
        return agency

    return factory


@pytest.fixture
def make_institution(app):
    """Create a training institution through the administrator's operation, with a valid credit code."""
    from registry.organizations import operations
    from registry.organizations.credit_code import credit_code_check_char
    from registry.organizations.models import InstitutionKind

    counter = iter(range(1, 10_000))

    def factory(name: str | None = None, credit_code: str | None = None, county_code: str = "410202",
                kind: InstitutionKind = InstitutionKind.PRIVATE_SCHOOL, is_active: bool = True):
        number = next(counter)
        if credit_code is None:
            first17 = f"52410200MJ{number:07d}"
            credit_code = first17 + credit_code_check_char(first17)
        institution = operations.create_institution(
            None, name=name or f"测试培训学校{number}", credit_code=credit_code, kind=kind, county_code=county_code,
            is_active=is_active,
        )
        db.session.commit()
        return institution

    return factory


# --- training factories ---
@pytest.fixture
def make_class(app, make_institution):
    """Create a training class through create_class: a welding class in 杞县 by default."""
    from datetime import date

    from registry.reference.models import Occupation
    from registry.training.models import ClassStatus, TrainingType
    from registry.training.operations import NEXT_STATUS, change_class_status, create_class

    counter = iter(range(1, 10_000))

    def factory(institution=None, actor=None, name: str | None = None, occupation_code: str = "6-18-02-04",
                county_code: str = "410221", planned_hours: int = 80, starts_on: date = date(2025, 3, 1),
                ends_on: date = date(2025, 4, 30), status: ClassStatus = ClassStatus.PLANNED, **values):
        occupation_id = db.session.scalar(sa.select(Occupation.id).where(Occupation.code == occupation_code))
        if institution is None and getattr(actor, "institution_id", None) is None:
            institution = make_institution()
        institution_id = institution.id if institution else None
        training_class = create_class(actor, **{
            "institution_id": institution_id, "name": name or f"焊工培训班{next(counter)}",
            "occupation_id": occupation_id, "work_type": None, "target_level": None,
            "training_type": TrainingType.EMPLOYMENT, "program_key": None, "is_subsidised": False,
            "planned_hours": planned_hours, "starts_on": starts_on, "ends_on": ends_on,
            "county_code": county_code,
        } | values)
        # Walk the status forward the way users do, so a class can start out running or finished.
        while training_class.status is not status:
            change_class_status(None, training_class, NEXT_STATUS[training_class.status])
        db.session.commit()
        return training_class

    return factory


@pytest.fixture
def agency(make_agency, request):
    """The agency a test module works with: make_agency(**AGENCY) with the module's AGENCY, or an agency filed
    for welders (6-18-02-04) at levels 5 to 3 from 2024 when the module sets none."""
    welders = {"scopes": [("6-18-02-04", None, 5, 3, "2024-01-01", None)]}
    return make_agency(**getattr(request.module, "AGENCY", welders))


@pytest.fixture
def make_person(app):
    """Register a person with a valid, distinct resident ID number (杞县 address code by default)."""
    from registry.people.identity import DocumentType, resident_id_check_char
    from registry.people.operations import register_person

    counter = iter(range(1, 10_000))

    def factory(name: str | None = None, county_code: str = "410221", key_groups: int = 0,
                born: str = "19900101", actor=None, **values):
        number = next(counter)
        first17 = f"410221{born}{number:03d}"
        person = register_person(actor, DocumentType.RESIDENT_ID, first17 + resident_id_check_char(first17),
                                 name or f"学员{number}", county_code, key_groups=key_groups, **values)
        db.session.commit()
        return person

    return factory


# --- assessment factories ---
@pytest.fixture
def make_batch(app, make_agency):
    """An assessment batch planned through create_batch, by default for a welding agency filed for 五级–三级."""
    from datetime import date

    from registry.assessment.operations import create_batch
    from registry.reference.models import Occupation

    def factory(agency=None, actor=None, occupation_code: str = "6-18-02-04", level: int = 4,
                assessed_on: date = date(2025, 5, 10), county_code: str = "410221", **values):
        if agency is None:
            agency = make_agency(scopes=[(occupation_code, None, 5, 3, "2024-01-01", None)])
        occupation_id = db.session.scalar(sa.select(Occupation.id).where(Occupation.code == occupation_code))
        batch = create_batch(actor, agency_id=agency.id, occupation_id=occupation_id, work_type=None, level=level,
                             assessed_on=assessed_on, county_code=county_code, **values)
        db.session.commit()
        return batch

    return factory


@pytest.fixture
def approved_batch(make_batch, make_person):
    """A batch with `passed` passing and `failed` failing candidates, approved and ready to issue."""
    from registry.assessment.operations import approve_batch, record_result

    def factory(passed: int = 3, failed: int = 1, **values):
        batch = make_batch(**values)
        for index in range(passed + failed):
            score = 85 if index < passed else 40
            record_result(None, batch, make_person(), theory=score, practical=score)
        approve_batch(None, batch)
        db.session.commit()
        return batch

    return factory
