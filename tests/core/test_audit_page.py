"""The audit log page reads as Chinese for an official: who (name and role), what, on which object (a link),
before and after side by side, newest first, with filters and an .xlsx export."""
import io
from datetime import datetime, timezone

import openpyxl
import pytest

from registry.core.audit import record_event
from registry.core.db import db
from registry.core.roles import Role


@pytest.fixture
def events(app, make_user, make_class):
    clerk = make_user(Role.COUNTY, username="zhangsan")
    clerk.display_name = "张三"
    training_class = make_class(name="焊工一班")
    record_event(clerk, "update", "training_class", training_class.id,
                 before={"name": "焊工班", "planned_hours": 80}, after={"name": "焊工一班", "planned_hours": 80})
    record_event(clerk, "login", "user", clerk.id)
    db.session.commit()
    return clerk, training_class


def test_actions_actors_objects_and_changes_read_in_chinese(events, make_user, login):
    clerk, training_class = events
    html = login(make_user(username="chief")).get("/admin/audit").get_data(as_text=True)
    assert "张三（县区人社部门）" in html and "user 1" not in html
    assert "修改" in html and "登录" in html and ">update<" not in html
    assert f'<a href="/training/classes/{training_class.id}">培训班 {training_class.id}</a>' in html
    assert "<th scope=\"row\">名称</th><td><del>焊工班</del></td><td><ins>焊工一班</ins></td>" in html
    table = html[html.index("<tbody>"):]
    assert table.index('"nw">登录<') < table.index('"nw">修改<')  # newest first


def test_filters_by_action_actor_object_and_dates(events, make_user, login):
    clerk, training_class = events
    client = login(make_user(username="chief"))
    only_edits = client.get(f"/admin/audit?action=update&actor={clerk.id}&entity_type=training_class"
                            f"&entity_id={training_class.id}").get_data(as_text=True)
    assert "焊工一班" in only_edits and "登录</td>" not in only_edits
    today = datetime.now(timezone.utc).date()
    assert "暂无记录" in client.get("/admin/audit?date_to=2000-01-01").get_data(as_text=True)
    assert "焊工一班" in client.get(f"/admin/audit?date_from={today}").get_data(as_text=True)
    page = client.get("/admin/audit").get_data(as_text=True)
    assert '<select name="action">' in page and '<select name="actor">' in page and 'type="date"' in page


def test_export_is_an_xlsx_in_chinese(events, make_user, login):
    client = login(make_user(username="chief"))
    response = client.get("/admin/audit?action=update&format=xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("时间（北京时间）", "操作人", "IP地址", "操作", "对象", "变更内容")
    assert rows[1][1] == "张三（县区人社部门）" and rows[1][3:] == ("修改", f"培训班 {events[1].id}", "名称：焊工班 → 焊工一班；计划学时：80 → 80")
