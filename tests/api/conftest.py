"""API fixtures: a token for a user, and a client that sends it."""
from datetime import date, timedelta

import pytest

from registry.api.tokens import create_token
from registry.core.db import db


@pytest.fixture
def token_for(app):
    def factory(user, expires_on: date | None = None) -> str:
        _token, secret = create_token(user, "测试令牌", expires_on or date.today() + timedelta(days=30))
        db.session.commit()
        return secret

    return factory


@pytest.fixture
def api(client):
    """client.<method>(path, token=..., json=...) with the bearer header set."""
    class Api:
        def __getattr__(self, method):
            def call(path, token=None, headers=None, **kwargs):
                headers = dict(headers or {})
                if token:
                    headers["Authorization"] = f"Bearer {token}"
                return getattr(client, method)(path, headers=headers, **kwargs)
            return call

    return Api()
