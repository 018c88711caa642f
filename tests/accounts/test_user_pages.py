"""The administrator's user pages: every role can be edited, moved, disabled and given a new password."""
import pytest
import sqlalchemy as sa

from registry.accounts.models import User
from registry.core.roles import Role
from registry.core.audit import AuditEvent
from registry.core.db import db


@pytest.fixture
def organisations(make_agency, make_institution):
    return {"agencies": [make_agency(), make_agency()], "institutions": [make_institution(), make_institution()]}


def scope_fields(role: Role, organisations, which: int) -> dict:
    """The form fields that bind a user of this role to its first (0) or second (1) county or organisation."""
    if role is Role.COUNTY:
        return {"county_code": ("410221", "410225")[which], "organization_id": ""}
    if role is Role.AGENCY:
        return {"county_code": "", "organization_id": organisations["agencies"][which].id}
    return {"county_code": "", "organization_id": organisations["institutions"][which].id}


def edit(client, user: User, role: Role, scope: dict, **fields):
    data = {"username": user.username, "display_name": user.display_name, "role": role.value, **scope} | fields
    return client.post(f"/admin/users/{user.id}/edit", data={k: v for k, v in data.items() if v is not None})


def scope_of(user: User) -> tuple:
    return user.role, user.county_code, user.agency_id, user.institution_id


@pytest.mark.parametrize("role", [Role.COUNTY, Role.AGENCY, Role.INSTITUTION], ids=lambda role: role.value)
def test_admin_edits_moves_disables_and_resets_a_scoped_user(client, login, make_user, organisations, role):
    first = scope_fields(role, organisations, 0)
    user = make_user(role, county_code=first["county_code"] or None, organization_id=first["organization_id"] or None)
    login(make_user(Role.ADMIN))
    assert client.get(f"/admin/users/{user.id}/edit").status_code == 200

    renamed = edit(client, user, role, first, display_name="新的显示名", is_active="y")
    assert renamed.status_code == 302, renamed.get_data(as_text=True)
    assert user.display_name == "新的显示名"

    second = scope_fields(role, organisations, 1)
    assert edit(client, user, role, second, is_active="y").status_code == 302
    assert scope_of(user) == (role, second["county_code"] or None,
                              second["organization_id"] if role is Role.AGENCY else None,
                              second["organization_id"] if role is Role.INSTITUTION else None)

    assert edit(client, user, role, second).status_code == 302  # the 启用 box left unticked
    assert user.is_active is False

    assert edit(client, user, role, second, is_active="y", password="river-lantern-stone-42").status_code == 302
    assert user.is_active and user.check_password("river-lantern-stone-42")
    actions = db.session.scalars(sa.select(AuditEvent.action).where(
        AuditEvent.entity_type == "user", AuditEvent.entity_id == str(user.id)).order_by(AuditEvent.id)).all()
    assert actions == ["create", "update", "update", "update", "update"]


def test_admin_changes_a_users_role_and_scope_together(client, login, make_user, organisations):
    user = make_user(Role.COUNTY, county_code="410221")
    login(make_user(Role.ADMIN))
    institution = organisations["institutions"][0]
    response = edit(client, user, Role.INSTITUTION, {"county_code": "", "organization_id": institution.id},
                    is_active="y")
    assert response.status_code == 302
    assert scope_of(user) == (Role.INSTITUTION, None, None, institution.id)


def test_a_bad_scope_is_explained_and_changes_nothing(client, login, make_user):
    user = make_user(Role.COUNTY, county_code="410221")
    login(make_user(Role.ADMIN))
    response = edit(client, user, Role.AGENCY, {"county_code": "", "organization_id": 99999}, is_active="y")
    assert response.status_code == 200 and "评价机构 99999 不存在" in response.get_data(as_text=True)
    db.session.expire_all()
    assert scope_of(user) == (Role.COUNTY, "410221", None, None)
