"""A county official's home page (/dashboard) opens on their county against its targets."""
import re

from registry.core.db import db
from registry.core.roles import Role
from registry.reference.operations import set_target
from tests.stats.test_county_desk import card


def test_a_county_officials_home_shows_their_countys_cards_with_the_city_beside(client, login, make_user,
                                                                               approved_batch):
    from registry.certificates.operations import issue_batch

    issue_batch(None, approved_batch(passed=3, failed=0))  # 3 holders in 杞县
    set_target(None, "skilled_holders_total", "410221", 2025, "0.001")  # 10 persons
    db.session.commit()
    login(make_user(Role.COUNTY, county_code="410221"))
    page = client.get("/dashboard").get_data(as_text=True)
    assert re.search(r'<h2 id="home-desk-heading">杞县目标进度', page)
    holders = card(page, "holders")
    for expected in ("持证人员3", "目标10", "完成30.0%", "尚差7", "全市3/1,350,000（135万）"):
        assert expected in holders, (expected, holders)
    assert 'href="/stats"' in page


def test_other_roles_have_no_county_panel(client, login, make_user, make_institution):
    login(make_user(Role.ADMIN))
    assert "home-desk-heading" not in client.get("/dashboard").get_data(as_text=True)
