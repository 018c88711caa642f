"""Password policy: common passwords and easily guessed ones are refused with the reason in Chinese."""
import pytest

from registry.core.roles import Role
from registry.accounts.operations import create_user
from registry.core.errors import InvalidInput


@pytest.mark.parametrize("password", ["password1", "iloveyou", "qwertyuiop", "zxcvbnm123", "P@ssw0rd", "drowssap"])
def test_a_common_password_is_refused(app, password):
    with pytest.raises(InvalidInput, match="密码：是常见密码"):
        create_user(None, "someone", password, Role.ADMIN)


@pytest.mark.parametrize("password, named", [
    ("woaini1314", "常见密码“woaini”"),
    ("aaaaaaaaaaaa", "重复字符"),
    ("abcdefghijk", "连续字符"),
    ("19880808", "日期"),
    ("kaifeng123456", "常见"),
    ("lankao2025", "用户名"),
])
def test_an_easily_guessed_password_is_refused_naming_why(app, password, named):
    with pytest.raises(InvalidInput, match="密码：强度不足") as refused:
        create_user(None, "lankao", password, Role.ADMIN)
    assert named in refused.value.message


def test_length_is_still_checked_first(app):
    with pytest.raises(InvalidInput, match="密码：至少 8 位"):
        create_user(None, "someone", "Xk9#m", Role.ADMIN)


@pytest.mark.parametrize("password", ["river-lantern-stone-42", "huanghe-liu-42", "kaifeng-admin-2025"])
def test_a_passphrase_is_accepted(app, password):
    assert create_user(None, "someone", password, Role.ADMIN).check_password(password)


def test_the_user_page_explains_the_refusal(client, login, make_user):
    login(make_user(Role.ADMIN))
    response = client.post("/admin/users/new", data={"username": "newcomer", "role": "admin", "county_code": "",
                                                      "password": "password123", "is_active": "y"})
    assert response.status_code == 200 and "是常见密码" in response.get_data(as_text=True)
