"""An official reads the lists as a clerk does: newest first, statuses as badges, nothing broken mid-word,
the whole width of the screen used and the administrator's menu on one line at 1366 px."""
from datetime import date

import pytest

from registry.certificates.operations import issue_batch, revoke_certificate
from registry.core.db import db
from registry.core.roles import Role

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1366, "height": 768}


@pytest.fixture
def records(make_class, make_institution, approved_batch):
    institution = make_institution(name="开封市演示职业培训学校")
    for month, name in ((3, "三月焊工班"), (9, "九月焊工班"), (6, "六月焊工班")):
        make_class(institution, name=name, starts_on=date(2025, month, 1), ends_on=date(2025, month, 28))
    older = approved_batch(passed=1, failed=1, assessed_on=date(2025, 2, 10))
    newer = approved_batch(passed=2, failed=1, assessed_on=date(2025, 8, 10))
    issue_batch(None, older, date(2025, 3, 1))
    revoke_certificate(None, issue_batch(None, newer, date(2025, 9, 1))[0], "核查发现冒名顶替")
    db.session.commit()
    return newer


def column(page, index: int) -> list[str]:
    return [text.strip() for text in page.locator(f"table.grid tbody tr td:nth-child({index})").all_inner_texts()]


def test_lists_open_newest_first_with_badges(sign_in, make_user, records):
    page = sign_in(make_user(Role.ADMIN))
    page.set_viewport_size(LAPTOP)
    page.goto("/training/classes")
    assert column(page, 1) == ["九月焊工班", "六月焊工班", "三月焊工班"]
    assert page.locator("table.grid tbody .badge").first.inner_text() == "计划中"
    page.goto("/certificates")
    issued = column(page, 8)
    assert issued == sorted(issued, reverse=True) and issued[0] == "2025-09-01"
    badges = page.locator("table.grid tbody td:nth-child(9) .badge")
    assert set(badges.all_inner_texts()) == {"已撤销", "有效"}
    assert "badge-bad" in page.locator(".badge", has_text="已撤销").first.get_attribute("class")
    page.goto("/assessment/batches")
    assert column(page, 5)[0] == "2025-08-10"
    # One wording for a result everywhere: the batch page says 合格/不合格, as the results file and person page do.
    page.goto(f"/assessment/batches/{records.id}")
    assert sorted(page.locator("table.grid tbody .badge").all_inner_texts()) == ["不合格", "合格", "合格"]
    assert "通过" not in page.locator("main").inner_text()
    page.goto("/admin/audit")
    times = column(page, 1)
    assert times == sorted(times, reverse=True)


def test_cells_keep_whole_words_and_the_page_its_width(sign_in, make_user, records):
    page = sign_in(make_user(Role.ADMIN))
    page.set_viewport_size({"width": 1024, "height": 768})
    page.goto("/certificates")
    for cell in ("td:nth-child(8)", "td:nth-child(9) .badge", "td:nth-child(2)"):
        element = page.locator(f"table.grid tbody tr {cell}").first
        assert element.evaluate("e => getComputedStyle(e).whiteSpace") == "nowrap", cell
    page.set_viewport_size(LAPTOP)
    page.goto("/training/classes")
    assert page.locator("main").evaluate("e => e.getBoundingClientRect().width") > 1300
    tops = page.locator("nav.menu a").evaluate_all("links => links.map(a => Math.round(a.getBoundingClientRect().top))")
    assert len(tops) >= 16 and len(set(tops)) == 1, tops  # every admin menu entry on one line
