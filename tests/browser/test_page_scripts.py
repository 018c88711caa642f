"""The scripts in static/js do their jobs under the Content-Security-Policy, and no page trips the policy.

script-src 'self' and style-src 'self' mean a forgotten inline handler or style attribute silently stops
working in the browser: each page here is opened with the console watched for the policy's refusals.
"""
import io
import re
from datetime import date, timedelta

import pytest
from PIL import Image
from playwright.sync_api import expect

from registry.core.roles import Role
from registry.certificates.operations import issue_batch
from registry.core.db import db
from registry.people.photos import upload_photo

pytestmark = pytest.mark.browser

TODAY = date.today()


@pytest.fixture
def served_environment():
    # Two certificates are "many": the task worker builds the batch files, behind a progress page.
    return {"REGISTRY_BATCH_OUTPUT_INLINE_LIMIT": "1"}


@pytest.fixture
def refusals(page):
    """Every Content-Security-Policy refusal the browser reports on the console, or any script error."""
    found: list[str] = []
    page.on("console", lambda message: found.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.on("pageerror", lambda error: found.append(str(error)))
    return found


@pytest.fixture
def world(make_agency, make_user, approved_batch):
    agency = make_agency(scopes=[("6-18-02-04", None, 5, 3, "2024-01-01", None)])
    batch = approved_batch(agency=agency, passed=2, failed=0)
    certificates = issue_batch(None, batch)
    photo = io.BytesIO()
    Image.new("RGB", (300, 400), "navy").save(photo, "JPEG")
    upload_photo(None, certificates[0].person, photo.getvalue())
    db.session.commit()
    return {"admin": make_user(Role.ADMIN), "agency": make_user(Role.AGENCY, organization_id=agency.id),
            "batch": batch, "certificate": certificates[0]}


def test_pages_with_charts_bars_photos_and_the_public_layout_trip_no_policy(page, sign_in, world, refusals):
    sign_in(world["admin"])
    page.goto("/stats")
    charts = page.locator("figure svg.chart")
    expect(charts.first).to_be_visible()
    assert charts.first.bounding_box()["width"] > 300  # the chart layout comes from the style sheet
    bar = page.locator(".progress svg.bar").first
    assert bar.bounding_box()["width"] > 50 and bar.bounding_box()["height"] > 5  # the cards' bars are 8 px
    page.goto(f"/people/{world['certificate'].person_id}/photo")
    assert page.locator("img.holder-photo").bounding_box()["width"] <= 210
    page.goto("/api/docs")
    page.locator("details.api-operation summary").first.click()
    page.goto(f"/verify/{world['certificate'].number}")
    outcome = page.locator(".outcome")
    assert outcome.evaluate("element => getComputedStyle(element).borderLeftStyle") == "solid"  # verify.css
    assert refusals == []


def test_a_large_batch_file_downloads_by_itself_once_built(page, sign_in, world, refusals):
    sign_in(world["agency"])
    with page.expect_download() as download:
        page.goto(f"/assessment/batches/{world['batch'].id}/certificates.zip")
    assert download.value.suggested_filename == f"认定批次{world['batch'].id}-证书.zip"
    expect(page.locator("#output-ready")).to_be_visible()
    assert refusals == []


def test_revoking_asks_only_once_a_reason_is_given(page, sign_in, world, refusals):
    sign_in(world["agency"])
    page.goto(f"/certificates/{world['certificate'].id}/revoke")
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    with page.expect_navigation():
        page.get_by_role("button", name="确认撤销").click()  # no reason: the server names the missing field
    assert dialogs == []
    expect(page.get_by_text("撤销原因").first).to_be_visible()
    page.get_by_label("撤销原因").fill("证书信息录入错误")
    page.get_by_role("button", name="确认撤销").click()
    assert dialogs == [f"确定撤销证书 {world['certificate'].number}？撤销后不能恢复。"]
    assert page.url.endswith("/revoke")  # declined: nothing was sent
    assert refusals == []


def test_the_import_report_filter_applies_on_change(page, sign_in, make_institution, make_user, make_class,
                                                    refusals):
    from registry.core import import_jobs
    from registry.training.models import ClassStatus

    institution = make_institution()
    user = make_user(Role.INSTITUTION, organization_id=institution.id)
    training_class = make_class(institution, status=ClassStatus.RUNNING,
                                starts_on=TODAY - timedelta(days=5), ends_on=TODAY + timedelta(days=30))
    roster = "证件号码,姓名,所在县区,入班日期\n410221199001010010,错号,杞县,2025-03-01\n"
    job = import_jobs.create_job(user, "roster", training_class.id, "roster.csv", roster.encode())
    db.session.commit()
    import_jobs.check_job(job.id)
    sign_in(user)
    page.goto(f"/imports/{job.id}")
    with page.expect_navigation():
        page.get_by_label("只看").select_option(label="错误")
    assert re.search(r"[?&]only=error\b", page.url)
    assert refusals == []


def test_a_certificate_pdf_still_opens_in_the_browsers_viewer(page, sign_in, world, refusals):
    """The policy (object-src 'none' included) rides on PDF answers too; Chromium's viewer must still load."""
    sign_in(world["agency"])
    path = f"/certificates/{world['certificate'].id}/pdf"
    answer = page.request.get(path)  # what the server sends (the navigation's response is the viewer's)
    assert answer.headers["content-type"] == "application/pdf"
    assert "object-src 'none'" in answer.headers["content-security-policy"]
    def viewer(frame) -> bool:
        return frame.url.startswith("chrome-extension://")

    with page.expect_event("framenavigated", predicate=viewer):
        page.goto(path)
    assert refusals == []
