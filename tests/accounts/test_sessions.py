"""Server-side sessions: a cookie stops working at logout, at a password change and when the account is
disabled (a replayed copy included), and a password change revokes the user's API tokens."""
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from registry.core.roles import Role
from registry.api.models import ApiToken
from registry.api.tokens import create_token
from registry.core.db import db


def signed_out(response) -> bool:
    return response.status_code == 302 and "/login" in response.headers["Location"]


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


def token_for(user) -> str:
    _token, secret = create_token(user, "考务系统", date.today() + timedelta(days=30))
    db.session.commit()
    return secret


def session_cookie(client) -> str:
    return client.get_cookie("session").value


def test_a_replayed_cookie_is_refused_after_logout(client, login, make_user):
    login(make_user())
    copied = session_cookie(client)
    assert client.post("/logout").status_code == 302
    client.set_cookie("session", copied)
    assert signed_out(client.get("/dashboard"))


def test_logout_ends_only_that_browsers_session(app, login, make_user):
    user = make_user()
    office = login(user)
    laptop = app.test_client()
    assert laptop.post("/login", data={"username": user.username, "password": "correct-horse-1"}).status_code == 302
    office.post("/logout")
    assert laptop.get("/dashboard").status_code == 200


@pytest.fixture
def victim(app, make_user):
    """An administrator signed in on `browser` with an API token; a second administrator, `admin`, acts."""
    user = make_user(Role.ADMIN)
    browser = app.test_client()
    assert browser.post("/login", data={"username": user.username, "password": "correct-horse-1"}).status_code == 302
    secret = token_for(user)
    admin_browser = app.test_client()
    admin = make_user(Role.ADMIN)
    assert admin_browser.post("/login", data={"username": admin.username, "password": "correct-horse-1"}
                              ).status_code == 302
    return user, browser, secret, admin_browser


def edit(admin_browser, user, **fields):
    data = {"username": user.username, "display_name": "", "role": user.role.value, "county_code": ""} | fields
    response = admin_browser.post(f"/admin/users/{user.id}/edit", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)


def test_a_password_change_ends_every_session_and_revokes_the_tokens(app, client, victim):
    user, browser, secret, admin_browser = victim
    copied = session_cookie(browser)
    edit(admin_browser, user, is_active="y", password="river-lantern-stone-42")
    assert signed_out(browser.get("/dashboard"))
    client.set_cookie("session", copied)
    assert signed_out(client.get("/dashboard"))
    refused = app.test_client().get("/api/v1/classes", headers=bearer(secret))
    assert refused.status_code == 401
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.user_id == user.id))
    assert token.revoked_at is not None


def test_disabling_ends_sessions_and_tokens_for_good(app, victim):
    user, browser, secret, admin_browser = victim
    edit(admin_browser, user)  # 启用 unticked
    edit(admin_browser, user, is_active="y")  # and enabled again: nothing old comes back
    assert signed_out(browser.get("/dashboard"))
    assert app.test_client().get("/api/v1/classes", headers=bearer(secret)).status_code == 401


def test_an_edit_without_a_new_password_keeps_sessions_and_tokens(app, victim):
    user, browser, secret, admin_browser = victim
    edit(admin_browser, user, is_active="y", display_name="改个名字")
    assert browser.get("/dashboard").status_code == 200
    assert app.test_client().get("/api/v1/classes", headers=bearer(secret)).status_code == 200


def test_a_session_ends_after_its_lifetime(client, login, make_user, clock):
    from registry.accounts.sessions import SESSION_LIFETIME

    login(make_user())
    clock.advance(seconds=SESSION_LIFETIME.total_seconds() - 60)
    assert client.get("/dashboard").status_code == 200
    clock.advance(seconds=120)
    assert signed_out(client.get("/dashboard"))


@pytest.mark.parametrize("role, county_code, scope",
                         [(Role.ADMIN, None, "开封市"), (Role.COUNTY, "410221", "杞县")])
def test_a_signed_in_request_reads_its_session_user_and_scope_in_one_statement(login, make_user, role,
                                                                               county_code, scope):
    from tests.helpers import recorded

    client = login(make_user(role, county_code=county_code))
    with recorded() as statements:
        assert f"· {scope}）" in client.get("/dashboard").get_data(as_text=True)
    reads = [sql for sql, _parameters in statements if "FROM user_sessions" in sql or "FROM users" in sql]
    assert len(reads) == 1 and "JOIN users" in reads[0]
    # The scope every page names (the official's county) came with the user, not by a statement of its own.
    assert not [sql for sql, _parameters in statements if "WHERE counties.code = " in sql]
