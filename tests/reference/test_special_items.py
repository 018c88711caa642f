"""The 专项职业能力 catalogue page (admin): items added with Chinese errors, stopped and restarted, audited; a
stopped item takes no new filing or batch."""
from datetime import date

import pytest
import sqlalchemy as sa

from registry.core.audit import AuditEvent
from registry.core.db import db
from registry.core.errors import Forbidden, InvalidInput
from registry.core.roles import Role
from registry.organizations.special_filing import file_special_item
from registry.reference.models import SpecialItem
from registry.reference.special_items import add_special_item
from tests.helpers import count


@pytest.fixture
def admin_client(client, login, make_user):
    login(make_user())
    return client


def test_the_admin_adds_stops_and_restarts_an_item(admin_client, make_agency):
    page = admin_client.get("/admin/special-items").get_data(as_text=True)
    assert "汴绣制作" in page and "示例项目" in page
    response = admin_client.post("/admin/special-items", data={"code": " hn-zx-101 ", "name": "朱仙镇木版年画制作",
                                                              "source": "河南省专项职业能力考核项目目录"})
    assert response.status_code == 302
    item = db.session.scalar(sa.select(SpecialItem).where(SpecialItem.code == "HN-ZX-101"))
    assert item.name == "朱仙镇木版年画制作" and item.is_active
    admin_client.post(f"/admin/special-items/{item.id}/active", data={"active": "0"})
    db.session.expire_all()
    assert not item.is_active
    with pytest.raises(InvalidInput, match="未知或已停用的项目"):
        file_special_item(None, make_agency(), item.id, date(2024, 1, 1))
    admin_client.post(f"/admin/special-items/{item.id}/active", data={"active": "1"})
    db.session.expire_all()
    assert item.is_active
    actions = db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.entity_type == "special_item")
                                 .order_by(AuditEvent.id)).all()
    assert actions == ["create", "update", "update"]


@pytest.mark.parametrize(("data", "message"), [
    ({"code": "", "name": "某项目"}, "项目编码：应为2–20位大写字母、数字或连字符，实为“（空）”"),
    ({"code": "KF_ZX", "name": "某项目"}, "项目编码：应为2–20位大写字母、数字或连字符，实为“KF_ZX”"),
    ({"code": "KF-ZX-001", "name": "某项目"}, "项目编码：KF-ZX-001 已存在"),
    ({"code": "KF-ZX-900", "name": ""}, "项目名称：不能为空"),
    ({"code": "KF-ZX-900", "name": "汴绣制作"}, "项目名称：汴绣制作 已在目录中"),
])
def test_bad_input_is_refused_in_chinese(admin_client, data, message):
    before = count(SpecialItem)
    response = admin_client.post("/admin/special-items", data=data)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert count(SpecialItem) == before


def test_only_the_admin_keeps_the_catalogue(client, login, make_user, agency):
    login(make_user(Role.AGENCY, organization_id=agency.id))
    assert client.get("/admin/special-items").status_code == 403
    with pytest.raises(Forbidden):
        add_special_item(make_user(Role.AGENCY, organization_id=agency.id), "KF-ZX-900", "某项目")
