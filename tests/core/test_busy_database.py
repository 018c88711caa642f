"""A request that finds SQLite's write lock held past the wait answers 503 with Retry-After, never 500."""
import sqlite3

import pytest

from tests.conftest import POSTGRES_URL

pytestmark = pytest.mark.skipif(bool(POSTGRES_URL), reason="SQLite's single write lock")


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": False, "SQLITE_BUSY_TIMEOUT_SECONDS": 0.2}


@pytest.fixture
def writer_holding_the_lock(app):
    """Another process in the middle of a long write (an import, an issue)."""
    other = sqlite3.connect(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    yield
    other.execute("ROLLBACK")
    other.close()


@pytest.fixture
def user(make_user):
    return make_user()


def test_a_sign_in_during_a_long_write_is_asked_to_retry(client, user, writer_holding_the_lock):
    answer = client.post("/login", data={"username": user.username, "password": "correct-horse-1"})
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "5"
    assert "系统繁忙" in answer.get_data(as_text=True)


@pytest.fixture
def token_secret(user):
    from datetime import date, timedelta

    from registry.api.tokens import create_token
    from registry.core.db import db

    _token, secret = create_token(user, "同步", date.today() + timedelta(days=30))
    db.session.commit()
    return secret


def test_an_api_call_during_a_long_write_gets_the_api_error_shape(client, token_secret, writer_holding_the_lock):
    # A token's first use of the hour records it: a write that meets the held lock.
    answer = client.get("/api/v1/stats/coverage", headers={"Authorization": f"Bearer {token_secret}"})
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"
    assert answer.get_json()["error"] == "busy"
