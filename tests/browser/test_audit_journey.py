"""A county official runs a sampling audit (抽查) end to end in the browser on the served app: draws the
sample, records findings, the agency answers in the app, the official closes it; each role sees only its own."""
from datetime import date

import pytest
from playwright.sync_api import expect

from registry.core.db import db
from registry.core.roles import Role

pytestmark = pytest.mark.browser


@pytest.fixture
def world(make_agency, make_user, approved_batch):
    from registry.certificates.operations import issue_batch

    scope = [("6-18-02-04", None, 5, 3, "2024-01-01", None)]
    audited = make_agency(name="被抽查的评价中心", county_code="410221", scopes=scope)
    other = make_agency(name="另一评价中心", county_code="410221", scopes=scope)
    for agency in (audited, other):
        issue_batch(None, approved_batch(agency=agency, passed=4, failed=0), date(2025, 5, 20))
    db.session.commit()
    return {
        "county": make_user(Role.COUNTY, county_code="410221", username="qixian-official"),
        "other_county": make_user(Role.COUNTY, county_code="410222", username="tongxu-official"),
        "agency": make_user(Role.AGENCY, organization_id=audited.id, username="audited-agency"),
        "other_agency": make_user(Role.AGENCY, organization_id=other.id, username="other-agency"),
        "audited": audited,
    }


def sign_out(page):
    page.get_by_role("button", name="退出").click()


def test_a_sampling_audit_from_draw_to_close(page, sign_in, world):
    # The county official draws 3 of the agency's 4 certificates; asking for 5 is refused first.
    sign_in(world["county"])
    page.goto("/oversight/audits/new")
    page.get_by_label("评价机构").select_option(label="被抽查的评价中心")
    page.get_by_label("发证日期自").fill("2025-01-01")
    page.get_by_label("发证日期至").fill("2025-12-31")
    page.get_by_label("抽查数量（本）").fill("5")
    page.get_by_role("button", name="抽取样本").click()
    expect(page.get_by_text("只发放了 4 本证书，不能抽查 5 本").first).to_be_visible()
    page.get_by_label("抽查数量（本）").fill("3")
    page.get_by_label("随机种子（可选，留空则随机生成并记录）").fill("20261204")
    page.get_by_role("button", name="抽取样本").click()
    expect(page.get_by_text("已抽取 3 本证书（随机种子 20261204）")).to_be_visible()
    audit_url = page.url
    assert page.locator("table.audit-items tbody tr").count() == 3
    # Each sampled certificate links to its certificate and batch.
    expect(page.locator("table.audit-items a[href^='/certificates/']")).to_have_count(3)
    expect(page.locator("table.audit-items a[href^='/assessment/batches/']")).to_have_count(3)

    page.get_by_label("第 1 项抽查结论").select_option(label="符合要求")
    page.get_by_role("button", name="记录第 1 项").click()
    page.get_by_label("第 2 项抽查结论").select_option(label="发现问题")
    page.get_by_label("第 2 项问题说明").fill("考生签到表缺失")
    page.get_by_role("button", name="记录第 2 项").click()
    page.get_by_label("抽查小结").fill("先试着结束")
    page.get_by_role("button", name="结束抽查").click()
    expect(page.get_by_text("第 3 项尚未记录抽查结论").first).to_be_visible()
    page.get_by_label("第 3 项抽查结论").select_option(label="符合要求")
    page.get_by_role("button", name="记录第 3 项").click()
    page.get_by_label("抽查小结").fill("先试着结束")
    page.get_by_role("button", name="结束抽查").click()
    expect(page.get_by_text("第 2 项发现的问题机构尚未答复").first).to_be_visible()
    sign_out(page)

    # Scope: another county and another agency see no audit, and its address is not found for them.
    for outsider in (world["other_county"], world["other_agency"]):
        sign_in(outsider)
        page.goto("/oversight/audits")
        expect(page.get_by_text("暂无抽查")).to_be_visible()
        assert page.goto(audit_url).status == 404
        sign_out(page)

    # The agency answers item 2 in the app; it has no finding form and cannot close.
    sign_in(world["agency"])
    page.goto("/oversight/audits")
    page.get_by_role("link", name="抽查 #").first.click()
    expect(page.get_by_role("button", name="结束抽查")).to_have_count(0)
    page.get_by_label("第 2 项机构答复").fill("已补交签到表扫描件")
    page.get_by_role("button", name="答复第 2 项").click()
    expect(page.get_by_text("第 2 项已答复。")).to_be_visible()
    sign_out(page)

    sign_in(world["county"])
    page.goto(audit_url)
    page.get_by_label("抽查小结").fill("抽查 3 本，1 本缺签到表，机构已补交")
    page.get_by_role("button", name="结束抽查").click()
    expect(page.get_by_text("已结束").first).to_be_visible()
    expect(page.get_by_text("抽查小结：抽查 3 本，1 本缺签到表，机构已补交")).to_be_visible()
    expect(page.get_by_role("button", name="结束抽查")).to_have_count(0)
