"""Sessions in a real browser against `registry serve`: a copied cookie dies with its session, a password
change signs out every open tab and revokes the tokens, a token opens no page, forms that create users or
tokens ask for the password again after ten minutes."""
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from registry.accounts.models import UserSession
from registry.core.roles import Role
from registry.api.tokens import create_token
from registry.core.db import db, utcnow

pytestmark = pytest.mark.browser


@pytest.fixture
def new_context(browser, live_server):
    """Another browser (or another person's), with no cookies of its own unless given some."""
    contexts = []

    def make(cookies=()):
        context = browser.new_context(base_url=live_server, locale="zh-CN")
        context.add_cookies(list(cookies))
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield make
    for context in contexts:
        context.close()


def is_sign_in_page(page) -> bool:
    expect(page.get_by_role("button", name="登录")).to_be_visible()
    return page.url.split("?")[0].endswith("/login")


def test_a_copied_cookie_stops_working_when_its_owner_signs_out(sign_in, make_user, new_context):
    page = sign_in(make_user(Role.ADMIN))
    stolen = page.context.cookies()
    thief = new_context(stolen)
    thief.goto("/admin/users")
    expect(thief.get_by_role("heading", name="用户", exact=True)).to_be_visible()  # the copy works for now
    page.get_by_role("button", name="退出").click()
    page.wait_for_url("**/login")
    thief.goto("/admin/users")
    assert is_sign_in_page(thief)


def test_a_password_change_signs_out_every_tab_and_revokes_the_tokens(sign_in, make_user, new_context):
    clerk = make_user(Role.COUNTY)
    _token, secret = create_token(clerk, "报表同步", date.today() + timedelta(days=30))
    db.session.commit()
    clerk_tab = new_context()
    clerk_tab.goto("/login")
    clerk_tab.get_by_label("用户名").fill(clerk.username)
    clerk_tab.get_by_label("密码").fill("correct-horse-1")
    clerk_tab.get_by_role("button", name="登录").click()
    clerk_tab.wait_for_url("**/dashboard")
    assert clerk_tab.request.get("/api/v1/stats/coverage",
                                 headers={"Authorization": f"Bearer {secret}"}).status == 200

    admin = sign_in(make_user(Role.ADMIN))
    admin.goto(f"/admin/users/{clerk.id}/edit")
    admin.get_by_label("密码").fill("lantern-river-stone-42")
    admin.get_by_role("button", name="保存").click()
    admin.wait_for_url("**/admin/users")

    clerk_tab.reload()
    assert is_sign_in_page(clerk_tab)
    assert clerk_tab.request.get("/api/v1/stats/coverage",
                                 headers={"Authorization": f"Bearer {secret}"}).status == 401


def test_a_token_opens_no_page(make_user, new_context):
    admin = make_user(Role.ADMIN)
    _token, secret = create_token(admin, "脚本", date.today() + timedelta(days=30))
    db.session.commit()
    program = new_context()
    program.set_extra_http_headers({"Authorization": f"Bearer {secret}"})
    program.goto("/admin/users")
    assert is_sign_in_page(program)
    api = program.request.get("/api/v1/stats/coverage", headers={"Authorization": f"Bearer {secret}"})
    assert api.status == 200, "the same token opens the API"


def test_creating_a_token_after_ten_minutes_asks_for_the_password_again(sign_in, make_user):
    user = make_user(Role.COUNTY)
    page = sign_in(user)
    db.session.execute(sa.update(UserSession).where(UserSession.user_id == user.id)
                       .values(password_confirmed_at=utcnow() - timedelta(minutes=11)))
    db.session.commit()
    page.goto("/account/tokens")
    page.get_by_label("名称").fill("学籍系统同步")
    page.get_by_role("button", name="创建令牌").click()
    expect(page.get_by_role("heading", name="确认身份")).to_be_visible()
    page.get_by_label("密码").fill("correct-horse-1")
    page.get_by_role("button", name="确认").click()
    page.wait_for_url("**/account/tokens")
    page.get_by_label("名称").fill("学籍系统同步")
    page.get_by_role("button", name="创建令牌").click()
    expect(page.locator("#new-token")).to_be_visible()
