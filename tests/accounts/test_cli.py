"""The create-user command: password from standard input, scope checked, Chinese errors, nothing half-written."""
import pytest
import sqlalchemy as sa

from registry.accounts.models import User
from registry.core.roles import Role
from registry.core.audit import AuditEvent
from registry.core.db import db


def users() -> list[str]:
    return db.session.scalars(sa.select(User.username).order_by(User.username)).all()


def test_create_county_user_from_stdin(runner):
    result = runner.invoke(args=["create-user", "lankao", "--role", "county", "--county", "410225"],
                           input="a-long-password\n")
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).where(User.username == "lankao"))
    assert user.role is Role.COUNTY and user.county_code == "410225" and user.check_password("a-long-password")
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.entity_type == "user"))
    assert event.action == "create" and event.ip_address == "cli" and "password" not in str(event.after)


@pytest.mark.parametrize(("args", "password", "message"), [
    (["--role", "county", "--county", "999999"], "a-long-password", "所属县区：未知或已撤销的县区代码 999999"),
    (["--role", "county", "--county", "410224"], "a-long-password", "所属县区：未知或已撤销的县区代码 410224"),
    (["--role", "county"], "a-long-password", "所属县区"),
    (["--role", "agency", "--org", "42"], "a-long-password", "所属机构：评价机构 42 不存在"),
    (["--role", "institution"], "a-long-password", "所属机构：培训机构"),
    (["--role", "admin"], "short", "密码：至少 8 位"),
])
def test_bad_input_is_refused_in_chinese(runner, args, password, message):
    result = runner.invoke(args=["create-user", "someone", *args], input=password + "\n")
    assert result.exit_code != 0 and message in result.output
    assert users() == []


def test_duplicate_username_is_refused(runner, make_user):
    make_user(username="taken")
    result = runner.invoke(args=["create-user", "taken", "--role", "admin"], input="a-long-password\n")
    assert result.exit_code != 0 and "用户名：taken 已被使用" in result.output


def test_unknown_role_is_refused(runner):
    result = runner.invoke(args=["create-user", "x", "--role", "mayor"], input="a-long-password\n")
    assert result.exit_code != 0 and "mayor" in result.output


# --- disable-user and reset-password: locking a compromised account out from the shell ---

def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def signed_in_user_with_token(app, make_user, login):
    """A county user signed in on `browser`, holding an API token: what an attacker may have stolen."""
    from datetime import date, timedelta

    from registry.api.tokens import create_token

    user = make_user(Role.COUNTY, county_code="410221")
    browser = login(user)
    _token, secret = create_token(user, "考务系统", date.today() + timedelta(days=30))
    db.session.commit()
    assert browser.get("/dashboard").status_code == 200
    assert app.test_client().get("/api/v1/stats/coverage", headers=bearer(secret)).status_code == 200
    return user, browser, secret


def user_events(user, action: str) -> list[AuditEvent]:
    return db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.entity_type == "user", AuditEvent.entity_id == str(user.id), AuditEvent.action == action)).all()


def test_disable_user_locks_the_account_out_everywhere(app, runner, signed_in_user_with_token):
    user, browser, secret = signed_in_user_with_token
    result = runner.invoke(args=["disable-user", user.username])
    assert result.exit_code == 0, result.output
    assert "已停用" in result.output
    assert user.is_active is False
    [event] = user_events(user, "disable")
    assert event.ip_address == "cli" and event.actor_name == "system"
    response = browser.get("/dashboard")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert app.test_client().get("/api/v1/stats/coverage", headers=bearer(secret)).status_code == 401
    # Enabling the account again later brings back neither the old session nor the old token.
    user.is_active = True
    db.session.commit()
    assert browser.get("/dashboard").status_code == 302
    assert app.test_client().get("/api/v1/stats/coverage", headers=bearer(secret)).status_code == 401


def test_reset_password_reads_stdin_and_ends_sessions_and_tokens(app, runner, signed_in_user_with_token):
    user, browser, secret = signed_in_user_with_token
    result = runner.invoke(args=["reset-password", user.username], input="river-lantern-stone-42\n")
    assert result.exit_code == 0, result.output
    assert user.check_password("river-lantern-stone-42") and not user.check_password("correct-horse-1")
    [event] = user_events(user, "reset_password")
    assert event.ip_address == "cli" and "river-lantern" not in str(event.after) + str(event.before)
    assert browser.get("/dashboard").status_code == 302
    assert app.test_client().get("/api/v1/stats/coverage", headers=bearer(secret)).status_code == 401
    fresh = app.test_client()
    assert fresh.post("/login", data={"username": user.username, "password": "river-lantern-stone-42"}
                      ).status_code == 302


def test_reset_password_refuses_a_weak_password_and_changes_nothing(runner, make_user):
    user = make_user(Role.ADMIN)
    result = runner.invoke(args=["reset-password", user.username], input="password1\n")
    assert result.exit_code != 0 and "密码：" in result.output
    db.session.expire_all()
    assert user.check_password("correct-horse-1")
    assert user_events(user, "reset_password") == []


@pytest.mark.parametrize("command", ["disable-user", "reset-password"])
def test_an_unknown_user_is_named_in_the_error(runner, command):
    result = runner.invoke(args=[command, "nobody"], input="river-lantern-stone-42\n")
    assert result.exit_code != 0 and "未找到用户 nobody" in result.output
