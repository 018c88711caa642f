"""Server-side sign-in sessions: the browser's (signed) cookie carries a random key, and the session counts only
while its row in user_sessions exists and is young enough. Ending a session deletes the row, so a copy of the
cookie is refused afterwards. The caller commits."""
import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from registry.accounts.models import User, UserSession
from registry.core.db import as_utc, db, utcnow

# The name of the key in Flask's session cookie.
COOKIE_KEY = "session_key"
# However active, a session ends this long after sign-in: a stolen cookie is not good forever.
SESSION_LIFETIME = timedelta(hours=12)
# Pages that mint credentials (API tokens, users) want the password typed this recently.
REAUTHENTICATION_WINDOW = timedelta(minutes=10)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def start_session(user: User) -> str:
    """A new session for a user who has just typed the password; returns the key for the cookie."""
    now = utcnow()
    # Expired rows are removed here rather than by a scheduled job: the table stays small on its own.
    db.session.execute(sa.delete(UserSession).where(UserSession.created_at < now - SESSION_LIFETIME)
                       .execution_options(synchronize_session=False))
    key = secrets.token_urlsafe(32)
    db.session.add(UserSession(user_id=user.id, key_sha256=_digest(key), created_at=now,
                               password_confirmed_at=now))
    return key


def live_session(key: str | None) -> UserSession | None:
    """The session this cookie key belongs to, if it still counts (not ended, not expired, its user active)."""
    if not key:
        return None
    # Its user, and the county, agency or institution every page names as the user's scope, come in the same
    # statement: on PostgreSQL each statement is a round trip (docs/BENCHMARKS.md, PostgreSQL beside SQLite).
    user = joinedload(UserSession.user)
    scope = (user.joinedload(User.county), user.joinedload(User.agency), user.joinedload(User.institution))
    user_session = db.session.scalar(sa.select(UserSession).where(UserSession.key_sha256 == _digest(key))
                                     .options(*scope))
    if user_session is None or as_utc(user_session.created_at) + SESSION_LIFETIME <= utcnow():
        return None
    return user_session if user_session.user.is_active else None


def signed_in_user(user_id: str, key: str | None) -> User | None:
    """Flask-Login's user loader: the user named in the cookie, if the cookie's session still counts."""
    user_session = live_session(key)
    if user_session is None or str(user_session.user_id) != user_id:
        return None
    return user_session.user


def end_session(key: str | None) -> None:
    if key:
        db.session.execute(sa.delete(UserSession).where(UserSession.key_sha256 == _digest(key))
                           .execution_options(synchronize_session="fetch"))


def end_all_sessions(user: User) -> None:
    """Every browser the user is signed in on must sign in again (a password change, a disabled account)."""
    db.session.execute(sa.delete(UserSession).where(UserSession.user_id == user.id)
                       .execution_options(synchronize_session="fetch"))


def confirm_password(user_session: UserSession | None) -> None:
    if user_session is not None:  # None: the session ran out meanwhile, and the next page asks to sign in
        user_session.password_confirmed_at = utcnow()


def password_recently_confirmed(user_session: UserSession | None) -> bool:
    return user_session is not None and \
        as_utc(user_session.password_confirmed_at) + REAUTHENTICATION_WINDOW > utcnow()
