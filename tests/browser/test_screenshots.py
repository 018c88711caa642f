"""Screenshots for review (not a check): each role's first screen and a certificate, at 1366 and 390 px.

Runs only when REGISTRY_SHOTS_DIR names a folder: `REGISTRY_SHOTS_DIR=... pytest tests/browser/test_screenshots.py`.
"""
import os
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest

from registry.core.db import db
from registry.core.roles import Role

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not os.environ.get("REGISTRY_SHOTS_DIR"), reason="REGISTRY_SHOTS_DIR not set")]
WIDTHS = {"1366": {"width": 1366, "height": 900}, "390": {"width": 390, "height": 844}}


@pytest.fixture
def registry_in_use(app, live_server, make_user, make_agency, make_institution, make_class, make_person,
                    approved_batch):
    from registry.certificates.operations import issue_batch
    from registry.organizations.credit_code import credit_code_check_char
    from registry.training.models import ClassStatus
    from registry.training.operations import enroll_person

    app.config["PUBLIC_URL"] = live_server
    code = "91410200MA40ABCD1" + credit_code_check_char("91410200MA40ABCD1")
    agency = make_agency(name="开封市焊接职业技能评价中心", credit_code=code,
                         scopes=[("6-18-02-04", None, 5, 3, "2024-01-01", None)])
    institution = make_institution(name="开封市阳光职业培训学校")
    today = date.today()
    running = make_class(institution, name="焊工（四级）培训班", status=ClassStatus.RUNNING,
                         starts_on=today - timedelta(days=10), ends_on=today + timedelta(days=20))
    for name in ("王建国", "李秀英", "张伟"):
        enroll_person(None, running, make_person(name=name))
    certificates = issue_batch(None, approved_batch(agency=agency, passed=3, failed=1), date(2025, 6, 1))
    users = {role: make_user(role, **extra) for role, extra in (
        (Role.ADMIN, {}), (Role.COUNTY, {"county_code": "410221"}),
        (Role.AGENCY, {"organization_id": agency.id}), (Role.INSTITUTION, {"organization_id": institution.id}))}
    db.session.commit()
    return users, certificates[0]


def test_take_screenshots(browser, live_server, registry_in_use, tmp_path):
    users, certificate = registry_in_use
    folder = Path(os.environ["REGISTRY_SHOTS_DIR"])
    for role, user in users.items():
        for label, size in WIDTHS.items():
            context = browser.new_context(base_url=live_server, locale="zh-CN", viewport=size)
            page = context.new_page()
            page.goto("/login")
            page.get_by_label("用户名").fill(user.username)
            page.get_by_label("密码").fill("correct-horse-1")
            page.get_by_role("button", name="登录").click()
            page.wait_for_url("**/dashboard")
            page.screenshot(path=folder / f"{role.value}-home-{label}.png", full_page=True)
            if role is Role.AGENCY:
                page.goto(f"/certificates/{certificate.id}")
                page.screenshot(path=folder / f"certificate-page-{label}.png", full_page=True)
                page.goto(f"/verify/{certificate.number}")
                page.screenshot(path=folder / f"verify-page-{label}.png", full_page=True)
                pdf = page.request.get(f"/certificates/{certificate.id}/pdf").body()
                (tmp_path / "certificate.pdf").write_bytes(pdf)
                (folder / "certificate.pdf").write_bytes(pdf)
            context.close()
    subprocess.run(["pdftoppm", "-r", "60", "-png", "-singlefile", str(tmp_path / "certificate.pdf"),
                    str(folder / "certificate-pdf")], check=True)
