"""Certificates that travel, in the browser: an employer's bulk check (upload → signed download) and a holder's
share link (created by the agency, opened by an employer, revoked → 410)."""
import io
import zipfile
from datetime import date

import openpyxl
import pytest
from playwright.sync_api import expect

from registry.assessment.operations import approve_batch, record_result
from registry.certificates import signing
from registry.certificates.operations import issue_batch
from registry.certificates.rendering import signing_key
from registry.core.db import db
from registry.core.roles import Role
from tests.helpers import xlsx_bytes

pytestmark = pytest.mark.browser

HOLDER = "欧阳建国"
AGENCY = dict(scopes=[("6-18-02-04", None, 5, 3, "2024-01-01", None)])  # the `agency` fixture (tests/conftest.py)


@pytest.fixture
def certificate(app, live_server, agency, make_batch, make_person):
    batch = make_batch(agency=agency)
    record_result(None, batch, make_person(name=HOLDER), theory=88, practical=91)
    approve_batch(None, batch)
    (issued,) = issue_batch(None, batch, date(2025, 6, 1))
    db.session.commit()
    return issued


@pytest.fixture
def visitor(browser, live_server):
    """Someone who is not signed in: the employer."""
    context = browser.new_context(base_url=live_server, locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def test_an_employer_uploads_a_list_and_downloads_the_signed_answer(visitor, certificate, tmp_path):
    listing = xlsx_bytes([(certificate.number, HOLDER), (certificate.number, "欧阳建军"),
                          ("S000041900001254999999", "赵六")], ["证书编号", "姓名"])
    visitor.goto("/verify/bulk")
    visitor.get_by_label("名单文件").set_input_files(
        {"name": "名单.xlsx", "mimeType": "application/octet-stream", "buffer": listing})
    with visitor.expect_download() as download:
        visitor.get_by_role("button", name="核查并下载结果").click()
    path = tmp_path / "answer.zip"
    download.value.save_as(path)
    archive = zipfile.ZipFile(path)
    workbook_name = next(name for name in archive.namelist() if name.endswith(".xlsx"))
    workbook, signature = archive.read(workbook_name), archive.read(workbook_name + ".sig")
    assert signing.is_file_authentic(signing_key().public_key(), workbook, signature)
    rows = list(openpyxl.load_workbook(io.BytesIO(workbook)).active.iter_rows(min_row=2, max_row=4, values_only=True))
    assert [row[3] for row in rows] == ["有效", "姓名不符", "未找到"]

    visitor.get_by_label("名单文件").set_input_files(
        {"name": "证书.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.7 not a list"})
    visitor.get_by_role("button", name="核查并下载结果").click()
    expect(visitor.get_by_role("alert")).to_contain_text("文件不是 Excel (.xlsx) 或 CSV 表格")


def test_a_share_link_is_created_opened_and_revoked(sign_in, make_user, agency, certificate, visitor):
    staff = sign_in(make_user(Role.AGENCY, organization_id=agency.id))
    staff.goto(f"/certificates/{certificate.id}")
    staff.get_by_role("link", name="分享链接").click()
    staff.get_by_label("有效天数").fill("7")
    staff.get_by_role("button", name="创建分享链接").click()
    link = staff.locator("#new-link").input_value()
    assert "/share/" in link

    answer = visitor.goto(link)
    assert answer.status == 200
    expect(visitor.locator("table")).to_contain_text(HOLDER)
    expect(visitor.get_by_role("status")).to_contain_text("证书当前状态：有效")

    # The list, not the form's answer again (reloading that would post a second link): the view counted.
    staff.goto(f"/certificates/{certificate.id}/share-links")
    row = staff.locator("tbody tr").first
    expect(row).to_contain_text("有效")
    expect(row.locator("td").nth(5)).to_have_text("1")
    staff.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="撤销").click()
    expect(staff.get_by_text("分享链接已撤销")).to_be_visible()

    gone = visitor.goto(link)
    assert gone.status == 410
    expect(visitor.get_by_role("heading", level=1)).to_have_text("分享链接已失效")
    expect(visitor.get_by_role("alert")).to_contain_text("被撤销")
    expect(visitor.locator("body")).not_to_contain_text(HOLDER)
