"""Minting API tokens and creating or editing users need the password entered in the last ten minutes:
otherwise a Chinese page asks for it, then the user goes back to the form."""
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from registry.accounts.models import User
from registry.core.roles import Role
from registry.api.models import ApiToken
from registry.core.db import db

TOKEN = {"name": "考务系统", "expires_on": (date.today() + timedelta(days=30)).isoformat()}


def asked_for_password(response, back_to: str) -> bool:
    location = urlsplit(response.headers.get("Location", ""))
    return response.status_code == 302 and location.path == "/account/confirm-password" \
        and parse_qs(location.query).get("next") == [back_to]


def tokens() -> int:
    return db.session.scalar(sa.select(sa.func.count(ApiToken.id)))


def test_right_after_sign_in_a_token_can_be_made(client, login, make_user):
    login(make_user(Role.COUNTY))
    assert client.post("/account/tokens", data=TOKEN).status_code == 200 and tokens() == 1


def test_ten_minutes_later_the_password_is_asked_again(client, login, make_user, clock):
    login(make_user(Role.COUNTY))
    clock.advance(minutes=10, seconds=1)
    assert client.get("/account/tokens").status_code == 200  # reading the list needs no password
    refused = client.post("/account/tokens", data=TOKEN)
    assert asked_for_password(refused, "/account/tokens") and tokens() == 0
    page = client.get(refused.headers["Location"]).get_data(as_text=True)
    assert "请再次输入密码" in page
    wrong = client.post(refused.headers["Location"], data={"password": "wrong-password"})
    assert wrong.status_code == 200 and "密码不正确" in wrong.get_data(as_text=True)
    confirmed = client.post(refused.headers["Location"], data={"password": "correct-horse-1"})
    assert confirmed.status_code == 302 and confirmed.headers["Location"] == "/account/tokens"
    assert client.post("/account/tokens", data=TOKEN).status_code == 200 and tokens() == 1


@pytest.mark.parametrize("path", ["/admin/users/new", "/admin/users/{user_id}/edit"])
def test_user_forms_ask_for_the_password_again(client, login, make_user, clock, path):
    admin = make_user(Role.ADMIN)
    path = path.format(user_id=admin.id)
    login(admin)
    assert client.get(path).status_code == 200
    clock.advance(minutes=11)
    assert asked_for_password(client.get(path), path)
    new_user = {"username": "newcomer", "role": "admin", "county_code": "", "password": "river-lantern-stone-42",
                "is_active": "y"}
    assert asked_for_password(client.post(path, data=new_user), path)
    assert db.session.scalar(sa.select(User.id).where(User.username == "newcomer")) is None
    client.post(f"/account/confirm-password?next={path}", data={"password": "correct-horse-1"})
    assert client.get(path).status_code == 200


def test_wrong_passwords_on_the_confirmation_page_count_towards_the_lockout(client, login, make_user, clock):
    login(make_user(Role.COUNTY))
    clock.advance(minutes=11)
    pages = [client.post("/account/confirm-password", data={"password": "wrong-password"}) for _ in range(6)]
    assert "秒后再试" in pages[-1].get_data(as_text=True)


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example"])
def test_the_return_address_stays_on_this_site(client, login, make_user, target):
    login(make_user(Role.COUNTY))
    response = client.post(f"/account/confirm-password?next={target}", data={"password": "correct-horse-1"})
    assert response.status_code == 302 and urlsplit(response.headers["Location"]).netloc == ""
    assert not response.headers["Location"].startswith(("//", "/\\"))
