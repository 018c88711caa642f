"""The institution's dashboard (首页) shows its work: classes in progress, completions waiting to be recorded
and its latest uploads (registry/training/home.py, a panel on registry/people's dashboard)."""
import io
import re
from datetime import date, timedelta

import pytest

from registry.core.db import db
from registry.core.roles import Role
from registry.training.models import ClassStatus
from registry.training.operations import change_class_status, enroll_person
from tests.helpers import resident_id, xlsx_bytes

TODAY = date.today()


@pytest.fixture
def institution_user(make_institution, make_user):
    return make_user(Role.INSTITUTION, organization_id=make_institution().id)


def section(html: str, section_id: str) -> str:
    return re.search(rf'<section class="home-panel" id="{section_id}".*?</section>', html, re.S).group(0)


def test_the_institution_home_lists_running_classes_pending_completions_and_recent_imports(
        client, login, institution_user, make_class, make_person, make_institution):
    own = institution_user.institution
    running = make_class(institution=own, name="在培焊工班", status=ClassStatus.RUNNING,
                         starts_on=TODAY - timedelta(days=10), ends_on=TODAY + timedelta(days=20))
    ended = make_class(institution=own, name="已结束焊工班", status=ClassStatus.RUNNING,
                       starts_on=TODAY - timedelta(days=60), ends_on=TODAY - timedelta(days=30))
    for training_class in (running, ended, ended):
        enroll_person(None, training_class, make_person(), training_class.starts_on)
    change_class_status(None, ended, ClassStatus.FINISHED)
    make_class(name="别家的班", status=ClassStatus.RUNNING, starts_on=TODAY, ends_on=TODAY + timedelta(days=5))
    db.session.commit()
    login(institution_user)
    client.post(f"/training/classes/{running.id}/roster", content_type="multipart/form-data", data={
        "file": (io.BytesIO(xlsx_bytes([[resident_id(7), "王五"]], ["证件号码", "姓名"])), "三月名单.xlsx")})

    html = client.get("/dashboard").get_data(as_text=True)
    assert "在培焊工班" in section(html, "classes-running") and "已结束焊工班" not in section(html, "classes-running")
    pending = section(html, "completions-pending")
    assert "已结束焊工班" in pending and re.search(r'<td class="num">2</td>', pending) and "在培焊工班" not in pending
    imports = section(html, "recent-imports")
    assert "三月名单.xlsx" in imports and "学员名单" in imports and "在培焊工班" in imports
    assert "别家的班" not in html


def test_other_roles_get_no_institution_panel(client, login, make_user):
    login(make_user(Role.ADMIN))
    assert 'class="home-panel"' not in client.get("/dashboard").get_data(as_text=True)
