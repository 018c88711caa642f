"""A county official opens the cockpit at 1366×768 and reads their county's own figures without scrolling; an
admin choosing that county reads the same."""
import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from registry.core.db import db
from registry.core.roles import Role
from registry.reference.operations import set_target

pytestmark = pytest.mark.browser

TODAY = date.today()
LAPTOP = {"width": 1366, "height": 768}


@pytest.fixture
def qixian(make_batch, make_person):
    """杞县: 3 holders 60 days ago and 2 ten days ago (5 in the 90 days), holders target 20."""
    from registry.assessment.operations import approve_batch, record_result
    from registry.certificates.operations import issue_batch

    for count, days_ago in ((3, 60), (2, 10)):
        day = TODAY - timedelta(days=days_ago)
        batch = make_batch(assessed_on=day)
        for _ in range(count):
            record_result(None, batch, make_person(county_code="410221"), theory=85, practical=85)
        approve_batch(None, batch)
        issue_batch(None, batch, issued_on=day)
    set_target(None, "skilled_holders_total", "410221", 2025, "0.002")  # 20 persons
    db.session.commit()


def holders_card(page) -> str:
    card = page.locator("#card-holders")
    expect(card).to_be_in_viewport(ratio=1)
    return re.sub(r"\s+", "", card.inner_text())


def test_the_county_official_reads_their_county_in_the_first_screen(qixian, make_user, sign_in, page):
    page.set_viewport_size(LAPTOP)
    official = make_user(Role.COUNTY, county_code="410221")
    sign_in(official)
    page.get_by_role("link", name="持证统计").first.click()
    expect(page.get_by_role("heading", name=re.compile("^杞县"))).to_be_visible()
    assert page.evaluate("window.scrollY") == 0
    card = holders_card(page)
    # 5 of 20 = 25.0 %; 5 in 90 days → 15 more take 270 days.
    reached_on = (TODAY + timedelta(days=270)).isoformat()
    for expected in ("持证人员5", "目标20", "完成25.0%", "尚差15", f"预计达标{reached_on}", "全市5"):
        assert expected in card, (expected, card)
    page.get_by_role("button", name="退出").click()

    sign_in(make_user(Role.ADMIN))
    page.goto("/stats")
    page.locator("select[name=county]").select_option("410221")
    page.get_by_role("button", name="查看").click()
    expect(page.get_by_role("heading", name=re.compile("^杞县"))).to_be_visible()
    assert holders_card(page) == card


def overflow(page, selector: str) -> dict:
    """How far an element's content runs past its box, and the page past the window, in pixels."""
    return page.evaluate("""selector => {
        const box = document.querySelector(selector);
        return {box: box.scrollWidth - box.clientWidth,
                page: document.documentElement.scrollWidth - document.documentElement.clientWidth};
    }""", selector)


def test_the_county_table_fits_a_laptop_screen_with_the_rest_behind_a_toggle(qixian, make_user, sign_in, page):
    page.set_viewport_size(LAPTOP)
    sign_in(make_user(Role.ADMIN))
    page.goto("/stats")
    table = page.locator("#counties")
    expect(table).to_be_visible()
    headers = [re.sub(r"[\s▲▼]", "", text) for text in table.locator("thead th").all_inner_texts()]
    assert headers[:4] == ["县区", "持证人员", "持证目标", "持证完成率（%）"] and "按此进度达标日期" in headers
    assert overflow(page, "#counties-wrap") == {"box": 0, "page": 0}
    qixian_row = re.sub(r"\s+", "", page.locator("#county-410221").inner_text())
    assert "25.0%" in qixian_row and "五级" not in headers  # the level columns wait behind the toggle

    more = page.locator("#counties-more")
    expect(more).to_be_hidden()
    page.get_by_text(re.compile("^更多列")).click()
    expect(more).to_be_visible()
    more_headers = [re.sub(r"[\s▲▼]", "", text) for text in more.locator("thead th").all_inner_texts()]
    assert more_headers[0] == "县区" and "五级" in more_headers and "结业人次" in more_headers
    assert overflow(page, "#counties-more-wrap") == {"box": 0, "page": 0}
