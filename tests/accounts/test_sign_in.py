"""Sign-in with hashed passwords, audit of logins and failed logins, and CSRF protection."""
import pytest
import sqlalchemy as sa

from registry.accounts.models import User
from registry.core.audit import AuditEvent
from registry.core.db import db


def audit_actions() -> list[str]:
    return db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)).all()


def test_password_is_stored_hashed_with_scrypt_by_default(app, make_user):
    app.config.pop("PASSWORD_HASH_METHOD")
    user = make_user(password="correct-horse-1")
    stored = db.session.scalar(sa.select(User.password_hash).where(User.id == user.id))
    assert "correct-horse-1" not in stored and stored.startswith("scrypt:")
    assert user.check_password("correct-horse-1") and not user.check_password("wrong")


def test_login_and_logout_are_audited(client, make_user):
    user = make_user()
    client.post("/login", data={"username": user.username, "password": "correct-horse-1"})
    client.post("/logout")
    assert audit_actions()[-2:] == ["login", "logout"]


def test_failed_login_is_audited_and_explained(client, make_user):
    user = make_user()
    response = client.post("/login", data={"username": user.username, "password": "wrong"})
    assert response.status_code == 200 and "用户名或密码不正确" in response.get_data(as_text=True)
    assert audit_actions()[-1] == "login_failed"


def test_unknown_user_login_is_audited_with_the_name_tried(client):
    client.post("/login", data={"username": "nobody", "password": "wrong"})
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "login_failed"))
    assert event.actor_name == "nobody" and event.actor_id is None


def test_inactive_user_cannot_sign_in(client, make_user):
    user = make_user()
    user.is_active = False
    db.session.commit()
    response = client.post("/login", data={"username": user.username, "password": "correct-horse-1"})
    assert response.status_code == 200


@pytest.mark.csrf
def test_post_without_csrf_token_is_rejected(client, make_user):
    user = make_user()
    response = client.post("/login", data={"username": user.username, "password": "correct-horse-1"})
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    assert "login" not in audit_actions()


@pytest.mark.csrf
def test_post_with_csrf_token_is_accepted(client, make_user):
    import re

    user = make_user()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": user.username, "password": "correct-horse-1",
                                           "csrf_token": token.group(1)})
    assert response.status_code == 302
