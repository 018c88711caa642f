"""API tokens: shown once, stored hashed, carry the user's role and scope, and stop working when revoked."""
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from registry.core.roles import Role
from registry.api.models import ApiToken
from registry.api.tokens import create_token, revoke_token
from registry.core.audit import AuditEvent
from registry.core.db import db
from registry.core.errors import InvalidInput


def test_the_secret_is_stored_only_as_a_hash(make_user):
    user = make_user(Role.ADMIN)
    token, secret = create_token(user, "学籍系统", date.today() + timedelta(days=10))
    db.session.commit()
    row = db.session.execute(sa.select(ApiToken.__table__)).mappings().one()
    assert secret.startswith("kfr_") and secret not in str(dict(row)) and row["prefix"] == secret[:12]
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.entity_type == "api_token")) is not None


@pytest.mark.parametrize("name, days, message", [
    ("", 10, "名称：不能为空"), ("x" * 61, 10, "最多60个字"), ("ok", 0, "有效期至"), ("ok", 400, "有效期至")])
def test_bad_token_requests_are_refused(make_user, name, days, message):
    with pytest.raises(InvalidInput, match=message):
        create_token(make_user(Role.ADMIN), name, date.today() + timedelta(days=days))


def test_a_token_works_until_revoked_or_expired(api, make_user, token_for, app):
    user = make_user(Role.ADMIN)
    secret = token_for(user)
    assert api.get("/api/v1/classes", token=secret).status_code == 200
    token = db.session.scalar(sa.select(ApiToken))
    assert token.last_used_at is not None
    revoke_token(user, token)
    db.session.commit()
    refused = api.get("/api/v1/classes", token=secret)
    assert refused.status_code == 401 and refused.get_json()["error"] == "unauthorized"
    expired = token_for(user, expires_on=date.today() + timedelta(days=1))
    db.session.execute(sa.update(ApiToken).where(ApiToken.revoked_at.is_(None))
                       .values(expires_on=date.today() - timedelta(days=1)))
    db.session.commit()
    assert api.get("/api/v1/classes", token=expired).status_code == 401
    assert api.get("/api/v1/classes", token="kfr_made-up").status_code == 401
    assert api.get("/api/v1/classes").status_code == 401


def test_a_disabled_users_token_stops_working(api, make_user, token_for):
    user = make_user(Role.ADMIN)
    secret = token_for(user)
    user.is_active = False
    db.session.commit()
    assert api.get("/api/v1/classes", token=secret).status_code == 401


def test_the_token_page_shows_the_secret_once_and_revokes(client, login, make_user):
    user = make_user(Role.ADMIN)
    login(user)
    page = client.post("/account/tokens", data={"name": "考务系统", "expires_on": (date.today() + timedelta(days=30)).isoformat()})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "请立即复制保存" in html
    secret = html.split('<code id="new-token">')[1].split("</code>")[0]
    assert secret.startswith("kfr_")
    listing = client.get("/account/tokens").get_data(as_text=True)
    assert secret not in listing and "考务系统" in listing and "有效" in listing
    token = db.session.scalar(sa.select(ApiToken))
    assert client.post(f"/account/tokens/{token.id}/revoke").status_code == 302
    assert "已撤销" in client.get("/account/tokens").get_data(as_text=True)


def test_nobody_revokes_another_users_token(client, login, make_user):
    owner = make_user(Role.ADMIN)
    token, _secret = create_token(owner, "a", date.today() + timedelta(days=5))
    db.session.commit()
    login(make_user(Role.ADMIN))
    assert client.post(f"/account/tokens/{token.id}/revoke").status_code == 404
