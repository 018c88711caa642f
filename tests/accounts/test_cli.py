"""The create-user command: password from standard input, scope checked, Chinese errors, nothing half-written."""
import pytest
import sqlalchemy as sa

from registry.accounts.models import Role, User
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
