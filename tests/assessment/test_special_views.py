"""The pages of 专项职业能力: the administrator files an agency for items (audited, withdrawable); the agency
plans a batch only of an item it is filed for, and the batch pages show the item and no level."""
import sqlalchemy as sa

from registry.assessment.models import AssessmentBatch
from registry.core.audit import AuditEvent
from registry.core.db import db
from registry.core.roles import Role
from registry.reference.models import SpecialItem
from tests.helpers import count


def item_id(code: str) -> int:
    return db.session.scalar(sa.select(SpecialItem.id).where(SpecialItem.code == code))


def test_the_admin_files_and_withdraws_an_item_and_the_agency_plans_a_batch_of_it(client, login, make_user,
                                                                                 make_agency):
    agency = make_agency()
    login(make_user())
    page = client.get(f"/admin/agencies/{agency.id}").get_data(as_text=True)
    assert "专项职业能力备案" in page and "尚未备案专项职业能力项目" in page and "杞县砂锅制作（KF-ZX-002）" in page
    response = client.post(f"/admin/agencies/{agency.id}/special-items",
                           data={"special_item_id": item_id("KF-ZX-002"), "filed_on": "2024-01-01"})
    assert response.status_code == 302
    again = client.post(f"/admin/agencies/{agency.id}/special-items",
                        data={"special_item_id": item_id("KF-ZX-002"), "filed_on": "2024-01-01"})
    assert "已备案 杞县砂锅制作" in again.get_data(as_text=True)
    assert count(AuditEvent, AuditEvent.action == "file_special_item") == 1

    login(make_user(Role.AGENCY, organization_id=agency.id))
    form = client.get("/assessment/batches/new-special").get_data(as_text=True)
    assert "杞县砂锅制作" in form and "汴绣制作" not in form, "an agency sees only the items it is filed for"
    refused = client.post("/assessment/batches/new-special", data={
        "special_item_id": item_id("KF-ZX-001"), "assessed_on": "2025-05-10", "county_code": "410221"})
    assert "未备案“汴绣制作”" in refused.get_data(as_text=True) and count(AssessmentBatch) == 0
    created = client.post("/assessment/batches/new-special", data={
        "special_item_id": item_id("KF-ZX-002"), "assessed_on": "2025-05-10", "county_code": "410221"})
    batch = db.session.scalar(sa.select(AssessmentBatch))
    assert created.headers["Location"].endswith(f"/assessment/batches/{batch.id}")
    detail = client.get(f"/assessment/batches/{batch.id}").get_data(as_text=True)
    assert "专项职业能力：杞县砂锅制作" in detail and "不分等级" in detail
    listing = client.get("/assessment/batches").get_data(as_text=True)
    assert "专项职业能力：杞县砂锅制作" in listing
    upload = client.get(f"/assessment/batches/{batch.id}/results/upload").get_data(as_text=True)
    assert "导入认定成绩 · 专项职业能力：杞县砂锅制作 不分等级 2025-05-10" in upload
    assert "编辑批次" not in detail, "a 专项 batch is not edited as an occupation batch"


def test_withdrawing_a_filing_is_audited(client, login, make_user, make_agency):
    from datetime import date

    from registry.organizations.special_filing import file_special_item

    agency = make_agency()
    file_special_item(None, agency, item_id("KF-ZX-003"), date(2024, 1, 1))
    db.session.commit()
    login(make_user())
    client.post(f"/admin/agencies/{agency.id}/special-items/{item_id('KF-ZX-003')}/withdraw")
    db.session.expire_all()
    assert not agency.files_special_item(item_id("KF-ZX-003"))
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "withdraw_special_item"))
    assert event.before["name"] == "通许烧鸡制作"
    assert client.post(f"/admin/agencies/{agency.id}/special-items/{item_id('KF-ZX-003')}/withdraw").status_code == 404


def test_the_admin_plans_a_special_batch_for_a_filed_agency(client, login, make_user, make_agency):
    from datetime import date

    from registry.organizations.special_filing import file_special_item

    filed, other = make_agency(), make_agency()
    file_special_item(None, filed, item_id("KF-ZX-004"), date(2024, 1, 1))
    db.session.commit()
    login(make_user())
    form = client.get("/assessment/batches/new-special").get_data(as_text=True)
    assert filed.name in form and "祥符仿真花制作（KF-ZX-004）" in form
    refused = client.post("/assessment/batches/new-special", data={
        "agency_id": other.id, "special_item_id": item_id("KF-ZX-004"), "assessed_on": "2025-05-10",
        "county_code": "410221"})
    assert f"{other.name} 未备案“祥符仿真花制作”" in refused.get_data(as_text=True)
    client.post("/assessment/batches/new-special", data={
        "agency_id": filed.id, "special_item_id": item_id("KF-ZX-004"), "assessed_on": "2025-05-10",
        "county_code": "410221"})
    batch = db.session.scalar(sa.select(AssessmentBatch))
    assert (batch.agency_id, batch.special_item_id, batch.level) == (filed.id, item_id("KF-ZX-004"), None)
