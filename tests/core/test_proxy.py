"""Behind a configured reverse proxy the audit log records the client's address, not the proxy's."""
import sqlalchemy as sa

from registry import create_app
from registry.core.audit import AuditEvent
from registry.core.db import db


def test_forwarded_address_is_trusted_only_when_configured(app, make_user):
    user = make_user()
    proxied = create_app(dict(app.config) | {"PROXY_COUNT": 1})
    headers = {"X-Forwarded-For": "203.0.113.9"}
    proxied.test_client().post("/login", data={"username": user.username, "password": "x"}, headers=headers)
    app.test_client().post("/login", data={"username": user.username, "password": "x"}, headers=headers)
    addresses = db.session.scalars(sa.select(AuditEvent.ip_address).where(AuditEvent.action == "login_failed")
                                   .order_by(AuditEvent.id)).all()
    assert addresses == ["203.0.113.9", "127.0.0.1"]
