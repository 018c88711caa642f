"""A token authenticates /api/v1 and nothing else: with only a Bearer header no page opens, and with an
anonymous CSRF token nothing can be changed through the pages."""
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from registry.accounts.models import User
from registry.core.roles import Role
from registry.api.models import ApiToken
from registry.core.audit import AuditEvent
from registry.core.db import db
from tests.conftest import csrf_token_from

PAGES = ["/dashboard", "/admin/users", "/admin/users/new", "/admin/audit", "/account/tokens", "/people",
         "/training/classes", "/stats"]


def sent_to_login(response) -> bool:
    return response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("path", PAGES)
def test_a_token_opens_no_page(api, make_user, token_for, path):
    secret = token_for(make_user(Role.ADMIN))
    assert sent_to_login(api.get(path, token=secret))


def test_the_token_still_calls_the_api(api, make_user, token_for):
    secret = token_for(make_user(Role.ADMIN))
    assert api.get("/api/v1/classes", token=secret).status_code == 200
    assert api.get("/api/v1/stats/coverage", token=secret).status_code == 200


@pytest.mark.csrf
def test_a_token_with_an_anonymous_csrf_token_changes_nothing(client, api, make_user, make_person, token_for):
    secret = token_for(make_user(Role.ADMIN))
    person = make_person()
    csrf = csrf_token_from(client.get("/login").get_data(as_text=True))  # anyone can get one
    tokens_before = db.session.scalar(sa.select(sa.func.count(ApiToken.id)))
    attempts = {
        "/admin/users/new": {"username": "intruder", "role": "admin", "county_code": "",
                             "password": "river-lantern-stone-42", "is_active": "y"},
        "/account/tokens": {"name": "more", "expires_on": (date.today() + timedelta(days=30)).isoformat()},
        f"/people/{person.id}/reveal": {},
    }
    for path, data in attempts.items():
        assert sent_to_login(api.post(path, token=secret, data={"csrf_token": csrf, **data})), path
    assert db.session.scalar(sa.select(User.id).where(User.username == "intruder")) is None
    assert db.session.scalar(sa.select(sa.func.count(ApiToken.id))) == tokens_before
    assert db.session.scalar(sa.select(AuditEvent.id).where(AuditEvent.action == "reveal")) is None
