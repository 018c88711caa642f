"""Fixtures: a fresh app and database per test, on SQLite by default or on REGISTRY_TEST_DATABASE_URL."""
import os
import re
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from registry import create_app
from registry.accounts.models import Role
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
    return create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, **config})


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

    tables = ", ".join(table.name for table in db.metadata.sorted_tables)
    db.session.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    seed_reference_data()
    db.session.commit()


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
