"""A new user signs in and out in a real browser, with CSRF protection on."""
import pytest
from playwright.sync_api import expect

from registry.core.roles import Role

pytestmark = pytest.mark.browser


def test_wrong_password_stays_on_login_with_message(page, make_user):
    user = make_user()
    page.goto("/login")
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill("not-the-password")
    page.get_by_role("button", name="登录").click()
    # The answer is the same address: wait for the page that says so rather than read the old one.
    expect(page.get_by_text("用户名或密码不正确")).to_be_visible()


def test_admin_signs_in_sees_menu_and_signs_out(sign_in, make_user):
    page = sign_in(make_user(Role.ADMIN, username="cityadmin"))
    expect(page.get_by_role("heading", name="开封市 · 市人社局管理员")).to_be_visible()
    expect(page.get_by_role("link", name="审计日志").first).to_be_visible()
    page.get_by_role("button", name="退出").click()
    page.wait_for_url("**/login")
    expect(page.get_by_text("已退出登录")).to_be_visible()


def test_county_official_sees_only_own_menu(sign_in, make_user):
    page = sign_in(make_user(Role.COUNTY, county_code="410221"))
    expect(page.get_by_role("heading", name="杞县 · 县区人社部门")).to_be_visible()
    assert page.get_by_role("link", name="审计日志").count() == 0
    page.goto("/admin/audit")
    expect(page.get_by_role("heading", name="403")).to_be_visible()
