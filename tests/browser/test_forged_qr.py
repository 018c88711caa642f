"""A QR code that was altered or signed with another key: the verify page leads with the warning, names the
signed field that differs, and shows no green 有效 box under it."""
from datetime import date
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from registry.assessment.operations import approve_batch, record_result
from registry.certificates import rendering, signing
from registry.certificates.operations import issue_batch
from registry.core.db import db

pytestmark = pytest.mark.browser


@pytest.fixture
def genuine_qr(app, live_server, make_batch, make_person):
    app.config["PUBLIC_URL"] = live_server
    batch = make_batch()
    record_result(None, batch, make_person(name="王建国"), theory=88, practical=91)
    approve_batch(None, batch)
    (issued,) = issue_batch(None, batch, date(2025, 6, 1))
    db.session.commit()
    return issued, signing.qr_text(signing.sign(rendering.signing_key(), issued.snapshot), live_server)


def test_an_altered_name_leads_with_the_warning_and_names_the_field(page, genuine_qr):
    _certificate, text = genuine_qr
    page.goto(text.replace("n=" + quote("王*国"), "n=" + quote("李*国")))
    first = page.locator("main .outcome").first
    expect(first).to_have_class("outcome qr-forged")
    expect(first).to_contain_text("姓名：二维码为“李*国”，登记记录为“王*国”")
    assert page.locator(".outcome-valid, .qr-valid").count() == 0


def test_a_signature_from_another_key_says_so(page, genuine_qr):
    certificate, _text = genuine_qr
    other = signing.load_private_key(signing.generate_signing_key())
    page.goto(signing.qr_text(signing.sign(other, certificate.snapshot), ""))
    expect(page.locator("main .outcome").first).to_contain_text("签名不是本系统的密钥签发的")
    assert page.locator(".outcome-valid").count() == 0


def test_a_genuine_qr_still_shows_the_green_answer(page, genuine_qr):
    _certificate, text = genuine_qr
    page.goto(text)
    expect(page.locator(".qr-valid")).to_be_visible()
    expect(page.locator(".outcome-valid")).to_contain_text("证书有效")
