"""Who is calling: an API token (Authorization: Bearer …), or for reads a signed-in browser session."""
from datetime import UTC, timedelta
from functools import wraps

from flask import g, make_response, request
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from registry.accounts.models import User
from registry.core.roles import Role
from registry.api.errors import ApiError
from registry.api.tokens import token_for_secret
from registry.core.db import db, utcnow

# Recording every use would make each read a write; an hour's precision is what the token page needs.
LAST_USED_PRECISION = timedelta(hours=1)
API_PREFIX = "/api/v1/"


def bearer_secret() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    return secret.strip() if scheme.lower() == "bearer" and secret.strip() else None


def user_from_token(current_request) -> User | None:
    """Flask-Login's request loader: a token signs a program in for the API and nothing else. Anywhere else (the
    pages, which take form posts with a CSRF token anyone can get) a request with only a token is anonymous."""
    if not current_request.path.startswith(API_PREFIX):
        return None
    secret = bearer_secret()
    token = token_for_secret(secret) if secret else None
    if token is None:
        return None
    last = token.last_used_at
    # SQLite hands timestamps back without their zone; they were written in UTC.
    if last is None or utcnow() - (last if last.tzinfo else last.replace(tzinfo=UTC)) > LAST_USED_PRECISION:
        token.last_used_at = utcnow()  # committed with the call's own transaction (api_access)
    g.api_token = token
    return token.user


def api_access(*roles: Role):
    """The roles that may call the view. Writes need a token: the API takes no CSRF token, so a browser
    session must never be enough to change anything through it."""

    def decorator(view):
        @wraps(view)
        def gated(*args, **kwargs):
            g.api_user = _caller()
            if g.api_user.role not in roles:
                raise ApiError(403)
            response = make_response(view(*args, **kwargs))
            # The one place an API call's transaction ends well; every failure is rolled back by the
            # error handlers (registry/api/errors.py).
            if response.status_code >= 400:
                db.session.rollback()
                return response
            try:
                db.session.commit()
            except IntegrityError:
                # A concurrent request won a race for the same unique value (an Idempotency-Key, a serial).
                db.session.rollback()
                raise ApiError(409, "与同时提交的另一请求冲突，请稍后重试") from None
            return response

        gated.allowed_roles = frozenset(roles)
        return gated

    return decorator


def _caller() -> User:
    if bearer_secret() is not None:
        user = user_from_token(request)
        if user is None:
            raise ApiError(401, "API 令牌无效、已过期或已撤销")
        return user
    if request.method in ("GET", "HEAD") and current_user.is_authenticated:
        return current_user._get_current_object()
    raise ApiError(401)
