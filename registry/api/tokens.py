"""Creating, revoking and checking API tokens."""
import hashlib
import secrets
from datetime import date, timedelta

import sqlalchemy as sa

from registry.accounts.models import User
from registry.accounts.operations import credentials_revoked
from registry.api.models import ApiToken
from registry.core.audit import record_event
from registry.core.db import db, utcnow
from registry.core.errors import InvalidInput

PREFIX = "kfr_"
MAX_DAYS = 366
MAX_TOKENS = 20


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(actor: User, name: str, expires_on: date, today: date | None = None) -> tuple[ApiToken, str]:
    """A new token for the actor; the secret is returned once and never stored."""
    today = today or date.today()
    name = (name or "").strip()
    if not name:
        raise InvalidInput("name", "名称：不能为空")
    if len(name) > 60:
        raise InvalidInput("name", "名称：最多60个字")
    if not today < expires_on <= today + timedelta(days=MAX_DAYS):
        raise InvalidInput("expires_on", f"有效期至：应在明天至 {MAX_DAYS} 天之内")
    if len(active_tokens(actor)) >= MAX_TOKENS:
        raise InvalidInput("name", f"名称：每人最多 {MAX_TOKENS} 个有效令牌，请先撤销不用的令牌")
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=actor.id, name=name, prefix=secret[:12], secret_sha256=_digest(secret),
                     expires_on=expires_on)
    db.session.add(token)
    db.session.flush()
    record_event(actor, "create", "api_token", token.id,
                 after={"name": name, "prefix": token.prefix, "expires_on": expires_on.isoformat()})
    return token, secret


def revoke_token(actor: User, token: ApiToken) -> None:
    if token.user_id != actor.id:
        raise InvalidInput(None, "只能撤销自己的令牌")
    if token.revoked_at is not None:
        raise InvalidInput(None, "该令牌已撤销")
    token.revoked_at = utcnow()
    record_event(actor, "revoke", "api_token", token.id, after={"name": token.name, "prefix": token.prefix})


@credentials_revoked.connect
def revoke_all_tokens(user: User, actor: User | None = None, reason: str = "") -> None:
    """A password changed or an account disabled: every token the user had stops working, for good (enabling the
    account again brings none back). Connected to the accounts package's signal, in the same transaction."""
    now = utcnow()
    for token in db.session.scalars(sa.select(ApiToken).where(ApiToken.user_id == user.id,
                                                              ApiToken.revoked_at.is_(None))):
        token.revoked_at = now
        record_event(actor, "revoke", "api_token", token.id,
                     after={"name": token.name, "prefix": token.prefix, "reason": reason})


def active_tokens(user: User) -> list[ApiToken]:
    return list(db.session.scalars(sa.select(ApiToken).where(
        ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None), ApiToken.expires_on >= date.today())
        .order_by(ApiToken.id)))


def user_tokens(user: User) -> list[ApiToken]:
    return list(db.session.scalars(sa.select(ApiToken).where(ApiToken.user_id == user.id)
                                   .order_by(ApiToken.id.desc())))


def token_for_secret(secret: str) -> ApiToken | None:
    """The usable token this secret belongs to, or None (unknown, revoked, expired, or its user disabled)."""
    if not secret.startswith(PREFIX):
        return None
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.secret_sha256 == _digest(secret)))
    return token if token is not None and token.is_usable(date.today()) else None
