"""An employer checks a certificate in the browser: the QR address, the file, an edited copy, a revocation."""
import hashlib
import re
import shutil
import subprocess
from datetime import date, datetime, timedelta, timezone

import pytest
from playwright.sync_api import expect

from registry.core.roles import Role
from registry.assessment.operations import approve_batch, record_result
from registry.certificates.operations import issue_batch
from registry.certificates.pdf_signature import unsigned_prefix
from registry.core.db import db

pytestmark = pytest.mark.browser

HOLDER, MASKED_HOLDER = "王建国", "王*国"
AGENCY_NAME = "开封市祥符区焊接职业技能评价中心"
REASON = "经核查，考生冒名顶替参加认定"
CHINA = timezone(timedelta(hours=8))  # the verify page gives the revocation date in China time


AGENCY = dict(name=AGENCY_NAME, scopes=[("6-18-02-04", None, 5, 3, "2024-01-01", None)])  # the `agency` fixture (tests/conftest.py)


def tool(name: str) -> str:
    return shutil.which(name) or pytest.fail(f"{name} is missing: scripts/system-deps installs it")


def scan(pdf: bytes, tmp_path) -> str:
    """What a phone does with the printed page: read the QR code off the picture of it."""
    path = tmp_path / "certificate.pdf"
    path.write_bytes(pdf)
    subprocess.run([tool("pdftoppm"), "-r", "150", "-png", "-singlefile", str(path), str(tmp_path / "page")],
                   check=True)
    return subprocess.run([tool("zbarimg"), "-q", "--raw", str(tmp_path / "page.png")], capture_output=True,
                          text=True, check=True).stdout.strip()


def edited(pdf: bytes) -> bytes:
    """The file as a PDF editor saves it: an incremental update appended, every page looking the same."""
    previous = re.findall(rb"startxref\s+(\d+)", pdf)[-1]
    return pdf + b"\n% saved again by an editor\nstartxref\n" + previous + b"\n%%EOF\n"


@pytest.fixture
def certificate(app, live_server, agency, make_batch, make_person):
    # The QR holds the public address: here the server under test, so opening the scanned URL reaches it.
    app.config["PUBLIC_URL"] = live_server
    batch = make_batch(agency=agency)
    record_result(None, batch, make_person(name=HOLDER), theory=88, practical=91)
    approve_batch(None, batch)
    (issued,) = issue_batch(None, batch, date(2025, 6, 1))
    db.session.commit()
    return issued


@pytest.fixture
def visitor(browser, live_server):
    """Someone who is not signed in: the employer holding the certificate."""
    context = browser.new_context(base_url=live_server, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def upload(page, name: str, data: bytes) -> None:
    page.goto("/verify/upload")
    page.get_by_label(re.compile("证书 PDF 文件")).set_input_files(
        {"name": name, "mimeType": "application/pdf", "buffer": data})
    page.get_by_role("button", name="核验").click()


def test_scan_upload_edit_and_revoke(sign_in, make_user, agency, certificate, visitor, live_server, tmp_path):
    staff = sign_in(make_user(Role.AGENCY, organization_id=agency.id))
    staff.goto(f"/certificates/{certificate.id}")
    href = staff.get_by_role("link", name="下载证书（PDF）").get_attribute("href")
    issued_pdf = staff.request.get(href).body()  # the holder's copy, as the agency handed it out
    # Signed by the registry (PAdES): the stored hash is of the unsigned rendering the file begins with.
    assert hashlib.sha256(unsigned_prefix(issued_pdf)).hexdigest() == certificate.pdf_sha256

    qr_url = scan(issued_pdf, tmp_path)
    assert qr_url.startswith(f"{live_server}/verify/{certificate.number}?")
    visitor.goto(qr_url)
    expect(visitor.locator(".outcome-valid")).to_contain_text("证书有效")
    expect(visitor.get_by_text("二维码签名有效")).to_be_visible()
    fields = visitor.locator("table.fields").first
    for label, value in (("姓名", MASKED_HOLDER), ("证书编号", certificate.number), ("职业名称", "焊工"),
                         ("职业技能等级", "四级/中级工"), ("评价机构", AGENCY_NAME), ("发证日期", "2025-06-01"),
                         ("证件号码", certificate.snapshot["document_masked"])):
        expect(fields.locator("tr", has=visitor.locator("th", has_text=label))).to_contain_text(value)
    expect(visitor.locator("body")).not_to_contain_text(HOLDER)
    visitor.screenshot(path=tmp_path / "valid.png")

    upload(visitor, f"{certificate.number}.pdf", issued_pdf)
    expect(visitor.get_by_role("status")).to_contain_text("与签发文件完全一致")
    expect(visitor.get_by_role("status")).to_contain_text(certificate.number)
    expect(visitor.locator("#pdf-signature")).to_contain_text("PDF数字签名有效")

    upload(visitor, "证书（修改）.pdf", edited(issued_pdf))
    verdict = visitor.get_by_role("alert")  # a mismatch is announced as an alert
    expect(verdict).to_contain_text("文件与签发的证书不一致")
    expect(verdict).to_contain_text(f"文件声称是证书 {certificate.number}")
    expect(verdict).not_to_contain_text("完全一致")
    expect(visitor.locator("#pdf-signature")).to_contain_text("签名不覆盖整个文件")

    staff.get_by_role("link", name="撤销证书").click()
    staff.get_by_label("撤销原因").fill(REASON)
    staff.once("dialog", lambda dialog: dialog.accept())
    staff.get_by_role("button", name="确认撤销").click()
    expect(staff.get_by_text(f"证书 {certificate.number} 已撤销。")).to_be_visible()

    visitor.goto(qr_url)
    revoked_on = datetime.now(CHINA).date().isoformat()
    outcome = visitor.locator(".outcome-revoked")
    expect(outcome).to_contain_text("证书已撤销")
    expect(outcome).to_contain_text(f"撤销日期：{revoked_on}")
    expect(outcome).to_contain_text(f"原因：{REASON}")
    expect(visitor.locator(".outcome-valid")).to_have_count(0)
    visitor.screenshot(path=tmp_path / "revoked.png")
